"""AWS Lambda's lines between a Python function's records: the function's records as the
Python runtime writes them (its template, through the real ``logging`` module), and
Lambda's own lines as AWS documents them (START, END, REPORT with its measures,
INIT_START, a timeout, the runtime's line for an unhandled exception): no Lambda runs here.
Each of Lambda's lines is a record of its own, never glued into a function's traceback."""

from __future__ import annotations

import io
import logging
import time

import pytest
from logging_helpers import log_key_error, make_logger

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect
from logview.formats.lambda_platform import LambdaPlatformFormat
from logview.formats.linewise import is_continuation
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
