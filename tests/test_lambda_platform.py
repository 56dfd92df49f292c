"""AWS Lambda's lines between a Python function's records: the function's records as the
Python runtime writes them (its template, through the real ``logging`` module), and
Lambda's own lines as AWS documents them (START, END, REPORT with its measures,
INIT_START, a timeout, the runtime's line for an unhandled exception): no Lambda runs here.
Each of Lambda's lines is a record of its own, never glued into a function's traceback.
Read through ``aws logs tail`` too (its detailed format, as the AWS CLI writes an event: the
time, the log stream, the message; no CloudWatch here either)."""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from logging_helpers import log_key_error, make_logger
from server_helpers import file_records

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect
from logview.formats.lambda_platform import LambdaPlatformFormat
from logview.formats.linewise import is_continuation
from logview.formats.prefixed import PrefixedFormat
from logview.record import parse_raw_record

#: The Python runtime's format (``awslambdaric``'s ``LambdaLoggerHandler``).
RUNTIME = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
IDS = [f"8f507cfc-1b2c-4697-b07a-ac58fc91{i:04x}" for i in range(6)]


def _log() -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = logging.Formatter(RUNTIME, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    log = make_logger("fn", handler)
    stream.write("INIT_START Runtime Version: python:3.12.v18\tRuntime Version ARN: "
                 "arn:aws:lambda:eu-west-1::runtime:0cdcfbdefbc5e7d3\n")
    for n, rid in enumerate(IDS):
        stream.write(f"START RequestId: {rid} Version: $LATEST\n")
        extra = {"aws_request_id": rid}
        log.info("order %d received", n, extra=extra)
        if n == 1:
            log_key_error(log, "sku", "order %d failed", n, extra=extra)
        if n == 2:  # the runtime's unhandled exception
            stream.write("[ERROR] KeyError: 'cart'\nTraceback (most recent call last):\n"
                         '  File "/var/task/app.py", line 16, in handler\n'
                         "    cart = event['cart']\n")
        if n == 3:
            stream.write(f"2026-12-02T10:00:03.000Z {rid} Task timed out after 3.00 seconds\n")
        stream.write(f"END RequestId: {rid}\n")
        status = "\tStatus: timeout" if n == 3 else ""
        init = "\tInit Duration: 120.40 ms" if n == 0 else ""
        stream.write(f"REPORT RequestId: {rid}\tDuration: {2.33 + n:.2f} ms\tBilled Duration: "
                     f"{3 + n} ms\tMemory Size: 128 MB\tMax Memory Used: 38 MB{init}{status}\t\n")
    return stream.getvalue()


def _records(text: str):
    fmt = detect(text.splitlines()).format
    splitter = RecordSplitter(fmt)
    raws = splitter.feed(text.encode()) + splitter.flush()
    return fmt, [parse_raw_record(fmt, raw) for raw in raws]


def test_lambdas_lines_are_records_beside_the_functions():
    text = _log()
    fmt, records = _records(text)
    assert any(isinstance(part, LambdaPlatformFormat)
               for part in (getattr(fmt, "first", None), getattr(fmt, "second", None)))
    own = [r for r in records if r.logger != "lambda"]  # (the runtime names no logger)
    assert [r.message for r in own] == [f"order {n} received" for n in range(6)][:2] + [
        "order 1 failed"] + [f"order {n} received" for n in range(2, 6)]
    failed = next(r for r in own if r.message == "order 1 failed")
    assert failed.level == "ERROR" and failed.exc.rstrip().endswith("KeyError: 'sku'")
    assert "END RequestId" not in failed.exc  # (glued into it before)
    lam = [r for r in records if r.logger == "lambda"]
    assert sum(r.message.startswith("START RequestId") for r in lam) == 6
    reports = [r for r in lam if r.message.startswith("REPORT")]
    assert [r.fields["duration_ms"] for r in reports] == [2.33 + n for n in range(6)]
    assert reports[0].fields["init_duration_ms"] == 120.4
    assert all(r.fields["memory_size_mb"] == 128 for r in reports)
    assert {r.fields["request_id"] for r in reports} == set(IDS)
    unhandled = next(r for r in lam if r.message.startswith("[ERROR] KeyError"))
    assert unhandled.level == "ERROR" and "cart = event['cart']" in unhandled.exc
    timeout = [r for r in lam if r.level == "ERROR" and r is not unhandled]
    assert len(timeout) == 2  # the timeout's line and its REPORT's Status
    assert all(r.fields["request_id"] == IDS[3] for r in timeout)
    # every line a record, but a traceback's, which its record holds
    assert len(records) == sum(1 for line in text.splitlines() if not is_continuation(line))


@pytest.mark.parametrize("line", [
    "START RequestId: not-an-id Version: $LATEST", "[ERROR]\tlooks like the runtime's tab",
    "REPORTING RequestId: x", "  START RequestId: 8f507cfc-1b2c-4697-b07a-ac58fc914c95"])
def test_near_misses_are_no_lambda_lines(line):
    fmt = LambdaPlatformFormat()
    assert not fmt.is_start(line)
    assert fmt.start_pattern.match(line.encode()) is None


def _tailed(events: list[str], stream: str) -> str:
    """``aws logs tail``'s detailed lines for ``events``: the event's time in UTC to the
    microsecond (``isoformat``), the log stream, the message with its further lines as
    they are (the CLI writes ``'%s %s %s' % (time, stream, message)``)."""
    start = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    return "".join(
        f"{(start + timedelta(milliseconds=250 * k)).isoformat(timespec='microseconds')} "
        f"{stream} {event.rstrip()}\n" for k, event in enumerate(events))


def test_aws_logs_tail_of_a_lambda_function_reads_as_its_log(tmp_path):
    text = _log()
    # One event a record: the runtime sends a record with its traceback as one event.
    events: list[str] = []
    for line in text.splitlines():
        if events and is_continuation(line):
            events[-1] += "\n" + line
        else:
            events.append(line)
    stream = "2026/12/02/[$LATEST]0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    tailed = _tailed(events, stream)
    assert tailed.count("\n") > len(events)  # (tracebacks: lines without the prefix)
    fmt, records = _records(tailed)
    assert isinstance(fmt, PrefixedFormat) and fmt.prefix.name == "cloudwatch"
    _, plain = _records(text)
    assert [(r.level, r.logger, r.message) for r in records] == [  # (the CLI strips a line)
        (r.level, r.logger, r.message.rstrip()) for r in plain]
    assert [r.exc for r in records] == [r.exc for r in plain]
    assert all(r.fields["log_stream"] == stream for r in records)
    # Lambda's own lines take the event's time; the function's records keep their own.
    report = next(r for r in records if r.message.startswith("REPORT"))
    assert report.time == datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC)
    own = next(r for r in records if r.message == "order 0 received")
    assert own.time is not None and own.time.year == datetime.now(UTC).year
    assert sum(r.level == "ERROR" for r in records) == sum(r.level == "ERROR" for r in plain)
    path = tmp_path / "tail.log"  # the index cuts the same records
    path.write_text(tailed)
    assert [r.message for r in file_records(path)] == [r.message for r in records]


