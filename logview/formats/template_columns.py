"""The level, logger and time of many template records at once, read with numpy.

Counting records per level, logger and time (the viewer's level bar, logger tree and
histogram) needs three header fields of every record, not the record. A ``logging`` template
says where they are: the head opens with literals and fields in a known order, each field
ending where the next literal starts. ``ColumnWalker`` walks that order over a whole chunk of
records at once, with the word primitives of ``byte_chunk`` (a few numpy passes over the
records, none over the chunk's bytes): a literal at a known place is a masked word, a field's
end is the first occurrence of the literal after it (searched from each record a word at a
time), a time of fixed width is checked as masked words of digits and separators, and the
values of a field become 64-bit words whose distinct values (a few loggers, five levels, one
time a minute) are decoded once each. A field read past its line holds the newline, which no
value passes: the walk needs no line ends.

The walk is the regex's own reading: fields are read shortest first, as the template's regex
reads them when the next literal could occur inside (``template_compile``), and every field up
to the message is walked and checked against its kind, so a split the regex would reject is
not taken. Records the walk cannot read (a line that does not fit, a level it does not know,
a head holding an escape, a value too long) are returned as such: the caller parses those
(``logview.columns``). Templates the walk cannot follow (a field of free text before the
message, two fields with no literal between them, a time of variable width, a needed field
after the message, a newline or NUL in the head's literals) have no walker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from logview.formats.byte_chunk import (
    ALL_ONES,
    MAX_VALUE,
    MIX,
    REPUNIT48,
    ByteChunk,
    digits_at,
    escapes,
    group,
    next_of,
    same_as_first,
    word_of,
)
from logview.formats.template_syntax import TemplateField
from logview.formats.word_vocabulary import WordVocabulary
from logview.timeparse import to_timestamp

#: Fields whose values hold no whitespace (``template_compile._WORD_ATTRS``).
_WORD = frozenset({"name", "module", "funcName", "filename", "processName"})
_NUMBER = frozenset({"lineno", "process", "thread", "levelno", "msecs"})
#: Fields whose values a whitespace in them makes unreadable (``_columns``).
_NO_SPACE = _WORD | _NUMBER
#: The fields the counts need (the rest is only checked).
_WANTED = frozenset({"levelname", "levelno", "name", "asctime"})
#: strftime directives of one width: (component, digits).
_FIXED_DIRECTIVES = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "y": 2, "j": 3}
_DIRECTIVE = re.compile(r"%(.)")
_NUMBER_TEXT = re.compile(r"[-+]?\d+(?:\.\d+)?")
_LEVEL_NUMBER = re.compile(r"Level \d+")


@dataclass(slots=True, frozen=True)
class TimeLayout:
    """A time of fixed width: where its digits and separators are."""

    digits: tuple[tuple[str, int, int], ...]  # (component, offset, width)
    literals: tuple[tuple[int, int], ...]  # (offset, byte)
    width: int
    fraction: int | None = None  # offset of logging's default ",mmm" milliseconds

    @property
    def components(self) -> frozenset[str]:
        return frozenset(c for c, _, _ in self.digits)


def time_layout(datefmt: str | None) -> TimeLayout | None:
    """The layout of times written with ``datefmt`` (None: logging's default), or None when
    a directive has no fixed width (month names, ``%-d``, ``%f``, zones)."""
    if datefmt is None:
        default = time_layout("%Y-%m-%d %H:%M:%S")
        assert default is not None
        return TimeLayout(default.digits, default.literals + ((19, ord(",")),), 23, 20)
    digits: list[tuple[str, int, int]] = []
    literals: list[tuple[int, int]] = []
    at = pos = 0
    for m in _DIRECTIVE.finditer(datefmt):
        for ch in datefmt[pos : m.start()].encode():
            literals.append((at, ch))
            at += 1
        pos = m.end()
        code = m[1]
        if code == "%":
            literals.append((at, ord("%")))
            at += 1
            continue
        width = _FIXED_DIRECTIVES.get(code)
        if width is None:
            return None
        digits.append((code, at, width))
        at += width
    for ch in datefmt[pos:].encode():
        literals.append((at, ch))
        at += 1
    if not digits:
        return None
    return TimeLayout(tuple(digits), tuple(literals), at)


@dataclass(slots=True, frozen=True)
class _Step:
    kind: str  # "literal", "time" (fixed width) or "field" (ends where ``literal`` starts)
    attr: str = ""
    literal: bytes = b""
    width: int = 0  # "field": the padding width (0: none)
    fill: str = " "


#: A field matched by a vocabulary: the vocabulary, and each record's entry (-1: none).
_Matched = tuple[WordVocabulary, np.ndarray]


@dataclass(slots=True)
class HeaderColumns:
    """What the walk read from a chunk's records (one entry per record start given)."""

    ok: np.ndarray  # bool: the record was read; the others must be parsed
    levelnos: np.ndarray  # int16 (0: no level)
    loggers: np.ndarray  # int32 into ``logger_names`` (-1: none)
    logger_names: list[str]
    times: np.ndarray  # float64 seconds since the epoch (NaN: none)


def plan_steps(tokens: list[str | TemplateField], datefmt: str | None) -> list[_Step] | None:
    """The walk over a template's head, up to its message; None when it cannot be walked."""
    steps: list[_Step] = []
    if datefmt is not None and ("\n" in datefmt or "\0" in datefmt):
        return None
    for i, tok in enumerate(tokens):
        if isinstance(tok, str):
            if "\n" in tok or "\0" in tok:
                return None  # the walk reads a head on its first line, and no padding
            steps.append(_Step("literal", literal=tok.encode()))
            continue
        attr = tok.attr
        if any(step.attr == attr for step in steps):
            return None  # a field written twice: the parser does not read such a head
        if attr == "message":
            rest = {t.attr for t in tokens[i + 1 :] if isinstance(t, TemplateField)}
            if rest & _WANTED:
                return None  # a field the counts need is read after the message
            break
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if attr == "asctime":
            if tok.align or time_layout(datefmt) is None:
                return None
            steps.append(_Step("time", attr))
        elif attr in _WORD or attr in _NUMBER or attr == "levelname":
            if not isinstance(nxt, str) or not nxt or tok.precision is not None:
                return None  # two fields with no literal between, or a cut value
            steps.append(_Step("field", attr, literal=nxt.encode(),
                               width=tok.width if tok.align else 0, fill=tok.fill))
        else:
            return None  # free text (threadName, pathname...) may hold any literal
    if not any(step.attr in _WANTED for step in steps):
        return None
    return steps




@dataclass(slots=True, frozen=True)
class _TimeWord:
    """8 bytes of a time (and of the literal after it), as masks over the word view."""

    literal_mask: np.uint64  # its separators and the literal after the time
    literal: np.uint64
    digit_mask: np.uint64  # its digits
    key_mask: np.uint64  # what a minute (second) shares: its separators and key digits
    own_digits: np.uint64  # the digits each record writes anew (seconds, fraction)


def _time_words(layout: TimeLayout, to_second: bool, after: bytes = b"") -> list[_TimeWord]:
    """The words of a time and of the literal ``after`` it: its minute (its second when
    ``to_second``) is what the key masks keep, separators included, so that a record whose
    key equals its predecessor's has the same separators and key digits."""
    size = -(-(layout.width + len(after)) // 8) * 8
    literal, literal_mask = bytearray(size), bytearray(size)
    digit_mask, key_mask = bytearray(size), bytearray(size)
    separators = [*layout.literals, *((layout.width + k, b) for k, b in enumerate(after))]
    for offset, byte in separators:
        literal[offset], literal_mask[offset], key_mask[offset] = byte, 0xFF, 0xFF
    for comp, offset, width in layout.digits:
        for k in range(offset, offset + width):
            digit_mask[k] = 0xFF
            if comp != "S" or to_second:
                key_mask[k] = 0xFF
    if layout.fraction is not None:
        digit_mask[layout.fraction : layout.fraction + 3] = b"\xff" * 3
    own = bytes(d & ~k & 0xFF for d, k in zip(digit_mask, key_mask))
    return [_TimeWord(word_of(bytes(literal_mask[k : k + 8])), word_of(bytes(literal[k : k + 8])),
                      word_of(bytes(digit_mask[k : k + 8])), word_of(bytes(key_mask[k : k + 8])),
                      word_of(own[k : k + 8]))
            for k in range(0, size, 8)]


def _number(words: np.ndarray, offset: int, width: int) -> np.ndarray:
    """The number written with ``width`` digits (checked) at byte ``offset`` of each row of
    ``words`` (n x k uint64), a few shifts a digit."""
    value = None
    for k in range(offset, offset + width):
        byte = (words[:, k // 8] >> np.uint64(8 * (k % 8))) & np.uint64(0xFF)
        value = byte if value is None else value * np.uint64(10) + byte
    assert value is not None
    return value.astype(np.int64) - REPUNIT48[width]


class ColumnWalker:
    """Reads level, logger and time of a chunk's records for one ``TemplateFormat``.

    ``level_of(text)`` is the format's reading of a level name (``(name, number)``);
    ``time_of(parts)`` turns strftime components (``{"Y": "2024", ...}``) into a datetime;
    ``msecs_add``: the milliseconds come from ``%(msecs)`` (the time has no fraction).
    """

    def __init__(self, steps: list[_Step], layout: TimeLayout | None,
                 level_of: Callable[[str], tuple[str | None, int]],
                 time_of: Callable[[dict[str, str]], datetime | None], msecs_add: bool) -> None:
        self.steps = steps
        self.layout = layout
        self.level_of = level_of
        self.time_of = time_of
        self.msecs_add = msecs_add
        self._levels: dict[bytes, int] = {}
        #: ``_levels`` as a vocabulary, per level field's literal and least width.
        self._level_words: dict[tuple[bytes, int], WordVocabulary | None] = {}
        self._vocabulary_of = 0  # how many ``_levels`` they were built of
        #: A time without a year or a date is placed by comparing it with a reference, to
        #: the second: its distinct values are seconds, not minutes.
        self._to_second = layout is not None and not (
            layout.components & {"Y", "y"} and layout.components & {"m", "d", "j"})
        self._stamps: dict[bytes, float] = {}  # a minute's bytes (masked): its epoch seconds
        #: Literal steps checked by the step before them: a field ends where its literal was
        #: found, and the literal after a time is compared with the time's own words.
        self._checked = {i for i, step in enumerate(steps)
                         if step.kind == "literal" and i and steps[i - 1].kind != "literal"}
        after_time = b""
        for i, step in enumerate(steps[:-1]):
            if step.kind == "time" and steps[i + 1].kind == "literal":
                after_time = steps[i + 1].literal
        self._time_words = None if layout is None else _time_words(layout, self._to_second,
                                                                  after_time)

    def read(self, buf: bytes, starts: np.ndarray) -> HeaderColumns:
        """The header columns of the records starting at ``starts`` (offsets into ``buf``)."""
        chunk = ByteChunk(buf)
        starts = np.asarray(starts, dtype=np.int64)
        ok = np.ones(len(starts), dtype=bool)
        pos = starts
        #: Each field's start and end, and its vocabulary entry when it was matched as one.
        values: dict[str, tuple[np.ndarray, np.ndarray, _Matched | None]] = {}
        for i, step in enumerate(self.steps):
            if step.kind == "literal":
                if i not in self._checked:
                    ok &= chunk.holds(pos, step.literal)
                pos = pos + len(step.literal)
                continue
            if step.kind == "time":
                assert self.layout is not None
                end = pos + self.layout.width
            elif step.attr == "levelname" and (vocabulary := self._vocabulary(step)) is not None:
                # The level names met so far, matched as words where the field begins; the
                # other records search where it ends.
                entry = vocabulary.match(chunk, pos)
                end = pos + vocabulary.lengths[entry]
                missed = np.flatnonzero(entry < 0)
                if len(missed):
                    end[missed] = self._field_end(chunk, ok, step, pos, missed)
                values[step.attr] = (pos, end, (vocabulary, entry))
                pos = end
                continue
            else:
                end = self._field_end(chunk, ok, step, pos)
            values[step.attr] = (pos, end, None)
            pos = end
        # A head holding an escape is parsed (the parser strips escapes first; what follows
        # the head is the message, which the counts do not read).
        ok &= next_of(escapes(buf), starts, chunk.size) >= pos
        return self._columns(chunk, ok, values)

    @staticmethod
    def _field_end(chunk: ByteChunk, ok: np.ndarray, step: _Step, pos: np.ndarray,
                   which: np.ndarray | None = None) -> np.ndarray:
        """Where the field at ``pos`` (of records ``which``: all when None) ends: the first
        occurrence of the next literal. A field read past its line holds the newline, which
        no value read passes (``_columns``); a record whose literal is not found is not ok."""
        at = pos if which is None else pos[which]
        lo = at + max(1, step.width)
        single = len(step.literal) == 1
        if single or step.attr in _NO_SPACE and step.literal[:1] in (b" ", b"\t"):
            # A literal of one byte is where that byte first is. A value that holds no
            # whitespace ends at the first byte the literal begins with: the literal is
            # there, or the search would end the field further on and the value, holding
            # that byte, would not pass (``_columns``). Found in a 64-byte row's bit word;
            # past it, searched.
            first = chunk.first_byte(step.literal[0], lo)
            held = first >= 0 if single else chunk.holds(first, step.literal) & (first >= 0)
            end = np.where(held & (first <= at + MAX_VALUE), first, -2)
            far = np.flatnonzero(first < 0)
            if len(far):
                end[far] = chunk.find(step.literal, lo[far], at[far] + MAX_VALUE)
        else:
            end = chunk.find(step.literal, lo, at + MAX_VALUE)
        if which is None:
            ok &= end >= 0
        else:
            ok[which] &= end >= 0
        return np.where(end >= 0, end, at)

    def _vocabulary(self, step: _Step) -> WordVocabulary | None:
        """The level names met so far (with a number) as a vocabulary, rebuilt when the
        format met new ones."""
        if self._vocabulary_of != len(self._levels):
            self._vocabulary_of = len(self._levels)
            self._level_words.clear()
        key = (step.literal, max(1, step.width))
        if key not in self._level_words:
            known = {raw: number for raw, number in self._levels.items() if number > 0}
            self._level_words[key] = WordVocabulary.build(known, *key)
        return self._level_words[key]

    def _columns(self, chunk: ByteChunk, ok: np.ndarray,
                 values: dict[str, tuple[np.ndarray, np.ndarray, _Matched | None]]
                 ) -> HeaderColumns:
        count = len(ok)
        out = HeaderColumns(ok, np.zeros(count, dtype=np.int16), np.full(count, -1, np.int32),
                            [], np.full(count, np.nan))
        for step in self.steps:
            if step.kind == "literal" or not ok.any():
                continue
            a, b, matched = values[step.attr]
            if step.kind == "time":
                self._read_time(chunk, out, a)
                continue
            if matched is not None:
                self._vocabulary_levels(chunk, out, ok, step, a, b, *matched)
                continue
            raw, inverse, certain = chunk.distinct(a, np.where(ok, b - a, 0))
            ok &= certain
            texts = [v.decode("utf-8", "replace") for v in raw]
            if step.width:
                texts = [t.strip(step.fill) for t in texts]
            if step.attr == "levelname":
                numbers = np.array([self._level(v, t) for v, t in zip(raw, texts)],
                                   dtype=np.int32)
                ok &= (numbers > 0)[inverse]
                out.levelnos = np.where(ok, numbers[inverse], 0).astype(np.int16)
            elif step.attr in _WORD:
                good = np.array([bool(t) and not any(c.isspace() for c in t) for t in texts])
                ok &= good[inverse]
                if step.attr == "name":
                    out.logger_names = texts
                    out.loggers = np.where(ok, inverse, -1).astype(np.int32)
            else:  # a number: checked; msecs added to the time, levelno read as the level
                parsed = np.array([float(t) if _NUMBER_TEXT.fullmatch(t) else np.nan
                                   for t in texts])
                ok &= ~np.isnan(parsed)[inverse]
                if step.attr == "msecs" and self.msecs_add:
                    out.times = out.times + np.where(ok, parsed[inverse], 0.0) / 1000.0
                elif step.attr == "levelno" and "levelname" not in values:
                    numbers = np.nan_to_num(parsed, nan=0).astype(np.int32)
                    out.levelnos = np.where(ok, numbers[inverse], 0).astype(np.int16)
        out.ok = ok
        return out

    def _vocabulary_levels(self, chunk: ByteChunk, out: HeaderColumns, ok: np.ndarray,
                           step: _Step, a: np.ndarray, b: np.ndarray,
                           vocabulary: WordVocabulary, entry: np.ndarray) -> None:
        """Level numbers of the records whose name the vocabulary matched; the others' names
        read as distinct values, as any field's."""
        levelnos = vocabulary.numbers[entry]
        missed = np.flatnonzero((entry < 0) & ok)
        if len(missed):
            raw, inverse, certain = chunk.distinct(a[missed], (b - a)[missed])
            texts = [v.decode("utf-8", "replace") for v in raw]
            if step.width:
                texts = [t.strip(step.fill) for t in texts]
            numbers = np.array([self._level(v, t) for v, t in zip(raw, texts)], dtype=np.int32)
            ok[missed] &= certain
            levelnos[missed] = numbers[inverse]
        ok &= levelnos > 0
        out.levelnos = np.where(ok, levelnos, 0).astype(np.int16)

    def _read_time(self, chunk: ByteChunk, out: HeaderColumns, a: np.ndarray) -> None:
        """Times of fixed width, as masked words. Times mostly come in order: each record's
        minute (its digits and separators; its second when the time needs a reference) is
        compared with the previous record's, and only the first record of each run of equal
        minutes is checked and turned into epoch seconds (the runs' distinct minutes once
        each, by the format); the seconds and fraction each record writes are checked and
        read per record."""
        layout, words_of = self.layout, self._time_words
        assert layout is not None and words_of is not None
        ok = out.ok
        n = len(a)
        words = chunk.rows(a, 8 * len(words_of)).view(np.uint64)
        change = np.empty(n, dtype=bool)
        change[:1] = True
        change[1:] = False
        for j, word in enumerate(words_of):
            if word.key_mask:
                key = words[:, j] if word.key_mask == ALL_ONES else words[:, j] & word.key_mask
                change[1:] |= key[1:] != key[:-1]
            if word.own_digits:
                ok &= digits_at(words[:, j], word.own_digits)
        firsts = np.flatnonzero(change)
        heads = words[firsts]  # each run's first record: its separators and minute checked
        run_ok = np.ones(len(firsts), dtype=bool)
        key = np.zeros(len(firsts), dtype=np.uint64)
        for j, word in enumerate(words_of):
            w = heads[:, j]
            run_ok &= (w & word.literal_mask) == word.literal
            run_ok &= digits_at(w, word.digit_mask & word.key_mask)
            key += (w & word.key_mask) * MIX[j]
        keys = heads & np.array([word.key_mask for word in words_of], dtype=np.uint64)
        reps, inverse = group(key)
        run_ok &= same_as_first(keys, reps, inverse)  # the same minute, not only its hash
        stamps = np.array([self._stamp(m.tobytes()) for m in keys[reps]], dtype=np.float64)
        stamps = np.where(run_ok, stamps[inverse], np.nan)
        times = np.repeat(stamps, np.diff(firsts, append=n))
        ok &= ~np.isnan(times)
        if not self._to_second and "S" in layout.components:
            offset = next(o for c, o, _ in layout.digits if c == "S")
            times = times + _number(words, offset, 2)
        if layout.fraction is not None:
            times = times + _number(words, layout.fraction, 3) / 1000.0
        out.times = np.where(ok, times, np.nan)

    def _stamp(self, raw: bytes) -> float:
        """Epoch seconds of the minute (second) whose digits ``raw`` holds (NaN: none)."""
        assert self.layout is not None
        stamp = self._stamps.get(raw)
        if stamp is None:
            parts = {c: raw[o : o + w].decode("ascii", "replace")
                     for c, o, w in self.layout.digits if c != "S" or self._to_second}
            when = self.time_of(parts) if all(p.isdigit() for p in parts.values()) else None
            got = None if when is None else to_timestamp(when)
            stamp = float("nan") if got is None else got
            if len(self._stamps) >= 4096:
                self._stamps.clear()
            self._stamps[raw] = stamp
        return stamp

    def _level(self, raw: bytes, text: str) -> int:
        number = self._levels.get(raw)
        if number is None:
            known = _LEVEL_NUMBER.fullmatch(text) or (text and not any(map(str.isspace, text)))
            number = self.level_of(text)[1] if known else 0
            if len(self._levels) < 1024:
                self._levels[raw] = number
        return number
