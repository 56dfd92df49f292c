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

A query's candidates (the records its needles found) go the same way (``matching``): each is
read from its bytes as above and tested by the query on the record the parser would make
(``record_of_plain`` for a plain object, whose output is then written from its values; a
query that reads nothing but extra fields, ``status>=500``, is asked of the object's fields
alone: making the record was a third of a match's cost); the exact path renders nothing for
a record the query does not keep.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import numpy as np
import orjson
from orjson import OPT_NON_STR_KEYS, dumps

from logview.formats.base import LogFormat
from logview.formats.jsonl import PlainValues, record_of_plain
from logview.json_shape_text import ShapeText
from logview.printer import shown_field, synthesise
from logview.record import ESCAPE_BYTES_RE, FieldsOnly, Record, holds_escape
from logview.timeparse import parse_time

#: The exact path for one record: (offset in the file, line number, bytes) -> rendered.
OneRecord = Callable[[int, int, bytes], bytes]

_OPEN, _CLOSE, _NEWLINE = 0x7B, 0x7D, 0x0A


class RecordChunks:
    """Renders the records of chunks of one file of ``fmt`` with ``render``.

    ``source`` is the name every record is stamped with (unless it names its own, as
    ``parse_raw_record`` does); ``one`` makes and renders a single record exactly.
    """

    def __init__(self, fmt: LogFormat | None, source: str, one: OneRecord,
                 render: Callable[[Record], bytes], *, jsonl: bool = False,
                 original: bool = False) -> None:
        """``jsonl``: ``render`` is ``-o jsonl``'s; ``original``: ``render`` is the text of a
        printer into a pipe (``printer.original_bytes``)."""
        self.read = fmt.object_reader() if fmt is not None else None
        self.one = one
        self._render = render
        self._source = source
        #: ``-o jsonl``: a plain object's values straight to its JSON line (``_json_line``).
        #: Text into a pipe: a plain object's values straight to its text (``_text_line``).
        plain = (getattr(fmt, "plain_reader", None) if (jsonl or original)
                 and self.read is not None else None)
        self.plain = plain() if plain is not None else None
        #: Text into a pipe: an object of a key order met, its text made by one regex.
        self._shape_text = (ShapeText(self.plain.layout, self.plain.level_name, shown_field)
                            if self.plain is not None and original and not jsonl else None)
        self._plain_line = self._json_line if jsonl else self._text_line
        self._source_json = orjson.dumps(source)
        self._heads: dict[tuple[str | None, int, str], bytes] = {}

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
        if self.read is None:
            one = self.one
            return b"".join(one(offset + s, ln, buf[s:e]) for s, e, ln in
                            zip(starts.tolist(), ends.tolist(), lines)), count
        closes = self._object_lines(buf, starts, ends, line_idx)
        starts_list, ends_list = starts.tolist(), ends.tolist()
        if self._shape_text is not None and closes.all():  # (every record one object line)
            made = self._shape_text.chunk(buf, count)
            if made is not None:
                for j in [j for j, text in enumerate(made) if text is None]:
                    made[j] = self._records(buf, starts_list[j:j + 1], ends_list[j:j + 1],
                                            [int(closes[j])], lines[j:j + 1], offset, None)[0]
                return b"".join(made), count  # type: ignore[arg-type]
        out = self._records(buf, starts_list, ends_list, closes.tolist(), lines, offset, None)
        return b"".join(out), count

    def matching(self, buf: bytes, spans: list[tuple[int, int]], lines: list[int | None],
                 offset: int, keep: Callable[[Record], bool], *,
                 fields_only: bool = False, escaped: bool | None = None) -> list[bytes]:
        """The rendered records ``buf[s:e]`` of ``spans`` (whole records, in file order, the
        ``j``-th on line ``lines[j]``) that ``keep`` accepts, each tested on the record
        ``one`` would make (``one`` itself renders b"" for a record it does not keep):
        the candidates of a query's needles (``scan_ranges``). ``fields_only``: ``keep``
        reads nothing but a record's ``fields`` (``Query.fields_only``), so a plain
        object's is tested on its fields alone, without making its record. ``escaped``:
        ``holds_escape(buf)``, when the caller knows it."""
        if not spans:
            return []
        starts, ends = [s for s, _ in spans], [e for _, e in spans]
        if self.read is None:
            one = self.one
            return [one(offset + s, ln, buf[s:e]) for s, e, ln in zip(starts, ends, lines)]
        find = buf.find
        # Per record: the end of its line when it is one object on one line (no escape yet),
        # else 0, inline (a call a candidate costs as much as the test).
        closes = [c if (c - 1 > s and buf[s] == _OPEN and buf[c - 1] == _CLOSE
                        and find(b"\n", s, c) < 0) else 0
                  for s, e in spans for c in (e - 1 if buf[e - 1] == _NEWLINE else e,)]
        if holds_escape(buf) if escaped is None else escaped:  # (rare: one search a chunk)
            for hit in (m.start() for m in ESCAPE_BYTES_RE.finditer(buf)):
                j = bisect_right(starts, hit) - 1
                if j >= 0 and hit < ends[j]:  # the record holds an escape sequence
                    closes[j] = 0
        return self._records(buf, starts, ends, closes, lines, offset, keep, fields_only)

    def _records(self, buf: bytes, starts: list[int], ends: list[int], closes: list[int],
                 lines: list, offset: int, keep: Callable[[Record], bool] | None,
                 fields_only: bool = False) -> list[bytes]:
        """The rendered records ``buf[starts[j]:ends[j]]`` (those ``keep`` accepts, all with
        None); ``closes[j]``: the end of a one-line object's line (``_object_lines``) or 0."""
        one, read, render, source = self.one, self.read, self._render, self._source
        plain, plain_line = self.plain, self._plain_line
        shapes = self._shape_text if keep is None else None
        out: list[bytes] = []
        add = out.append
        for s, e, c, ln in zip(starts, ends, closes, lines):
            data = buf[s:e]
            if c:
                line = buf[s:c]
                if plain is not None:
                    values = plain(line)
                    if values is not None:
                        if shapes is not None:
                            shapes.learn(line)
                        if keep is not None and not (
                                keep(FieldsOnly(values[5])) if fields_only else
                                keep(record_of_plain(values, source, ln, offset + s,
                                                     line.decode(), data))):
                            continue  # (tested on the record read would make, or its fields)
                        made = plain_line(values, ln, data)
                        if made is not None:
                            add(made)
                            continue
                record = read(line)
                if record is not None:  # what parse_raw_record would make of it
                    record.raw = line.decode()
                    record.data = data
                    if not record.source:
                        record.source = source
                    record.line = ln
                    record.offset = offset + s
                    if keep is None or keep(record):
                        add(render(record))
                    continue
            add(one(offset + s, ln, data))
        return out

    @staticmethod
    def _text_line(values: PlainValues, line: int, data: bytes) -> bytes:
        """``original_bytes`` of a plain record: its text made from its fields, or its bytes
        when it has no level, logger or time."""
        time_text, level, _, message, logger, fields = values
        if not (level or logger) and parse_time(time_text) is None:
            return data if data.endswith(b"\n") else data + b"\n"
        text = synthesise(time_text, level, logger, message, fields, None)
        return (text + "\n").encode("utf-8", "replace")

    def _json_line(self, values: PlainValues, line: int, data: bytes) -> bytes | None:
        """The ``-o jsonl`` line of a plain record (``dumps_record``'s bytes: its keys in
        order, compact), or None for fields orjson refuses (``dumps_record`` knows what to
        write)."""
        time_text, level, levelno, message, logger, fields = values
        try:
            fields_json = dumps(fields, option=OPT_NON_STR_KEYS)
        except TypeError:
            return None
        key = (level, levelno, logger)
        head = self._heads.get(key)
        if head is None:
            head = (b',"level":%b,"levelno":%d,"logger":%b,"message":'
                    % (dumps(level), levelno, dumps(logger)))
            if len(self._heads) >= 4096:  # ever new heads stay bounded
                self._heads.clear()
            self._heads[key] = head
        time = parse_time(time_text)
        stamp = b"null" if time is None else b'"%b"' % time.isoformat().encode()
        return (b'{"time":%b%b%b,"exc":null,"fields":%b,"source":%b,"line":%d}\n'
                % (stamp, head, dumps(message), fields_json, self._source_json, line))

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
