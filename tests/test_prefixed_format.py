"""Lines a container runtime or CI runner prefixed: the prefix comes off, the record inside is
read with its own format, tracebacks stay whole (real logging output, wrapped as the tools do)."""

from __future__ import annotations

import io
import logging

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from logging_helpers import log_chained_exception, log_key_error, make_logger
from test_infer import read_back

from logview.formats.detect import detect
from logview.formats.prefixed import PrefixedFormat


def _logging_lines(fmt: str, name: str, n: int = 12) -> list[str]:
    """Lines the real logging module writes: every level, one chained traceback."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(fmt))
    log = make_logger(name, handler)
    for i in range(n):
        log.log((logging.INFO, logging.WARNING, logging.ERROR)[i % 3], "step %d | done - ok", i)
        if i == 4:
            log_chained_exception(log, RuntimeError, "wrapped", "failed")
    log.handlers[:] = []
    return out.getvalue().splitlines()


def _blocks(lines: list[str]) -> list[list[str]]:
    """Lines grouped by record: a line opening with a time or a bracket starts one."""
    out: list[list[str]] = []
    for line in lines:
        if line[:1].isdigit() or line[:1] == "[" or not out:
            out.append([line])
        else:
            out[-1].append(line)
    return out


def _records(text: str):
    return read_back(text)


def test_docker_compose_services_each_read_with_their_own_format():
    web = _logging_lines("%(asctime)s %(levelname)s %(name)s: %(message)s", "app.views")
    worker = _logging_lines("[%(asctime)s: %(levelname)s/%(processName)s] %(message)s", "w")
    lines = ["Attaching to web-1, worker-1"]
    # compose interleaves the services' output; each record (a traceback with its line)
    # arrives in one write.
    for a, b in zip(_blocks(web), _blocks(worker), strict=True):
        lines += [f"web-1     | {x}" for x in a] + [f"worker-1  | {x}" for x in b]
    fmt, records = _records("\n".join(lines) + "\n")
    assert isinstance(fmt, PrefixedFormat), fmt
    web_records = [r for r in records if r.fields.get("service") == "web-1"]
    worker_records = [r for r in records if r.fields.get("service") == "worker-1"]
    assert len(web_records) == len(worker_records) == 13  # 12 + the exception record each
    assert {r.logger for r in web_records} == {"app.views"}
    assert all(r.level in ("INFO", "WARNING", "ERROR") for r in web_records + worker_records)
    assert all(r.message.startswith(("step", "failed")) for r in web_records + worker_records)
    failed = [r for r in records if r.message == "failed"]
    assert len(failed) == 2 and all("RuntimeError: wrapped" in (r.exc or "") for r in failed)
    assert records[0].message == "Attaching to web-1, worker-1"  # not the wrapper's: kept


def test_kubectl_timestamps_prefix_keeps_the_inner_record_and_its_traceback():
    inner = _logging_lines("%(asctime)s - %(name)s - %(levelname)s - %(message)s", "app.db")
    text = "".join(f"2024-01-05T10:11:{i % 60:02d}.{i:09d}Z {line}\n"
                   for i, line in enumerate(inner))
    fmt, records = _records(text)
    assert fmt.name == "timestamped+python-dash"
    assert len(records) == 13
    failed = next(r for r in records if r.message == "failed")
    assert failed.level == "ERROR" and failed.logger == "app.db"
    assert failed.exc.startswith("Traceback") and "RuntimeError: wrapped" in failed.exc
    assert "2024-01-05T" not in failed.exc  # the prefix came off every line
    assert failed.fields["stamp"].startswith("2024-01-05T10:11:")


@pytest.mark.parametrize("outer", ["compose", "kubectl"])
def test_a_runtimes_stamp_inside_a_services_or_pods_prefix_comes_off_too(outer):
    """``docker compose logs -t`` (the service, then the runtime's RFC 3339 stamp on every
    line) and ``kubectl logs --prefix --timestamps``: both wrappers come off, the program's
    records and tracebacks are read by its template (before, the inner stamp was read as
    the record's time and the rest as its message: no level, each traceback line a
    record)."""
    web = _logging_lines(logging.BASIC_FORMAT, "app.views")
    worker = _logging_lines(logging.BASIC_FORMAT, "app.tasks")
    heads = (("web-1     | ", "worker-1  | ") if outer == "compose"
             else ("[pod/web-7d9f/app] ", "[pod/worker-5c2a/app] "))
    lines = []
    n = 0
    for a, b in zip(_blocks(web), _blocks(worker), strict=True):
        for head, block in zip(heads, (a, b), strict=True):
            n += 1
            lines += [f"{head}2026-12-02T10:11:{n % 60:02d}.{n:09d}Z {x}" for x in block]
    fmt, records = _records("\n".join(lines) + "\n")
    assert isinstance(fmt, PrefixedFormat) and isinstance(fmt.inner, PrefixedFormat), fmt
    assert len(records) == 26  # 12 + the exception record, each
    assert {r.logger for r in records} == {"app.views", "app.tasks"}
    assert [r.level for r in records if r.logger == "app.views"] == [
        r.level for r in _records("\n".join(web) + "\n")[1]]
    failed = [r for r in records if r.message == "failed"]
    assert len(failed) == 2 and all(r.exc.startswith("Traceback") for r in failed)
    assert not any("2026-12-02T" in (r.exc or "") + r.message for r in records)
    assert all(r.time is not None and r.fields["stamp"].startswith("2026-12-02T10:11:")
               for r in records)


def test_a_programs_own_zoned_iso_time_is_no_wrapper_when_its_tracebacks_are_unstamped():
    """``%(asctime)s.%(msecs)03dZ`` with an ISO datefmt looks like kubectl's stamp, but a
    wrapper stamps every line: read as one, each traceback line was a record of its own."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s [%(name)s] %(message)s", "%Y-%m-%dT%H:%M:%S"))
    names = ("app", "app.db", "scrapy.core.engine", "urllib3.connectionpool", "worker.tasks")
    logs = [make_logger(name, handler) for name in names]
    levels = (logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING, logging.ERROR,
              logging.CRITICAL)
    for i in range(300):
        log = logs[i % len(logs)]
        if i % 37 == 3:
            log_key_error(log, f"k{i}", "job failed")
        elif i % 53 == 7:  # (a message of several lines: its lines are unstamped too)
            log.log(levels[i % len(levels)], "job %d report\nsecond line\nthird", i)
        else:
            log.log(levels[i % len(levels)], "job %d done with value=%d", i, i * 7)
    for log in logs:
        log.handlers[:] = []
    fmt, records = _records(out.getvalue())
    assert not isinstance(fmt, PrefixedFormat), fmt
    assert len(records) == 300 and {r.logger for r in records} == set(names)
    failed = [r for r in records if r.message == "job failed"]
    assert len(failed) == 9 and all(r.level == "ERROR" and r.time is not None for r in failed)
    assert all(r.exc.startswith("Traceback") and "KeyError: 'k" in r.exc for r in failed)
    reports = [r for r in records if r.message.startswith("job 7 report")]
    assert len(reports) == 1 and reports[0].message.endswith("second line\nthird")


