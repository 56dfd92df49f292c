"""Every record of a chunk rendered by the printer, one-line JSON objects read from their bytes.

``--print`` of a whole file that is not printed as its bytes (JSON lines, as text or as
``-o jsonl``) renders every record with ``RecordPrinter.render``, the one renderer. What costs
is making the records: the text parser decodes, strips escape sequences, splits lines and
loads the JSON of each. A record that is one JSON object on one line (it opens with ``{`` and
its line closes with ``}``) and holds no escape sequence is read by the format's
``object_reader`` straight from its bytes into the record ``parse_raw`` would make; every
other record (several lines, a text line, invalid UTF-8, what orjson refuses, no format:
``--redact``) takes the exact path, record by record (``one``: parse, render). The chunks come
from the range workers (``scan_ranges``), which write them in file order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from logview.formats.base import LogFormat
from logview.record import ESCAPE_BYTES_RE, Record, holds_escape

#: The exact path for one record: (offset in the file, line number, bytes) -> rendered.
OneRecord = Callable[[int, int, bytes], bytes]

_OPEN, _CLOSE, _NEWLINE = 0x7B, 0x7D, 0x0A


class RecordChunks:
    """Renders the records of chunks of one file of ``fmt`` with ``render``.

    ``source`` is the name every record is stamped with (unless it names its own, as
    ``parse_raw_record`` does); ``one`` makes and renders a single record exactly.
    """

    def __init__(self, fmt: LogFormat | None, source: str, one: OneRecord,
                 render: Callable[[Record], bytes]) -> None:
        self.read = fmt.object_reader() if fmt is not None else None
        self.one = one
        self._render = render
        self._source = source

    def render(self, buf: bytes, starts: np.ndarray, line_idx: np.ndarray, offset: int,
               first_line: int) -> tuple[bytes, int]:
        """(rendered records, how many) of the records of ``buf``: record ``j`` starts at
        ``starts[j]`` (``starts[0] == 0``; the last ends at the end of ``buf``) on line
        ``first_line + line_idx[j]``; ``buf`` starts at ``offset`` in the file."""
        count = len(starts)
        if not count:
            return b"", 0
        starts = starts.astype(np.int64)
        ends = np.append(starts[1:], len(buf))
        lines = (line_idx + first_line).tolist()
        one = self.one
        if self.read is None:
            return b"".join(one(offset + s, ln, buf[s:e]) for s, e, ln in
                            zip(starts.tolist(), ends.tolist(), lines)), count
        closes = self._object_lines(buf, starts, ends, line_idx)
        read, render, source = self.read, self._render, self._source
        out: list[bytes] = []
        add = out.append
        for s, e, c, ln in zip(starts.tolist(), ends.tolist(), closes.tolist(), lines):
            data = buf[s:e]
            if c:
                line = buf[s:c]
                record = read(line)
                if record is not None:  # what parse_raw_record would make of it
                    record.raw = line.decode()
                    record.data = data
                    if not record.source:
                        record.source = source
                    record.line = ln
                    record.offset = offset + s
                    add(render(record))
                    continue
            add(one(offset + s, ln, data))
        return b"".join(out), count

    @staticmethod
    def _object_lines(buf: bytes, starts: np.ndarray, ends: np.ndarray,
                      line_idx: np.ndarray) -> np.ndarray:
        """Per record: the end of its line (after its ``}``) when it is one line that opens
        with ``{`` and closes with ``}`` right before its newline (or the end of the file)
        and holds no escape sequence, else 0."""
        count = len(starts)
        arr = np.frombuffer(buf, dtype=np.uint8)
        one_line = np.empty(count, dtype=bool)
        one_line[:-1] = np.diff(line_idx) == 1
        last = int(starts[-1])
        one_line[-1] = buf.find(b"\n", last, len(buf) - 1) < 0
        ends_nl = arr[ends - 1] == _NEWLINE
        close = ends - 1 - ends_nl  # the last byte of the line
        ok = one_line & (arr[starts] == _OPEN) & (close > starts)
        ok &= arr[np.maximum(close, 0)] == _CLOSE
        if holds_escape(buf):
            hits = np.array([m.start() for m in ESCAPE_BYTES_RE.finditer(buf)], dtype=np.int64)
            ok[np.searchsorted(starts, hits, side="right") - 1] = False
        return np.where(ok, close + 1, 0)
