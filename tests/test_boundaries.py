"""The one start test (``StartDetector``), asked in bulk (the index), around a position (the
direct scan) and line by line (the splitter), equals a naive reference: the format's own
``is_start`` on each decoded, ANSI-stripped line. Checked for every format detection can pick,
on a sample that mixes every kind of line, hostile ones included."""

from __future__ import annotations

import logging

import pytest
from indexing_helpers import dash_log, reference_records

from logview.boundaries import RecordSplitter, StartDetector, first_start
from logview.formats.detect import _all_candidates
from logview.formats.generic import GenericFormat
from logview.index import RecordIndex
from logview.sources.base import MemorySource

MIXED = b"".join([
    b"  File \"x.py\", line 1, in <module>\n",  # opens with a continuation line
    dash_log(40, seed=8, error_rate=0.3),
    b'{"time": "2024-01-02T03:04:05Z", "level": "error", "msg": "json line"}\n',
    b"<13>Jan  2 03:04:05 host app[12]: a syslog line\n",
    b"time=2024-01-02T03:04:05Z level=warn msg=\"logfmt line\"\n",
    b"[I 240102 03:04:05 web:2250] 200 GET / (127.0.0.1) 1.2ms\n",
    b"INFO:app.db:basicConfig line\n",
    b"2024-01-02 03:04:05,123 - app - ERROR - red \x1b[31mERR\x1b[0mOR text\r\n",
    b"\x1b[31m2024-01-02 03:04:05,124 - app - INFO - coloured start line\x1b[0m\n",
    b"\xc2\x9b31m C1 control at the start\n",
    b"\n",
    b"\t indented continuation\n",
    b"Traceback (most recent call last):\n",
    b"ValueError: bad\n",
    b"12:00:01 plain words after a time\n",
    b"2024-01-02 03:04:05,127 - app - CRITICAL - no newline at the end",
])


def formats():
    found = [candidate.make(None) for candidate in _all_candidates()]
    return found + [GenericFormat(), GenericFormat(one_letter_levels=False)]


@pytest.mark.parametrize("fmt", formats(), ids=lambda f: f.name)
def test_every_reader_of_boundaries_equals_the_reference(fmt):
    expected = reference_records(fmt, MIXED)
    source = MemorySource("m", MIXED)
    source.finish()
    index = RecordIndex(source, fmt, chunk_bytes=1024)
    index.update(final=True)
    assert [(index.start(i), index.line(i)) for i in range(len(index))] == expected

    splitter = RecordSplitter(fmt)
    pieces = [MIXED[k:k + 37] for k in range(0, len(MIXED), 37)]
    got = [(r.offset, r.line) for piece in pieces for r in splitter.feed(piece)]
    got += [(r.offset, r.line) for r in splitter.flush()]
    assert got == expected

    detector = StartDetector(fmt)
    starts = {offset for offset, _line in expected}
    line_starts = [0] + [k + 1 for k, byte in enumerate(MIXED) if byte == 10 and k + 1 < len(MIXED)]
    for s in line_starts[1:]:
        assert detector.starts_at(MIXED, s, True) == (s in starts), (fmt.name, MIXED[s:s + 40])
        following = [t for t in sorted(starts) if t >= s]
        assert first_start(source, detector, s, len(MIXED)) == (
            following[0] if following else len(MIXED))


def test_sure_start_bytes_agree_with_the_start_pattern():
    """A format's sure start bytes are a shortcut of its start pattern: the bulk test gives
    what the pattern gives on every line, hostile lines included."""
    import numpy as np

    import logview.formats.detect  # noqa: F401  (imports every format class)
    from logview.boundaries import StartDetector
    from logview.formats.base import LogFormat

    lines = [b'{"a": 1}', b"{", b"{broken", b"  {}", b"}", b"],",
             b"Traceback (most recent call last):", b'  File "x.py", line 1', b'\x1e{"a": 1}',
             b'\x1b[31m{"a": 2}\x1b[0m', b"", b"plain text", b"{\xff\xfe", b'\t{"x": 1}',
             b'\xc2\x9b31m{"b": 1}']
    data = b"\n".join(lines) + b"\n"
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    classes, seen = [LogFormat], []
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__dict__.get("sure_start_bytes"):
            seen.append(cls)
    assert [cls.__name__ for cls in seen] == ["JsonFormat"]  # lines opening an object
    declaring = [cls() for cls in seen]
    for fmt in declaring:
        for byte in fmt.sure_start_bytes:
            for tail in (b"", b"x", b" }", b"\\", b'"a": 1}'):
                assert fmt.start_pattern.match(bytes([byte]) + tail), (fmt.name, byte, tail)
        detector = StartDetector(fmt)
        got = detector.mask(data, arr, starts, ends).tolist()
        want = [detector.line_starts_record(line) for line in lines]
        assert got == want, fmt.name


VOCABULARY_TEMPLATES = ["%(levelname)s:%(name)s:%(message)s", "[%(levelname)s] %(name)s: %(message)s",
                        "%(levelname)s %(message)s", "%(levelname)s %(name)s %(message)s",
                        "%(levelname)s - %(module)s - %(message)s", "%(levelname)-8s %(message)s",
                        "%(levelname)-8s %(name)s: %(message)s", "%(levelname)8s:%(message)s",
                        "[%(levelname)-7s] %(name)s - %(message)s", "%(levelname)-8s- %(message)s"]


