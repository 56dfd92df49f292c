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
from typing import Any

import numpy as np
import orjson

from logview.formats.base import LogFormat
from logview.record import ESCAPE_BYTES_RE, holds_escape, split_exception

#: Bytes of whole records read with one regex call (bounds the rows held at once).
PIECE_BYTES = 2 << 20
#: Distinct heads and times remembered (a hostile file of unique heads stays bounded).
MEMO = 4096

#: Bytes that a JSON string escapes (controls, quote, backslash) as 1, others 0 (a newline
#: only matters inside a record of several lines, which is split anyway).
_ESCAPED = bytes(1 if (b < 0x20 and b != 0x0A) or b in (0x22, 0x5C) else 0 for b in range(256))

_PLAIN, _QUOTE, _LINES, _EXACT = 0, 1, 2, 3

#: What follows the second of a time in logging's default form, by its milliseconds: the
#: ISO fraction and the closing quote.
_FRACTIONS = {f"{ms:03d}": f".{ms:03d}000\"" if ms else '"' for ms in range(1000)}

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
        #: Head key -> the JSON around its message (``_fragments``), None: not JSON.
        self._heads: dict[Any, tuple[str, str, str, str] | None] = {}
        #: The first 19 characters of a default-form time -> '{"time":"' and the ISO text of
        #: its second ("": no valid time).
        self._seconds: dict[str, str] = {}
        #: Time key -> '{"time":' and the JSON of the ISO time (other forms).
        self._times: dict[Any, str] = {}

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
        lines = (line_idx + first_line).tolist()
        reader = self.lines
        rows = reader.split(piece.decode("utf-8", "replace")) if reader is not None else None
        if rows is None:
            one = self.one
            return b"".join(one(offset + int(s), ln, piece[int(s):int(e)])
                            for s, e, ln in zip(bounds[:-1], bounds[1:], lines))
        assert reader is not None
        status = self._status(piece, bounds, line_idx).tolist()
        first = (line_idx - line_idx[0]).tolist()
        msg_at, unread_at = reader.message_at, reader.unread_at
        head_key, time_key, default_at = reader.head_key, reader.time_key, reader.default_time_at
        heads, seconds, times, fractions = self._heads, self._seconds, self._times, _FRACTIONS
        other = self._other
        out: list[str] = []
        add = out.append
        for j, (row_at, line, kind) in enumerate(zip(first, lines, status)):
            row = rows[row_at]
            frag = None if kind or row[unread_at] else heads.get(head_key(row))
            if frag is not None:  # a plain record of a known head
                if default_at is not None:
                    stamp = row[default_at]
                    second = seconds.get(stamp[:19])
                    if second:
                        add(f"{second}{fractions[stamp[20:]]}{frag[0]}{row[msg_at]}{frag[1]}"
                            f"{line}}}\n")
                        continue
                else:
                    time = times.get(time_key(row))
                    if time is not None:
                        add(f"{time}{frag[0]}{row[msg_at]}{frag[1]}{line}}}\n")
                        continue
            add(other(piece, bounds, j, row, kind, offset, line))
        return "".join(out).encode("utf-8")

    def _other(self, piece: bytes, bounds: np.ndarray, j: int, row: tuple[str, ...],
               kind: int, offset: int, line: int) -> str:
        """The JSON line of record ``j`` when the loop's shortcut does not apply: a new head
        or time, a message to escape, several lines, or the exact path."""
        reader = self.lines
        assert reader is not None
        s, e = int(bounds[j]), int(bounds[j + 1])
        if kind == _EXACT or row[reader.unread_at]:  # not read by the strict prefix: parsed
            return self.one(offset + s, line, piece[s:e]).decode("utf-8")
        end = piece.find(b"\n", s, e)
        first = piece[s : e if end < 0 else end].decode("utf-8", "replace")
        key = reader.head_key(row)
        if key in self._heads:
            frag = self._heads[key]
        else:
            frag = self._fragments(*reader.head(first))
            _remember(self._heads, key, frag)
        if frag is None:  # fields orjson refuses: dumps_record knows what to write
            return self.one(offset + s, line, piece[s:e]).decode("utf-8")
        at = reader.default_time_at
        if at is not None:
            stamp = row[at]
            second = self._seconds.get(stamp[:19])
            if second is None:
                iso = reader.second_iso(first)
                second = "" if iso is None else f'{{"time":"{iso}'
                _remember(self._seconds, stamp[:19], second)
            time = second + _FRACTIONS[stamp[20:]] if second else '{"time":null'
        else:
            tkey = reader.time_key(row)
            time = self._times.get(tkey)  # type: ignore[assignment]
            if time is None:
                iso = reader.time_iso(first)
                time = '{"time":null' if iso is None else f'{{"time":"{iso}"'
                _remember(self._times, tkey, time)
        message = row[reader.message_at]
        if kind == _PLAIN:
            return f"{time}{frag[0]}{message}{frag[1]}{line}}}\n"
        exc = None
        if kind == _LINES:
            rest = piece[end + 1 : e].decode("utf-8", "replace")
            message, exc = split_exception(message + ("\n" + rest).rstrip("\n"))
        return (f'{time}{frag[2]}{_dumps(message)},"exc":{_dumps(exc)}{frag[3]}'
                f"{line}}}\n")

    def _fragments(self, level: str | None, levelno: int, logger: str,
                   fields: dict[str, Any]) -> tuple[str, str, str, str] | None:
        """The JSON around a message for a head: from the level to the message, and from
        after it to the line number; for a message written as is (no escaping, ``"exc"``
        null) and for one written by orjson (``"exc"`` between). None: fields orjson
        refuses."""
        try:
            text = orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return None
        head = (f',"level":{_dumps(level)},"levelno":{levelno},"logger":{_dumps(logger)},'
                f'"message":')
        tail = f',"fields":{text},"source":{self._source},"line":'
        return head + '"', '","exc":null' + tail, head, tail

    @staticmethod
    def _status(piece: bytes, bounds: np.ndarray, line_idx: np.ndarray) -> np.ndarray:
        """Per record: plain (one line, nothing to escape), quote (one line, its message
        needs escaping), lines (several lines) or exact (an escape sequence, a carriage
        return or an empty first line: the parser's own path)."""
        starts = bounds[:-1]
        count = len(starts)
        status = np.zeros(count, dtype=np.int8)
        escaped = piece.translate(_ESCAPED)
        if escaped.count(1):
            hits = np.flatnonzero(np.frombuffer(escaped, dtype=np.uint8))
            status[np.unique(np.searchsorted(starts, hits, side="right") - 1)] = _QUOTE
        # One line: the next record starts on the next line (the last: no newline inside).
        several = np.zeros(count, dtype=bool)
        several[:-1] = np.diff(line_idx) > 1
        s, e = int(starts[-1]), len(piece)
        several[-1] = piece.find(b"\n", s, e - 1) >= 0
        status[several] = _LINES
        arr = np.frombuffer(piece, dtype=np.uint8)
        marks = [starts[arr[starts] == 0x0A]]  # an empty first line: read as unread
        if b"\r" in piece:
            marks.append(np.flatnonzero(arr == 0x0D))
        if holds_escape(piece):
            marks.append(np.array([m.start() for m in ESCAPE_BYTES_RE.finditer(piece)],
                                  dtype=np.int64))
        for found in marks:
            if len(found):
                status[np.unique(np.searchsorted(starts, found, side="right") - 1)] = _EXACT
        return status


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= MEMO:  # a hostile file of ever new heads stays bounded
        memo.clear()
    memo[key] = value