def test_kubectl_prefix_with_json_inside():
    lines = [f'[pod/api-7d9c/app] {{"level": "warning", "message": "slow {i}", '
             f'"logger": "api"}}' for i in range(10)]
    fmt, records = _records("\n".join(lines) + "\n")
    assert fmt.name == "kubectl+jsonl"
    assert [r.level for r in records] == ["WARNING"] * 10
    assert records[3].message == "slow 3" and records[3].fields["pod"] == "pod/api-7d9c/app"


def test_a_template_that_opens_with_a_name_and_a_bar_is_no_compose_prefix():
    lines = _logging_lines("%(name)s | %(levelname)s | %(message)s", "billing")
    fmt, records = _records("\n".join(lines) + "\n")
    assert not isinstance(fmt, PrefixedFormat), fmt
    assert {r.logger for r in records} == {"billing"}


def test_a_prefix_before_plain_text_is_read_directly():
    lines = [f"2024-01-05T10:11:{i:02d}.000Z just some words {i}" for i in range(20)]
    fmt, records = _records("\n".join(lines) + "\n")
    assert not isinstance(fmt, PrefixedFormat)
    assert all(r.time is not None for r in records)


_WRAPPED = PrefixedFormat(
    next(p for p in __import__("logview.formats.prefixed", fromlist=["PREFIXES"]).PREFIXES
         if p.name == "compose"),
    detect(b"2024-01-05 10:11:14,002 ERROR app.views Failed\n" * 5).format,
)
_PIECES = ["web-1  | ", "web-1 | ", "x | ", "2024-01-05 10:11:14,002 ", "ERROR ", "app ", "msg",
           "Traceback (most recent call last):", "  File", "\t", " ", "|", "é", "\r", "{"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=6).map("".join))