def _hostile_heads() -> list[bytes]:
    """Lines around a level-name head: real ones, near misses, tracebacks that mention a
    level, long words, whitespace, escapes, non-ASCII and CR."""
    names = [b"ERROR", b"error", b"Error", b"WARN", b"WARNING", b"WARNI", b"INFO", b"INF",
             b"INFORMATIONAL", b"CRITICAL", b"Trace", b"TRACE", b"Level 15", b"Level", b"ERRORS",
             b"EROR", b"E", b"", b"Traceback", b"ValueError", b"\xc3\x89RROR", b"FATAL",
             b"  ERROR", b"   INFO", b" " * 15 + b"WARN", b" " * 17 + b"INFO", b"\tINFO"]
    seps = [b":", b" ", b"] ", b" - ", b": ", b"::", b"", b"\t", b"    ", b"   - ", b"  :",
            b" " * 15, b" " * 17 + b":"]
    words = [b"app.db", b"a", b"", b"x y", b"a:b", b"\xc3\xa9t\xc3\xa9", b"w" * 30, b"w" * 60,
             b"app.db\r", b"-", b"urllib3.connectionpool", b"a\x1b[31mb", b"a\tb",
             b"a\x01b", b"\x0bx", b"\x1f", b"\x0c", b"a\x7fb",  # control bytes are word bytes
             *(b"v" * k for k in range(36, 56))]  # words that end where the window does
    tails = [b":", b": ", b" ", b" - ", b"", b"message: with: colons", b" x", b"\r"]
    out = []
    for n, name in enumerate(names):
        for k, sep in enumerate(seps):
            for j, word in enumerate(words):
                tail = tails[(n + k + j) % len(tails)]
                for opening in (b"", b"["):
                    out.append(opening + name + sep + word + tail + b" msg")
    out += [b"Traceback (most recent call last):", b"ERROR:app:Traceback (most recent call last):",
            b"  File \"x.py\", line 1, in <module>", b"ValueError: ERROR:app:x", b"\x1b[31mERROR:a:b",
            b"\xc2\x9bERROR:a:b", b"ERROR:app.db:" + b"x" * 200, b"ERROR:", b"INFO", b"INFO:x"]
    return out


