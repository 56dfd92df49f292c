"""Times of many JSON values at once, read with numpy as ``jsonl`` reads them: ISO-8601 text
of a fixed layout as digits (``parse_time``; each distinct minute parsed once, its first and
last second parsed in full to check the sum) and epoch numbers digit by digit
(``parse_epoch``). What might read differently is NaN (ISO) or not ``good`` (epoch): the
caller parses those records.
"""

from __future__ import annotations

import numpy as np

from logview.formats.byte_chunk import (
    MIX,
    ByteChunk,
    digits_at,
    group,
    same_as_first,
    word_of,
)
from logview.timeparse import parse_time, to_timestamp

_POW10 = 10 ** np.arange(19, dtype=np.int64)
#: ISO-8601 times read as digits: ``YYYY-MM-DD?HH:MM:SS``, a fraction, ``Z`` or ``+HH:MM``.
_ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_ISO_WIDTH = 36


def _digits(rows: np.ndarray, cols: tuple[int, ...]) -> np.ndarray:
    value = np.zeros(len(rows), dtype=np.int64)
    for col in cols:
        value = value * 10 + (rows[:, col].astype(np.int64) - 48)
    return value


def iso_times(chunk: ByteChunk, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Epoch seconds of ISO-8601 times of a fixed layout (NaN: another shape, or a time the
    parser does not read the same way): ``YYYY-MM-DD`` ``T`` or space ``HH:MM:SS``, ``.`` or
    ``,`` and 1 to 9 digits, then nothing, ``Z`` or ``+HH:MM``."""
    length = b - a
    rows = chunk.rows(a, _ISO_WIDTH)
    digit = (rows - 48) < 10
    good = (length >= 19) & (length < _ISO_WIDTH)
    for col in _ISO_DIGITS:
        good &= digit[:, col]
    good &= (rows[:, 4] == 45) & (rows[:, 7] == 45) & (rows[:, 13] == 58) & (rows[:, 16] == 58)
    good &= (rows[:, 10] == ord("T")) | (rows[:, 10] == 32)
    comma = rows[:, 19] == 44
    dotted = comma | (rows[:, 19] == 46)
    places = np.where(dotted, np.cumprod(digit[:, 20:30], axis=1).sum(axis=1), 0)
    good &= ~dotted | ((places >= 1) & (places <= 9))
    zone = np.where(dotted, 20 + places, 19)
    zone_len = length - zone
    zone_code = np.zeros(len(a), dtype=np.int64)  # 0 none, 1 Z, else the signed offset
    zoned = np.flatnonzero(good & (zone_len > 0))
    if len(zoned):
        tz = np.take_along_axis(rows[zoned], np.minimum(
            zone[zoned, None] + np.arange(6), _ISO_WIDTH - 1), axis=1).astype(np.int64)
        utc = (zone_len[zoned] == 1) & (tz[:, 0] == ord("Z"))
        offset = (zone_len[zoned] == 6) & ((tz[:, 0] == 43) | (tz[:, 0] == 45)) & (
            tz[:, 3] == 58) & ((tz[:, [1, 2, 4, 5]] - 48) % 256 < 10).all(axis=1)
        good[zoned] &= utc | offset
        zone_code[zoned] = np.where(utc, 1, 2 + (tz[:, 0] == 45) * 10000 + _digits(
            tz, (1, 2, 4, 5)))
    seconds = _digits(rows, (17, 18))
    good &= seconds <= 59
    micros = np.zeros(len(a), dtype=np.int64)
    for j in range(6):  # digits past the sixth are cut, as fromisoformat does
        micros = micros * 10 + np.where(j < places, rows[:, 20 + j].astype(np.int64) - 48, 0)
    minute = _digits(rows, (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15))
    key = (((minute * 2 + (rows[:, 10] == 32)) * 2 + comma) * 10 + places) * 20002 + zone_code
    key = np.where(good, key, -1)
    runs = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # times come in order
    uniq, group = np.unique(key[runs], return_inverse=True)
    group = group.ravel()
    inverse = np.repeat(group, np.diff(np.r_[runs, len(key)]))

    def texts(i: int) -> tuple[str, str]:
        text = rows[i, : length[i]].tobytes().decode()
        return text, text[:16] + ":00" + text[int(zone[i]):]

    bases, aware = _minute_bases(inverse, runs, group, uniq >= 0, seconds, micros, texts)
    return _add(bases[inverse], seconds, micros, aware[inverse])


def fixed_iso_times(chunk: ByteChunk, a: np.ndarray, shape: bytes) -> np.ndarray:
    """As ``iso_times`` for naive times of one layout, ``shape`` (a sample with its digits
    as zeros: ``0000-00-00 00:00:00`` and a ``,`` or ``.`` fraction of 3 or 6 digits),
    each followed by a closing quote: the layout is checked with a few column compares and
    the minute grouped by its first 16 bytes (NaN: not of the layout, or not read the same)."""
    width = len(shape)
    rows = chunk.rows(a, 32)
    words = rows.view(np.uint64)
    layout = (shape + b'"').ljust(32, b"\0")
    good = np.ones(len(a), dtype=bool)
    for j in range(-(-(width + 1) // 8)):
        piece = layout[8 * j : 8 * j + 8]
        digits = bytes(0xFF if c == 48 else 0 for c in piece)
        others = bytes(0xFF if c != 48 and 8 * j + k <= width else 0
                       for k, c in enumerate(piece))
        good &= (words[:, j] & word_of(others)) == word_of(bytes(
            c if m else 0 for c, m in zip(piece, others, strict=True)))
        good &= digits_at(words[:, j], word_of(digits))
    words = words[:, :2]  # YYYY-MM-DD?HH:MM
    firsts, inverse = group(words[:, 0] * MIX[0] + words[:, 1] * MIX[1])
    good &= same_as_first(words, firsts, inverse)
    seconds = ByteChunk.digits(rows, 17, 2)[0]
    places = width - 20 if width > 19 else 0
    micros = ByteChunk.digits(rows, 20, places)[0] * 10 ** (6 - places) if places else (
        np.zeros(len(a), dtype=np.int64))
    # Records whose layout is wrong form groups of their own (-1), never read.
    key = np.where(good, inverse, -1)
    runs = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    uniq, grp = np.unique(key[runs], return_inverse=True)
    grp = grp.ravel()
    inv = np.repeat(grp, np.diff(np.r_[runs, len(key)]))

    def texts(i: int) -> tuple[str, str]:
        text = rows[i, :width].tobytes().decode()
        return text, text[:16] + ":00"

    bases, aware = _minute_bases(inv, runs, grp, uniq >= 0, seconds, micros, texts)
    return _add(bases[inv], seconds, micros, aware[inv])


def _minute_bases(inverse: np.ndarray, runs: np.ndarray, group: np.ndarray, valid: np.ndarray,
                  seconds: np.ndarray, micros: np.ndarray, texts) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of each distinct minute (NaN: not read) and whether it is aware: the
    minute's text (``texts(i)``: record i's full text and its minute's) parsed once, and its
    earliest and latest second parsed in full to check the sum (a naive time's offset may
    change within a minute). ``runs`` start the runs of equal minutes, ``group`` their
    minute."""
    count = len(inverse)
    tagged = seconds * count + np.arange(count)  # seconds * count + index: which record
    lows, highs = np.full(len(valid), 1 << 62), np.full(len(valid), -1)
    np.minimum.at(lows, group, np.minimum.reduceat(tagged, runs))
    np.maximum.at(highs, group, np.maximum.reduceat(tagged, runs))
    bases = np.full(len(valid), np.nan)
    aware = np.zeros(len(valid), dtype=bool)
    for u, (low, high) in enumerate(zip((lows % count).tolist(), (highs % count).tolist())):
        if not valid[u]:
            continue
        when = parse_time(texts(low)[1])
        stamp = None if when is None else to_timestamp(when)
        if stamp is None:
            continue
        aware[u] = when.tzinfo is not None  # type: ignore[union-attr]
        for i in (low, high):
            full = parse_time(texts(i)[0])
            want = None if full is None else to_timestamp(full)
            got = _add(np.array([stamp]), seconds[i : i + 1], micros[i : i + 1],
                       aware[u : u + 1])
            if want is None or got[0] != want:
                break
        else:
            bases[u] = stamp
    return bases, aware


def _add(minutes: np.ndarray, seconds: np.ndarray, micros: np.ndarray, aware: np.ndarray
         ) -> np.ndarray:
    """``datetime.timestamp()`` of a minute's time plus seconds and microseconds: an aware
    time's is exact microseconds over 10**6, a naive one's the local seconds plus them."""
    whole = minutes + seconds
    if not aware.any():
        return whole + micros / 1e6
    return np.where(aware, (whole * 1e6 + micros) / 1e6, whole + micros / 1e6)


def epoch_times(chunk: ByteChunk, a: np.ndarray, b: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Times of epoch numbers as ``parse_epoch`` reads them (s, ms, us or ns: the unit that
    lands between 1973 and 2286; NaN: none), and which were read (negative, or no exponent
    and at most 18 digits before the point and 9 after)."""
    length = b - a
    width = int(length.max())
    rows = chunk.rows(a, width).astype(np.int64) - 48
    whole, frac, places = (np.zeros(len(a), dtype=np.int64) for _ in range(3))
    digits, point, plain = np.zeros(len(a), dtype=np.int64), np.zeros(len(a), bool), True
    for col in range(width):
        inside, d = col < length, rows[:, col]
        digit = inside & (d >= 0) & (d <= 9)
        dot = inside & (d == -2) & ~point
        plain &= ~inside | digit | dot
        point |= dot
        whole = np.where(digit & ~point, whole * 10 + d, whole)
        frac = np.where(digit & point, frac * 10 + d, frac)
        places += digit & point
        digits += digit
    negative = rows[:, 0] == -3
    good = negative | (plain & (digits - places <= 18) & (places <= 9))
    scale = _POW10[np.minimum(places, 18)].astype(np.float64)
    exact = np.where(digits <= 18, whole * _POW10[np.minimum(places, 18)] + frac, 0) / scale
    number = np.where(digits <= 18, exact, whole + frac / scale)
    number = np.where(negative | ~good, 0.0, number)
    seconds = np.full(len(a), np.nan)
    found = number <= 0  # not a plausible time
    for divisor in (1, 1e3, 1e6, 1e9):
        scaled = number / divisor
        take = ~found & (scaled < 1e10)
        seconds = np.where(take & (scaled >= 1e8), scaled, seconds)
        found |= take
    # datetime.fromtimestamp rounds to microseconds (half to even), timestamp() divides back.
    whole_s = np.floor(seconds)
    micros = np.rint((seconds - whole_s) * 1e6)
    carry = micros >= 1e6
    return ((whole_s + carry) * 1e6 + micros - carry * 1e6) / 1e6, good
