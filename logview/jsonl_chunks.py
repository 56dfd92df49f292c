"""``-o jsonl`` of many records at once, without a ``Record`` per record.

Printing a whole file as JSON lines parsed every record into a ``Record`` and serialised it
(~160 k records/s). For a ``logging`` template most records are one line: their heads are read
for a whole piece of a chunk with one regex call (``TemplateLines``), the JSON of a head
(level, logger, fields) is made once per distinct head and the ISO text of a time once per
second, and each line is then one string format. What could read differently is handed to the
exact path, record by record (``one``: parse, render): a record holding an escape sequence or a
carriage return, a line the strict prefix does not read, fields ``orjson`` refuses. Records of
several lines get their message and traceback split as the parser splits them. The bytes are
those of ``printer.dumps_record`` (tests compare them on files the logging module wrote).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import orjson

from logview.formats.base import LogFormat
from logview.record import ESCAPE_BYTES_RE, holds_escape, split_exception

#: Bytes of whole records read with one regex call (bounds the rows held at once).
PIECE_BYTES = 2 << 20
#: Distinct heads and times remembered (a hostile file of unique heads stays bounded).
MEMO = 4096

#: Bytes that a JSON string escapes (controls, quote, backslash); a newline only matters
#: inside a record of several lines, which is split anyway.
_ESCAPED = np.zeros(256, dtype=bool)
_ESCAPED[[*range(0x0A), *range(0x0B, 0x20), 0x22, 0x5C]] = True

_PLAIN, _QUOTE, _LINES, _EXACT = 0, 1, 2, 3

#: The exact path for one record: (offset in the file, line number, bytes) -> JSON line.
OneRecord = Callable[[int, int, bytes], bytes]


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class JsonlChunks:
    """Renders the records of chunks of one file of ``fmt`` as ``-o jsonl`` lines.

    ``source`` is the name every record is stamped with; ``one`` renders a single record
    exactly (the parser, then ``dumps_record``). Formats without a line reader, and no format
    (``--redact``: records are redacted where the parser makes them), go through ``one`` for
    every record.
    """

    def __init__(self, fmt: LogFormat | None, source: str, one: OneRecord) -> None:
        reader = getattr(fmt, "line_reader", None)
        self.lines = reader() if reader is not None else None
        self.one = one
        self._source = _dumps(source)
        self._heads: dict[object, tuple[str, str] | None | bool] = {}
        self._seconds: dict[str, str | None] = {}
        self._times: dict[object, str] = {}

    def render(self, buf: bytes, starts: np.ndarray, line_idx: np.ndarray, offset: int,
               first_line: int) -> tuple[bytes, int]:
        """(JSON lines, how many) of the records of ``buf``: record ``j`` starts at
        ``starts[j]`` (``starts[0] == 0``; the last ends at the end of ``buf``) on line
        ``first_line + line_idx[j]``; ``buf`` starts at ``offset`` in the file."""
        count = len(starts)
        bounds = np.append(starts, len(buf)).astype(np.int64)
        out: list[bytes] = []
        lo = 0
        while lo < count:
            hi = int(np.searchsorted(bounds, bounds[lo] + PIECE_BYTES, side="right")) - 1
            hi = min(max(hi, lo + 1), count)
            a, b = int(bounds[lo]), int(bounds[hi])
            out.append(self._piece(buf[a:b], bounds[lo:hi + 1] - a, line_idx[lo:hi],
                                   offset + a, first_line))
            lo = hi
        return b"".join(out), count

    def _piece(self, piece: bytes, bounds: np.ndarray, line_idx: np.ndarray, offset: int,
               first_line: int) -> bytes:
        """The JSON lines of the whole records of ``piece`` (``bounds``: their starts, then
        the end of the piece)."""
        one = self.one
        lines = (line_idx + first_line).tolist()
        reader = self.lines
        rows = reader.split(piece.decode("utf-8", "replace")) if reader is not None else None
        if rows is None:
            return b"".join(one(offset + int(s), ln, piece[int(s):int(e)])
                            for s, e, ln in zip(bounds[:-1], bounds[1:], lines))
        assert reader is not None
        status = self._status(piece, bounds, line_idx)
        first = (line_idx - line_idx[0]).tolist()
        msg_at = reader.message_at
        head_key, time_key, default_at = reader.head_key, reader.time_key, reader.default_time_at
        heads, seconds, times = self._heads, self._seconds, self._times
        source = self._source
        out: list[str] = []
        add = out.append
        for j, (row_at, line, kind) in enumerate(zip(first, lines, status.tolist())):
            row = rows[row_at]
            if kind == _EXACT or not row[0]:  # not read by the strict prefix: parsed
                add(self._exact(piece, bounds, j, offset, line))
                continue
            key = head_key(row)
            frag = heads.get(key, False)
            if frag is False:
                frag = self._head(row, key)
            if frag is None:
                add(self._exact(piece, bounds, j, offset, line))
                continue
            if default_at is not None:
                stamp = row[default_at]
                second = seconds.get(stamp[:19], "")
                if second == "":
                    if len(seconds) >= MEMO:
                        seconds.clear()
                    second = seconds[stamp[:19]] = reader.second_iso(row)
                if second is None:
                    iso = "null"
                elif stamp[20:] == "000":
                    iso = f'"{second}"'
                else:
                    iso = f'"{second}.{stamp[20:]}000"'
            else:
                tkey = time_key(row)
                iso = times.get(tkey)
                if iso is None:
                    if len(times) >= MEMO:
                        times.clear()
                    value = reader.time_iso(row)
                    iso = times[tkey] = "null" if value is None else f'"{value}"'
            if kind == _PLAIN:
                add(f'{{"time":{iso}{frag[0]}"{row[msg_at]}","exc":null{frag[1]}{source},'
                    f'"line":{line}}}\n')
                continue
            message, exc = row[msg_at], None
            if kind == _LINES:
                s, e = int(bounds[j]), int(bounds[j + 1])
                rest = piece[piece.index(b"\n", s) + 1 : e].decode("utf-8", "replace")
                message, exc = split_exception(message + ("\n" + rest).rstrip("\n"))
            add(f'{{"time":{iso}{frag[0]}{_dumps(message)},"exc":{_dumps(exc)}{frag[1]}'
                f'{source},"line":{line}}}\n')
        return "".join(out).encode("utf-8")

    def _head(self, row: tuple[str, ...], key: object) -> tuple[str, str] | None:
        """The JSON around the message for a head: (from the level to ``"message":``, from
        ``"fields"`` to ``"source":``); None: its fields are not JSON, the exact path says
        what to do."""
        assert self.lines is not None
        level, levelno, logger, fields = self.lines.head(row)
        try:
            text = orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            frag = None
        else:
            before = (f',"level":{_dumps(level)},"levelno":{levelno},'
                      f'"logger":{_dumps(logger)},"message":')
            frag = (before, f',"fields":{text},"source":')
        if len(self._heads) >= MEMO:
            self._heads.clear()
        self._heads[key] = frag
        return frag

    def _exact(self, piece: bytes, bounds: np.ndarray, j: int, offset: int, line: int) -> str:
        s, e = int(bounds[j]), int(bounds[j + 1])
        return self.one(offset + s, line, piece[s:e]).decode("utf-8")

    @staticmethod
    def _status(piece: bytes, bounds: np.ndarray, line_idx: np.ndarray) -> np.ndarray:
        """Per record: plain (one line, nothing to escape), quote (one line, its message
        needs escaping), lines (several lines) or exact (an escape sequence or a carriage
        return: the parser's own path)."""
        starts = bounds[:-1]
        count = len(starts)
        arr = np.frombuffer(piece, dtype=np.uint8)
        status = np.zeros(count, dtype=np.int8)
        hits = np.flatnonzero(_ESCAPED[arr])
        if len(hits):
            status[np.unique(np.searchsorted(starts, hits, side="right") - 1)] = _QUOTE
        # One line: the next record starts on the next line (the last: no newline inside).
        several = np.zeros(count, dtype=bool)
        several[:-1] = np.diff(line_idx) > 1
        s, e = int(starts[-1]), len(piece)
        several[-1] = piece.find(b"\n", s, e - 1) >= 0
        status[several] = _LINES
        marks = []
        if b"\r" in piece:
            marks.append(np.flatnonzero(arr == 0x0D))
        if holds_escape(piece):
            marks.append(np.array([m.start() for m in ESCAPE_BYTES_RE.finditer(piece)],
                                  dtype=np.int64))
        for found in marks:
            status[np.unique(np.searchsorted(starts, found, side="right") - 1)] = _EXACT
        return status