@pytest.mark.parametrize("template", VOCABULARY_TEMPLATES)
def test_a_level_name_head_is_decided_in_bulk_as_the_pattern_decides(template):
    """Templates without a time open with a level name: the bulk test (``level_starts``)
    gives what the start pattern gives on every line, and leaves few lines to it."""
    import numpy as np

    from logview.formats.template import TemplateFormat
    from logview.level_starts import VocabularyTest

    fmt = TemplateFormat(template)
    head = fmt.start_vocabulary()
    assert head is not None
    lines = _hostile_heads()
    data = b"\n".join(lines) + b"\n" + b"x" * 100 + b"\n"
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    detector = StartDetector(fmt)
    assert detector._vocabulary is not None
    got = detector.mask(data, arr, starts, ends).tolist()
    want = [detector.line_starts_record(data[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
    assert got == want
    assert sum(want) > 10 and sum(want) < len(want) - 100
    decided = VocabularyTest(head).decide(data, arr, starts)
    # (the hostile lines crowd the ends of what the test reads: on real files it decides
    # nearly every line, see test_level_starts)
    assert (decided >= 0).mean() > 0.85  # the pattern runs on few lines


@pytest.mark.parametrize("template", [logging.BASIC_FORMAT, "%(levelname)-8s %(name)s: %(message)s",
                                      "[%(levelname)s] %(message)s", "%(levelname)8s:%(message)s",
                                      "%(levelname)-8s %(message)s"])
def test_basic_config_file_written_by_logging_is_cut_as_before(tmp_path, template):
    """A file of a level-first template with tracebacks (a line of one that says
    ``ERROR:x:y`` stays in its record unless the template reads it as a head): the index,
    deciding in bulk, cuts it where the splitter (the pattern, line by line) does."""
    import logging
    import sys

    from logging_helpers import make_logger

    from logview.formats.template import TemplateFormat

    path = tmp_path / "basic.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(template))
    log = make_logger("levelstarts.app.db", handler)
    for i in range(300):
        log.log((10, 20, 30, 40, 50)[i % 5], "request %d ünï: ERROR:app:not a start", i)
        if i % 17 == 0:
            try:
                raise ValueError("ERROR:app.db:inside the traceback\nWARNING:x:y second line")
            except ValueError:
                log.exception("failed\nERROR: a second line of the message")
        if i % 23 == 0:
            log.info("", stack_info=True)
            print("stray: ERROR:x:y", file=sys.stderr)
        if i % 29 == 0:  # heads the template may or may not read as one, in a message
            log.warning("multi\nERROR   app: x\n   INFO:y\nCRITICAL:\x01a:b\nINFO \x0bq: r")
    handler.close()
    data = path.read_bytes()
    fmt = TemplateFormat(template)
    assert StartDetector(fmt)._vocabulary is not None  # decided in bulk
    expected = reference_records(fmt, data)
    source = MemorySource("m", data)
    source.finish()
    index = RecordIndex(source, fmt, chunk_bytes=4096)
    index.update(final=True)
    assert [(index.start(i), index.line(i)) for i in range(len(index))] == expected
    assert len(expected) > 300


PLAIN_TEMPLATES = ["%(levelname)s:%(name)s:%(message)s", "%(levelname)s|%(name)s|%(message)s",
                   "%(levelname)s|%(name)s:%(message)s"]


def _plain_hostile_lines(seed: int) -> list[bytes]:
    """Random lines made of what decides a plain head: level names (short, long, cased,
    near misses, ``Level 15``), the separators and their neighbours (``;`` is ``:`` + 1),
    whitespace, control bytes, CR, non-ASCII, words of every length around 7 and 8 bytes."""
    import random

    rng = random.Random(seed)
    names = [b"INFO", b"info", b"Info", b"ERROR", b"WARNING", b"WARN", b"CRITICAL", b"DEBUG",
             b"Critical", b"INFORMATIONAL", b"EMERGENCY", b"ERR", b"INF", b"Level 15",
             b"Level", b"ERRORS", b"Traceback", b"ValueError", b"E", b"", b" ERROR", b"\tINFO",
             b"\xc3\x89RROR", b"IN\x00FO"]
    pieces = [b":", b"|", b";", b"}", b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x01", b"\x1f",
              b"\x00", b"!", b"a", b"app", b".", b"db", b"\xc3\xa9", b"\x7f", b"request", b"-"]
    out = []
    for _ in range(4000):
        word = b"".join(rng.choice(pieces) for _ in range(rng.choice((0, 1, 2, 3, 5, 8, 12, 20))))
        tail = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))
        name, sep = rng.choice(names), rng.choice((b":", b"|", b";", b" ", b""))
        if rng.random() < 0.5:  # most real lines: a name, a separator, a word, another
            word = b"".join(rng.choice(pieces[13:]) for _ in range(rng.randrange(1, 30)))
            name, sep, tail = rng.choice(names[:8]), rng.choice((b":", b"|")), sep + tail
        out.append(name + sep + word + tail + b" message")
    return out


@pytest.mark.parametrize("template", PLAIN_TEMPLATES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_plain_head_test_decides_as_the_pattern(template, seed):
    """``basicConfig``'s head (``NAME:word:``) is decided by a short test on two 64-bit
    words a line (``_PlainHead``), the general test and the pattern only for what it leaves:
    on random lines around every byte that decides, each line it decides is decided as the
    pattern does, the mask equals the line-by-line test, and it decides most lines."""
    import numpy as np

    from logview.formats.template import TemplateFormat
    from logview.level_starts import VocabularyTest

    fmt = TemplateFormat(template)
    test = VocabularyTest(fmt.start_vocabulary())
    assert test._plain is not None
    lines = _plain_hostile_lines(seed)
    data = b"\n".join(lines) + b"\n" + b"x" * 100 + b"\n"
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    pattern = fmt.start_pattern
    want = [pattern.match(data[s:e]) is not None for s, e in zip(starts.tolist(), ends.tolist())]
    plain = test._plain.decide(arr, starts)
    sure = np.flatnonzero(plain >= 0)
    assert [bool(plain[j]) for j in sure.tolist()] == [want[j] for j in sure.tolist()]
    assert len(sure) > 0.6 * len(lines) and 200 < sum(want) < len(lines) - 200
    detector = StartDetector(fmt)
    got = detector.mask(data, arr, starts, ends).tolist()
    assert got == [detector.line_starts_record(data[s:e])
                   for s, e in zip(starts.tolist(), ends.tolist())]


def test_records_over_the_longest_are_cut_as_the_splitter_cuts(monkeypatch):
    """A traceback longer than ``MAX_RECORD_BYTES`` is cut by the index before the line that
    would overflow it, as the splitter cuts it; ranges whose whole span fits skip the test."""
    from logview import boundaries, index
    from logview.formats.template import TemplateFormat

    monkeypatch.setattr(index, "MAX_RECORD_BYTES", 300)
    monkeypatch.setattr(boundaries, "MAX_RECORD_BYTES", 300)
    lines = []
    for i in range(200):
        lines.append(b"ERROR:app.db:failed %d" % i)
        lines += [b"  File \"x.py\", line %d, in f" % k for k in range(i % 40)]
    data = b"\n".join(lines) + b"\n"
    fmt = TemplateFormat(logging.BASIC_FORMAT)
    splitter = RecordSplitter(fmt)
    expected = [(r.offset, r.line) for r in splitter.feed(data) + splitter.flush()]
    source = MemorySource("m", data)
    source.finish()
    idx = RecordIndex(source, fmt, chunk_bytes=4096)
    idx.update(final=True)
    assert [(idx.start(i), idx.line(i)) for i in range(len(idx))] == expected
    assert len(expected) > 260  # the long tracebacks were cut
