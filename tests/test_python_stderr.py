"""The interpreter's own lines on a service's stderr (``formats.python_stderr``): warnings, an
exception in a thread, an exception that could not be raised, a crash. Each is a record of its
own with its level, not a continuation of the log record before it; the log is written by a
real Python process (a real segmentation fault at the end)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from datetime import datetime

import pytest

from logview.boundaries import RecordSplitter
from logview.formats.detect import detect
from logview.formats.python_stderr import PythonStderrFormat
from logview.query import parse_query
from logview.scan import iter_matching_records
from logview.sources.base import StaticFileSource
from logview.store import DETECT_BYTES, LogStore

#: A service logging with ``FORMAT`` whose stderr also gets the interpreter's lines; it logs
#: ``argv[2]`` filler records between them (a file big enough for the chunked scans) and
#: dies of a segmentation fault with faulthandler on.
PROGRAM = r"""
import faulthandler, logging, sys, threading, warnings
logging.basicConfig(level=logging.DEBUG, format=sys.argv[1])
log = logging.getLogger("app.main")
filler = int(sys.argv[2])
def fill(tag):
    for n in range(filler):
        logging.getLogger("app.db" if n % 3 else "app.web").log(
            (10, 20, 20, 30, 40)[n % 5], "%s filler %d with some words", tag, n)
log.info("starting")
if sys.argv[3:] != ["late"]:  # (late: the interpreter's first line comes after the filler)
    warnings.warn("old api", DeprecationWarning)
    warnings.warn("no tls", UserWarning)
log.info("between")
fill("a")
def boom():
    raise ValueError("in thread")
thread = threading.Thread(target=boom, name="worker-1")
thread.start(); thread.join()
log.warning("after thread")
fill("b")
class Leaky:
    def __del__(self):
        raise RuntimeError("in del")
leaky = Leaky(); del leaky
try:
    {}["key"]
except KeyError:
    log.exception("logged, not stray")