def test_aws_logs_tail_of_a_container_s_lines_keeps_each_traceback_with_its_record():
    """ECS's awslogs driver sends each line a container writes as an event of its own: a
    traceback's lines come each with the prefix, and stay with their record."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    log = make_logger("shop.views", handler)
    for n in range(6):
        log.info("served /item/%d", n)
        if n % 3 == 1:
            log_key_error(log, "cart", "checkout failed for %d", n)
    tailed = _tailed(stream.getvalue().splitlines(),
                     "ecs/web/0123456789abcdef0123456789abcdef")
    fmt, records = _records(tailed)
    assert isinstance(fmt, PrefixedFormat) and fmt.prefix.name == "cloudwatch"
    assert [(r.level, r.message) for r in records] == [
        ("INFO", "served /item/0"), ("INFO", "served /item/1"),
        ("ERROR", "checkout failed for 1"), ("INFO", "served /item/2"),
        ("INFO", "served /item/3"), ("INFO", "served /item/4"),
        ("ERROR", "checkout failed for 4"), ("INFO", "served /item/5")]
    assert all(r.exc.rstrip().endswith("KeyError: 'cart'") for r in records if r.level == "ERROR")
    assert all(r.logger == "shop.views" and r.time is not None for r in records)


_TAILED = detect(_tailed(["START RequestId: x", "[INFO]\t2026-12-02T10:00:00.000Z\tid\thi"] * 4,
                         "2026/12/02/[$LATEST]0a1b").splitlines()).format
_PIECES = ["2026-12-02T10:00:00.250000+00:00 ", "2026/12/02/[$LATEST]0a1b ", "ecs/web/0a1b ",
           "START RequestId: ", "[INFO]\t", "[ERROR] ", "Traceback (most recent call last):",
           "  File", " ", "KeyError: 'cart'", "\t", "\u256d ", "x"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join))
def test_tailed_bytes_and_text_start_tests_agree(line):
    assert isinstance(_TAILED, PrefixedFormat) and _TAILED.prefix.name == "cloudwatch"
    assert bool(_TAILED.start_pattern.match(line.encode())) == _TAILED.is_start(line)