def test_bytes_and_text_start_tests_agree(line):
    assert bool(_WRAPPED.start_pattern.match(line.encode())) == _WRAPPED.is_start(line)


def test_docker_json_file_lines_are_read_through_their_log_strings():
    import orjson

    inner = _logging_lines("%(asctime)s %(levelname)s %(name)s: %(message)s", "app.web")
    text = "".join(orjson.dumps({"log": line + "\n", "stream": "stderr",
                                 "time": f"2024-01-05T10:11:{i % 60:02d}.000000001Z"}).decode()
                   + "\n" for i, line in enumerate(inner))
    fmt, records = _records(text)
    assert fmt.name.startswith("docker+"), fmt
    assert len(records) == 13
    failed = next(r for r in records if r.message == "failed")
    assert failed.level == "ERROR" and failed.logger == "app.web"
    assert failed.exc.startswith("Traceback") and failed.exc.endswith("RuntimeError: wrapped")
    assert all(r.fields["stream"] == "stderr" for r in records)
    assert {r.level for r in records} == {"INFO", "WARNING", "ERROR"}
    # One-line text shows the program's record, as ``docker logs`` does: the wrapper's
    # stream and stamp stay fields (``-o jsonl``, the detail view, ``stream=stderr``).
    from logview.printer import format_text

    shown = format_text(failed)
    assert shown.splitlines()[0].endswith("ERROR app.web failed") and "stamp" not in shown
    assert "stream=" not in shown and shown.endswith("RuntimeError: wrapped")


def test_kubernetes_cri_lines_keep_the_stream_and_the_traceback():
    inner = _logging_lines("%(asctime)s - %(name)s - %(levelname)s - %(message)s", "app.db")
    text = "".join(f"2024-01-05T10:11:{i % 60:02d}.{i:09d}Z {('stdout', 'stderr')[i % 2]} F "
                   f"{line}\n" for i, line in enumerate(inner))
    fmt, records = _records(text)
    assert fmt.name == "cri+python-dash"
    assert len(records) == 13
    failed = next(r for r in records if r.message == "failed")
    assert "RuntimeError: wrapped" in failed.exc and " F " not in failed.exc
    assert {r.fields["stream"] for r in records} == {"stdout", "stderr"}


#: What uvicorn 0.54 wrote to stderr for a request whose app raised (captured from a real
#: run, paths shortened): its lines carry no time, so the stamp is the only one.
_UVICORN = """\
INFO:     Started server process [4055]
INFO:     Application startup complete.
INFO:     127.0.0.1:43146 - "GET /missing HTTP/1.1" 404 Not Found
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/uvicorn/protocols/http/h11_impl.py", line 411, in run_asgi
    result = await app(  # type: ignore[func-returns-value]
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/tmp/rl/asgiapp.py", line 9, in app
    raise RuntimeError("boom in asgi")
RuntimeError: boom in asgi
INFO:     127.0.0.1:43162 - "GET /boom HTTP/1.1" 500 Internal Server Error
INFO:     Shutting down
"""