log.info("ready")
sys.stderr.flush()
faulthandler.enable()
import ctypes
ctypes.string_at(0)
"""

TEMPLATES = ["%(levelname)s:%(name)s:%(message)s",
             "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
             "%(asctime)s [%(levelname)s] %(name)s: %(message)s"]


def _no_core() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # (the crash leaves no core file)


def write_log(path, template: str, filler: int, *late: str) -> bytes:
    with open(path, "wb") as err:
        proc = subprocess.run([sys.executable, "-c", PROGRAM, template, str(filler), *late],
                              check=False, stderr=err, timeout=60, cwd=path.parent,
                              preexec_fn=_no_core)
    assert proc.returncode < 0  # the segmentation fault
    return path.read_bytes()


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_interpreter_line_is_a_record_of_its_own(tmp_path, run_main, template):
    path = tmp_path / "app.log"
    data = write_log(path, template, 0)
    assert b"Fatal Python error: Segmentation fault" in data
    status, out, _ = run_main("--print", "-o", "jsonl", str(path))
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    shown = [(r["level"], r["logger"], r["message"].partition("\n")[0]) for r in records]
    assert shown[0] == ("INFO", "app.main", "starting")
    assert shown[1][:2] == ("WARNING", "py.warnings")
    assert shown[1][2].endswith(": DeprecationWarning: old api")
    assert shown[2][:2] == ("WARNING", "py.warnings")
    assert shown[2][2].endswith(": UserWarning: no tls")
    assert shown[3] == ("INFO", "app.main", "between")
    assert shown[4][:2] == ("ERROR", "")
    assert shown[4][2] == "Exception in thread worker-1:"
    assert "ValueError: in thread" in records[4]["exc"]
    assert records[4]["fields"]["thread"] == "worker-1"
    assert shown[5] == ("WARNING", "app.main", "after thread")
    assert shown[6][0] == "ERROR" and shown[6][2].startswith("Exception ignored in: ")
    assert "RuntimeError: in del" in records[6]["exc"]
    # a traceback that logging wrote stays the logged record's
    assert shown[7] == ("ERROR", "app.main", "logged, not stray")
    assert "KeyError: 'key'" in records[7]["exc"]
    assert shown[8] == ("INFO", "app.main", "ready")
    assert shown[9] == ("CRITICAL", "", "Fatal Python error: Segmentation fault")
    assert "most recent call first" in records[9]["exc"]
    assert len(records) == 10
    # (the records before the interpreter's lines no longer hold them)
    assert all("\n" not in r["message"] for r in records if r["logger"] == "app.main")


@pytest.mark.parametrize("template", TEMPLATES[:2])
def test_queries_find_them_on_every_path(tmp_path, run_main, template):
    """The chunked scans (needles, the level names' search, the column walker) find what
    parsing every record finds: the interpreter's records carry no level name, and are
    admitted by their marks; the index, the stream splitter and the scans cut the same
    records."""
    path = tmp_path / "app.log"
    data = write_log(path, template, 30000)
    status, out, _ = run_main("--print", "-o", "jsonl", str(path))
    assert status == 0
    every = [json.loads(line) for line in out.splitlines()]
    store = LogStore(StaticFileSource(str(path)))
    store.update()
    assert "python-stderr" in store.format.name
    assert len(store) == len(every)
    splitter = RecordSplitter(store.format)
    cut = [r.offset for k in range(0, len(data), 65536) for r in splitter.feed(data[k:k + 65536])]
    cut += [r.offset for r in splitter.flush()]
    assert cut == [store.index.start(i) for i in range(len(store))]
    # each record as the viewer reads it: the interpreter's records take the time before
    parsed = [store.parse(i) for i in range(len(store))]
    assert [r.message for r in parsed] == [r["message"] for r in every]
    assert [r.time for r in parsed] == [_record(r).time for r in every]
    timed = "asctime" in template
    assert all((r.time is not None) == timed for r in parsed[1:])
    times = ("until:2099-01-01", "level>=ERROR since:2000-01-01",
             'level>=CRITICAL until:2099-01-01', "/Segmentation/ since:2000-01-01")
    for text in ("level>=ERROR", "level>=WARNING", "level=CRITICAL", "logger:py.warnings",
                 "level>=ERROR worker", "/Fatal/", "logger:app.main", "level<=INFO logger:app",
                 *(times if timed else ())):
        query = parse_query(text)
        want = [r.message for r in parsed if query.predicate(r)]
        assert want, text
        status, out, _ = run_main("--print", "-o", "jsonl", "-q", text, str(path))
        assert [json.loads(line)["message"] for line in out.splitlines()] == want, text
        assert [r.message for r in iter_matching_records(store, query)] == want, text
    store.close()


def _record(r):
    from logview.record import Record

    return Record(message=r["message"], level=r["level"], levelno=r["levelno"],
                  logger=r["logger"], exc=r["exc"], fields=r["fields"],
                  time=datetime.fromisoformat(r["time"]) if r["time"] else None)


def test_a_log_without_them_keeps_its_own_format():
    """No such line in the sample: the log's format alone (its fast paths stay)."""
    sample = b"".join(b"INFO:app.db:query %d took 3 ms\n" % n for n in range(50))
    assert "python-stderr" not in detect(sample).format.name


@pytest.mark.parametrize("line", [
    "/srv/app/views.py:12: DeprecationWarning: datetime.utcnow() is deprecated",
    "sys:1: ResourceWarning: unclosed file <_io.TextIOWrapper name='x'>",
    "<frozen importlib._bootstrap>:241: RuntimeWarning: numpy.ndarray size changed",
    r"C:\app\main.py:3: UserWarning: no tls",
    "Fatal Python error: Aborted",
    "Exception in thread Thread-3 (serve):",
    "Exception ignored in: <function Popen.__del__ at 0x7f>",
])
def test_the_interpreters_shapes(line):
    assert PythonStderrFormat().is_start(line)


@pytest.mark.parametrize("line", [
    "ValueError: bad value", "Exception: boom", "WARNING:app:Warning: disk low",
    "Traceback (most recent call last):", "Exception in thread worker",
    "app.py:12: this is no warning", "  File \"x.py\", line 3, in f",
])
def test_other_lines_are_not_taken(line):
    assert not PythonStderrFormat().is_start(line)


def test_the_walker_leaves_the_interpreters_records_to_the_parser():
    """The main format's column walker reads the heads of its own records; a record that one
    of the interpreter's lines opens is parsed, whatever the walker made of its head."""
    import numpy as np

    from logview.formats.template_columns import HeaderColumns
    from logview.formats.union import UnionFormat, union_pattern

    class TakesAll:  # a walker that reads every head (the worst case)
        def read(self, buf, starts):
            n = len(starts)
            return HeaderColumns(np.ones(n, bool), np.full(n, 20, np.int16),
                                 np.zeros(n, np.int32), ["app"], np.zeros(n))

    main = detect(b"INFO:app:one\nINFO:app:two\n").format
    main.column_walker = lambda: TakesAll()
    second = PythonStderrFormat()
    union = UnionFormat(main, second, union_pattern(main.start_pattern, second.start_pattern))
    buf = (b"INFO:app:one\n/x.py:1: UserWarning: w\n  warnings.warn(w)\nINFO:app:two\n"
           b"Fatal Python error: Aborted\n\nINFO:app:three Warning: in a message\n")
    starts = np.array([0, 13, 56, 69, 98], dtype=np.int64)
    assert [buf[s:s + 4] for s in starts.tolist()] == [b"INFO", b"/x.p", b"INFO", b"Fata",
                                                      b"INFO"]
    assert union.column_walker().read(buf, starts).ok.tolist() == [True, False, True, False,
                                                                   True]


def test_an_indented_warning_line_continues_its_record():
    """pytest's warnings summary indents them: such a line belongs to the record above."""
    assert not PythonStderrFormat().is_start(
        "  /srv/app/views.py:12: DeprecationWarning: utcnow() is deprecated")


def test_a_crash_at_the_end_of_a_big_log_is_a_record_of_its_own(tmp_path, run_main):
    """The sample is the log's start; a crash comes at its end: the end of a log bigger
    than the sample is looked at for the interpreter's lines too."""
    path = tmp_path / "app.log"
    data = write_log(path, TEMPLATES[1], 2000, "late")
    assert len(data) > 3 * DETECT_BYTES
    assert b"Warning: " not in data[:DETECT_BYTES] and b"Exception i" not in data[:DETECT_BYTES]
    status, out, _ = run_main("--print", "-o", "jsonl", "-q", "level>=CRITICAL", str(path))
    assert status == 0
    crash = [json.loads(line) for line in out.splitlines()]
    assert [r["message"] for r in crash] == ["Fatal Python error: Segmentation fault"]
    assert crash[0]["time"] is not None  # (the record before's)
    store = LogStore(StaticFileSource(str(path)))
    store.update()
    assert "python-stderr" in store.format.name
    assert store.parse(len(store) - 1).levelno == 50
    store.close()


def test_the_union_goes_to_worker_processes_once_it_walked():
    """The viewer's filter and counting workers get the store's format pickled: that must
    hold after its column walker was built (it holds closures)."""
    import pickle

    data = (b"2024-01-01 10:00:00,123 INFO app: one\n/x.py:1: UserWarning: w\n"
            b"  warnings.warn(w)\n2024-01-01 10:00:01,000 INFO app: two\n")
    fmt = detect(data).format
    assert "python-stderr" in fmt.name
    assert fmt.column_walker() is not None
    again = pickle.loads(pickle.dumps(fmt))
    assert again.column_walker() is not None
    assert again.parse("/x.py:1: UserWarning: w").level == "WARNING"


def _by_offset(store: LogStore) -> list[tuple[int, int, str]]:
    return [(r.offset, r.levelno, r.message) for r in (store.parse(i) for i in range(len(store)))]


def test_a_crash_while_the_log_is_followed_is_a_record_of_its_own(tmp_path):
    """The sample saw the start only; what a followed log adds is looked at too: the
    thread's exception and the crash that come later are records of their own, the records
    are those the union reads from the whole log, and records before them keep their
    places."""
    from logview.sources.file import FileSource

    whole = write_log(tmp_path / "whole.log", TEMPLATES[1], 300, "late")
    cut = whole.index(b"Exception in thread")
    assert cut > DETECT_BYTES // 4 and whole[:cut].count(b"\n") > 40
    path = tmp_path / "app.log"
    path.write_bytes(whole[:cut])
    store = LogStore(FileSource(str(path)))
    try:
        store.update()
        assert "python-stderr" not in store.format.name and store.detection_final
        before = _by_offset(store)
        crash = whole.index(b"Fatal Python error")
        generation = store.generation
        for piece in (whole[cut:crash], whole[crash:]):
            with open(path, "ab") as out:
                out.write(piece)
            store.update(final=True)
        assert "python-stderr" in store.format.name
        assert store.generation > generation  # (one restart: the index read it again)
        followed = _by_offset(store)
        reference = LogStore(StaticFileSource(str(tmp_path / "whole.log")), store.format)
        reference.update(final=True)
        assert followed == _by_offset(reference)
        assert followed[: len(before) - 1] == before[:-1]
        assert (40, "Exception in thread worker-1:") in {(lv, m) for _, lv, m in followed}
        assert followed[-1][1:] == (50, "Fatal Python error: Segmentation fault")
        reference.close()
    finally:
        store.close()


def test_print_follow_prints_a_later_crash_once_as_its_own_record(tmp_path):
    """``--print --follow -o jsonl`` of a log whose crash comes while it is followed: each
    record printed once (the index starts over when the format takes the interpreter's
    lines; the records printed before are not printed again), the crash at its level."""
    from process_helpers import read_until

    whole = write_log(tmp_path / "whole.log", TEMPLATES[2], 300, "late")
    cut = whole.index(b"Exception in thread")
    path = tmp_path / "app.log"
    path.write_bytes(whole[:cut])
    proc = subprocess.Popen([sys.executable, "-m", "logview", "--print", "--follow", "-o",
                             "jsonl", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = read_until(proc, b"a filler 299 with some words", 15)
        with open(path, "ab") as log:
            log.write(whole[cut:])
        out += read_until(proc, b"Fatal Python error: Segmentation fault", 15)
        if not out.endswith(b"\n"):  # (the rest of its line)
            out += read_until(proc, b"\n", 15)
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    records = [json.loads(line) for line in out.splitlines()]
    lines = [r["line"] for r in records]
    assert lines == sorted(set(lines)), "a record printed twice"
    levels = {r["message"]: r["level"] for r in records}
    assert levels["Exception in thread worker-1:"] == "ERROR"
    assert levels["Fatal Python error: Segmentation fault"] == "CRITICAL"
    assert records[0]["message"] == "starting" and len(records) > 600
