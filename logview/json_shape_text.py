"""The text ``--print`` writes for one-line JSON objects, made a chunk at a time from their
bytes by one regex for the key orders met, without decoding them.

Printing JSON lines as text into a pipe (``record_chunks``) decodes each object, finds its
time, level, logger and message (``json_plain``) and writes them and the other fields as
``key=value`` (``printer.synthesise``): 7-8 µs of CPU a record, where a text log's bytes are
copied. Most files hold a few key orders, every object of one spelled the same way. For each
key order the plain reader has read (``json_plain.plain_reader``'s ``layout``), a regex
matches an object of exactly those keys in that order whose values need no decoding; one
``findall`` over a chunk of such lines gives each line's values (or the line itself, when no
key order fits it), and the text is put together from them. The regex admits only what reads
the same as bytes and as decoded values:

- a string of printable ASCII without ``"`` or ``\\`` (no escape, no control character, no
  multi-byte character: a message with any goes the exact way); the time, level and logger
  not empty;
- an integer of at most 18 digits (not ``-0``, which decodes to ``0``), ``true``, ``false``,
  ``null``, and a decimal number of at most 14 digits in the form orjson writes its float back
  (``1.5``, ``0.0001``, ``5.0``; not ``1.50`` nor ``1e3``), each written as it is;
- spaces around ``:`` and ``,``, and nothing else (no other whitespace, no nesting).

Whatever no regex admits is read the exact way (``RecordChunks``), and a test compares the
two on random objects. A field's text follows ``synthesise``: a string without spaces bare,
one with a space (or empty) in its quotes, the quiet fields (``printer.shown_field``) left
out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from orjson import loads

#: Key orders kept at most (the most recently learned first).
MAX_SHAPES = 8
#: Lines whose key order is looked up after a miss, at most (a file whose objects never fit
#: stops paying for the look-up).
MAX_LEARNS = 256

#: A string's bytes that read the same decoded: printable ASCII but ``"`` and ``\\``.
_CHAR = rb'[ -!#-\[\]-~]'
_WORD = rb'[!#-\[\]-~]'
#: A decimal number orjson writes back as the same bytes (at most 14 digits: a float
#: holds 15 exactly, and the shortest form of its value is then this one; a magnitude
#: from 0.0001 on, below which floats are written with an exponent).
_DECIMAL = (rb'-?(?:[1-9][0-9]{0,5}\.(?:0|[0-9]{0,7}[1-9])'
            rb'|0\.(?:0|0{0,3}[1-9](?:[0-9]{0,6}[1-9])?))')
_KEY = re.compile(_WORD + rb'+')
#: A field's value as its text in two groups, one of them empty: a string without spaces
#: without its quotes, or a string with a space (or empty) in its quotes, a number or a
#: literal as it is. (Possessive repeats: the regex's time is most of the cost.)
_FIELD_VALUE = (rb'(?:"(' + _WORD + rb'++)"|("' + _CHAR + rb'*+"|-?[1-9][0-9]{0,17}+|0'
                rb'|true|false|null|' + _DECIMAL + rb'))')


class _Shape:
    """One key order: the part of the pattern that reads it and how its groups make text."""

    __slots__ = ("first", "get", "level", "source")

    def __init__(self, source: bytes, first: int, level: int, get: Callable[[tuple], tuple],
                 ) -> None:
        self.source = source
        #: Index (in a ``findall`` row) of the group of the whole object, set when it matched.
        self.first = first
        #: Index of the level's value.
        self.level = level
        #: A row's (time, level, logger, message, shown fields...) values.
        self.get = get


def _shape(keys: tuple[str, ...], role_keys: tuple[str, str, str, str],
           shown: Callable[[str], bool], first: int
           ) -> tuple[bytes, int, int, list[int], bytes] | None:
    """(pattern, groups it has, index of each role, indexes of shown fields, the text's
    format) for an object of exactly ``keys`` in order whose groups start at index
    ``first``; None when a key is not matched by its bytes (needs escaping, not ASCII)."""
    parts: list[bytes] = []
    at = first
    where: dict[str, int] = {}
    shown_at: list[int] = []
    layout = b"%b %b %b %b"
    if None in role_keys or len(set(role_keys)) < 4:
        return None
    for key in keys:
        raw = key.encode("utf-8")
        if _KEY.fullmatch(raw) is None:
            return None
        if key in role_keys:
            # (the time, level and logger not empty: ``synthesise`` writes the usual head)
            value = b"*+" if key == role_keys[2] else b"++"
            parts.append(b'"%b" *: *"(%b%b)"' % (re.escape(raw), _CHAR, value))
            where[key] = at
            at += 1
        else:
            parts.append(b'"%b" *: *' % re.escape(raw) + _FIELD_VALUE)
            if shown(key):
                shown_at += (at, at + 1)
                layout += b" %b=%%b%%b" % raw.replace(b"%", b"%%")
            at += 2
    pattern = rb'\{ *' + rb' *, *'.join(parts) + rb' *\}'
    return pattern, at - first, where[role_keys[1]], [where[k] for k in (
        role_keys[0], role_keys[1], role_keys[3], role_keys[2])] + shown_at, layout + b"\n"


class ShapeText:
    """Text lines of one-line JSON objects, for the key orders a plain reader has read.

    ``layout(keys)``: the plain reader's answer for a key order (None or missing: not read
    the short way; else its time, level, message and logger keys, its field keys and
    whether those are the other keys in order). ``level_name``: the level a level value
    reads as (name, number). ``shown``: whether one-line text shows a field.
    """

    def __init__(self, layout: Callable[[tuple[str, ...]], Any],
                 level_name: Callable[[str], tuple[str | None, int]],
                 shown: Callable[[str], bool]) -> None:
        self._layout = layout
        self._level_name = level_name
        self._shown = shown
        #: (key order, its pattern's text) of the shapes, the most recently learned first.
        self._orders: list[tuple[tuple[str, ...], tuple[str, str, str, str]]] = []
        self._known: set[tuple[str, ...]] = set()
        self._learns = 0
        self._regex: re.Pattern[bytes] | None = None
        self._shapes: list[tuple[_Shape, bytes]] = []
        #: Level value's bytes -> the level's name as bytes (b"": none).
        self._levels: dict[bytes, bytes] = {}

    def chunk(self, buf: bytes, count: int) -> list[bytes | None] | None:
        """Per line of ``buf`` (``count`` lines, each one object ``{...}``, each ending with a
        newline but perhaps the last): its text line, or None where no key order reads it
        (the exact way decides). None: no key order is known yet."""
        regex = self._regex
        if regex is None:
            return None
        rows = regex.findall(buf)
        if len(rows) != count:  # (cannot be: every line is one row)
            return None
        levels = self._levels
        out: list[bytes | None] = []
        add = out.append
        for row in rows:
            for shape, layout in self._shapes:
                if row[shape.first]:
                    values = shape.get(row)
                    level = levels.get(values[1])
                    if level is None:
                        level = self._level_of(values[1])
                    if level == values[1]:
                        add(layout % values)
                    elif level:
                        add(layout % (values[0], level, *values[2:]))
                    else:
                        add(None)
                    break
            else:
                add(None)
        return out

    def _level_of(self, value: bytes) -> bytes:
        name = self._level_name(value.decode("ascii"))[0]
        level = name.encode() if name else b""
        if len(self._levels) < 4096:  # (ever new values stay bounded)
            self._levels[value] = level
        return level

    def learn(self, line: bytes) -> None:
        """After a miss on ``line`` (an object the plain reader just read): take its key
        order into the pattern, once per key order, for at most ``MAX_LEARNS`` lines."""
        if self._learns >= MAX_LEARNS:
            return
        self._learns += 1
        keys = tuple(loads(line))
        if keys in self._known:
            return
        self._known.add(keys)
        hit = self._layout(keys)
        if not hit or not hit[5]:  # (fields not the other keys in order: not read short)
            return
        self._orders.insert(0, (keys, hit[:4]))
        del self._orders[MAX_SHAPES:]
        self._compile()

    def _compile(self) -> None:
        sources: list[bytes] = []
        shapes: list[tuple[_Shape, bytes]] = []
        at = 0
        for keys, roles in self._orders:
            made = _shape(keys, roles, self._shown, at + 1)
            if made is None:
                continue
            source, groups, level, wanted, layout = made
            # (the shape's first group is its time, level, logger or message: never empty)
            shapes.append((_Shape(source, at, level, itemgetter(*wanted)), layout))
            sources.append(b"(" + source + b")")  # (row index ``at``: the whole object)
            at += 1 + groups
        if not shapes:
            return
        # Each line is one row: an object of a known key order, or the line itself.
        self._regex = re.compile(b"(?:" + b"|".join(sources) + rb")(?=\n|\Z)\n?|[^\n]+\n?")
        self._shapes = shapes