def test_kubectl_timestamps_over_lines_without_their_own_time_are_unwrapped():
    # kubectl logs --timestamps of uvicorn: read flat, the stamp looked like the records'
    # own time, so the level stayed in the message and every traceback line was a record.
    text = "".join(f"2024-01-05T10:11:{i:02d}.123456789Z {line}\n"
                   for i, line in enumerate(_UVICORN.splitlines()))
    fmt, records = _records(text)
    assert fmt.name == "timestamped+uvicorn"
    assert [r.level for r in records] == ["INFO"] * 3 + ["ERROR"] + ["INFO"] * 2
    failed = records[3]
    assert failed.message == "Exception in ASGI application"
    assert failed.exc.startswith("Traceback") and failed.exc.endswith("boom in asgi")
    assert failed.time is not None and failed.time.second == 3  # the stamp's time


def _writes_of_an_app() -> list[tuple[str, str]]:
    """(stream, line) as a Python app in a container writes them: ``logging`` on stderr (one
    write per record, a traceback in one of them), ``print()`` on stdout between them."""
    err = io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log = make_logger("app.web", handler)
    out: list[tuple[str, str]] = []
    for i in range(6):
        log.info("request %d ok", i)
        if i == 3:
            log_chained_exception(log, RuntimeError, "db down", "request failed")
        out += [("stderr", line) for line in err.getvalue().splitlines()]
        err.seek(0)
        err.truncate()
        out.append(("stdout", f"handling /page/{i}"))
    log.handlers[:] = []
    # docker's two copiers race: a stdout line lands just after a traceback's header
    at = next(k for k, (_, line) in enumerate(out) if line.startswith("Traceback")) + 1
    out.insert(at, ("stdout", "handling /interleaved"))
    return out


def _docker(writes: list[tuple[str, str]], pieces: int = 0) -> str:
    """docker's json-file lines; a ``log`` longer than ``pieces`` characters is cut in
    pieces, all but the last without the newline, as docker does every 16 KB."""
    out = []
    for k, (stream, line) in enumerate(writes):
        text = line + "\n"
        cuts = [text[i:i + pieces] for i in range(0, len(text), pieces)] if pieces else [text]
        for piece in cuts:
            out.append(orjson.dumps({"log": piece, "stream": stream,
                                     "time": f"2024-01-05T10:11:{k:02d}.000000001Z"}).decode())
    return "\n".join(out) + "\n"


def _cri(writes: list[tuple[str, str]], pieces: int = 0) -> str:
    """Kubernetes' CRI log lines; a line longer than ``pieces`` is cut in ``P`` pieces and
    a last ``F`` one, as the runtime does."""
    out = []
    for k, (stream, line) in enumerate(writes):
        cuts = [line[i:i + pieces] for i in range(0, len(line), pieces)] if pieces else [line]
        for n, piece in enumerate(cuts):
            tag = "F" if n == len(cuts) - 1 else "P"
            out.append(f"2024-01-05T10:11:{k:02d}.123456789Z {stream} {tag} {piece}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("wrap", [_docker, _cri])
def test_stdout_lines_are_never_glued_into_a_stderr_traceback(wrap):
    # stdout (print) carries no record start: it is a plain lane, each line a record.
    fmt, records = _records(wrap(_writes_of_an_app()))
    assert getattr(fmt, "lanes", None) == frozenset({"stdout"}), fmt
    failed = next(r for r in records if r.message == "request failed")
    assert failed.level == "ERROR" and failed.exc.startswith("Traceback")
    assert "handling" not in failed.exc
    printed = [r for r in records if r.message.startswith("handling")]
    assert [r.message.split("\n")[0] for r in printed] == (
        [f"handling /page/{i}" for i in range(3)] + ["handling /interleaved"]
        + [f"handling /page/{i}" for i in range(3, 6)])
    assert all(r.level is None and r.fields["stream"] == "stdout" for r in printed)
    assert all(r.time is not None and r.time.year == 2024 for r in printed)  # the wrapper's
    oks = [r for r in records if r.message.startswith("request ") and r.level == "INFO"]
    assert [r.message for r in oks] == [f"request {i} ok" for i in range(6)]
    assert all("\n" not in r.message for r in oks)


@pytest.mark.parametrize("wrap", [_docker, _cri])
def test_an_uncaught_traceback_on_its_own_stream_is_one_record(wrap):
    # logging to stdout, the interpreter's traceback on stderr (which has no record start):
    # the header opens a record of its own, not a line of the stdout record before it.
    writes = [("stdout", f"2024-01-05 10:11:{i:02d},000 INFO app: step {i}") for i in range(5)]
    tb = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
          "    main()", "ValueError: bad input"]
    _, records = _records(wrap(writes + [("stderr", line) for line in tb]))
    assert [r.message for r in records[:5]] == [f"step {i}" for i in range(5)]
    assert records[-1].exc == "\n".join(tb) and records[-1].fields["stream"] == "stderr"
    assert records[-1].message == "ValueError: bad input"
    assert len(records) == 6


