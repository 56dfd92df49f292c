"""The one start test (``StartDetector``), asked in bulk (the index), around a position (the
direct scan) and line by line (the splitter), equals a naive reference: the format's own
``is_start`` on each decoded, ANSI-stripped line. Checked for every format detection can pick,
on a sample that mixes every kind of line, hostile ones included."""

from __future__ import annotations

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