@pytest.mark.parametrize("wrap", [_docker, _cri])
def test_the_pieces_of_a_long_line_are_read_as_one_line(wrap):
    long = "payload " + "x" * 3000 + " end"
    writes = [("stderr", f"2024-01-05 10:11:{i:02d},000 WARNING app.db: "
                         + (long if i == 2 else f"short {i}")) for i in range(5)]
    _, records = _records(wrap(writes, pieces=1000))
    assert [r.level for r in records] == ["WARNING"] * 5
    assert records[2].message == long and records[2].logger == "app.db"
    assert records[3].message == "short 3"


@pytest.mark.parametrize("wrap", [_docker, _cri])
def test_the_pieces_of_a_long_json_line_are_one_record(wrap):
    # JSON lines read any text line as a record of its own; inside a runtime that cuts
    # long lines only an object starts one, so the middle of a cut object continues it.
    long = "payload " + "x" * 3000 + " end"
    writes = [("stdout", orjson.dumps({"level": "warning", "logger": "app.db",
                                       "message": long if i == 2 else f"short {i}"}).decode())
              for i in range(5)]
    _, records = _records(wrap(writes, pieces=1000))
    assert [r.level for r in records] == ["WARNING"] * 5
    assert records[2].message == long and records[2].logger == "app.db"
    assert records[2].time is not None  # the wrapper's: the object has none


def _cri_wrapped(inner):
    from logview.formats.prefixed import PREFIXES

    return PrefixedFormat(next(p for p in PREFIXES if p.name == "cri"), inner,
                          lanes=frozenset({"stdout"}))


_CRI_FORMATS = [_cri_wrapped(detect(b'{"level": "info", "msg": "x"}\n' * 5).format),
                _cri_wrapped(_WRAPPED.inner)]
_CRI_PIECES = ["2024-01-05T10:11:14.000000001Z ", "stdout ", "stderr ", "F ", "P ", "{", "}",
               " ", "\t", "\x1e", "Traceback (most recent call last):", "  File", "x",
               "2024-01-05 10:11:14,002 ", "ERROR ", "app ", "\r"]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(_CRI_FORMATS) - 1),
       st.lists(st.sampled_from(_CRI_PIECES), max_size=7).map("".join))
def test_cri_bytes_and_text_start_tests_agree_with_lanes(k, line):
    fmt = _CRI_FORMATS[k]
    assert bool(fmt.start_pattern.match(line.encode())) == fmt.is_start(line)


def test_explain_names_the_wrapper_and_its_plain_lanes_and_offers_no_template():
    from logview.explain import explain_lines
    from logview.formats.detect import detect

    text = _cri(_writes_of_an_app())
    lines = explain_lines("pod.log", detect(text.encode()), text.splitlines()[0])
    assert lines[1].startswith("  format:    cri+")
    assert any(line.startswith("  lanes:     stdout:") for line in lines)
    assert not any("pin it" in line for line in lines)
