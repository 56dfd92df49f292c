"""Every format fed hostile bytes through the real path: no crash, no lost byte, no escape.

Seeded and deterministic (``random.Random``): valid lines of each format (the ready-made
formats, a template inferred from the sample, the generic format, JSON lines of every schema,
logfmt, syslog, journald, the docker/CRI/compose/kubectl wrappers, mixed JSON and text, the
user's own formats from ``formats.toml``) are mutated (bit flips, cuts, NUL/ESC/CR/C1, invalid
UTF-8, huge lines, deeply nested JSON, numbers and times out of range) and written to a file.
Each file is read as the CLI reads it (``StaticFileSource`` -> ``open_store`` -> printer), once
with the format detected from the hostile bytes and once with the format of the clean sample
forced, and must give:

- no exception, anywhere: parsing, rendering as text (plain and coloured) and as JSON, times;
- every byte of the file in exactly one record, in order (the records' bytes are the file);
- the record's text kept whole (``raw`` is its bytes decoded), and a structured record's
  continuation lines in its message or exception text;
- no control character in what a terminal is sent (only the printer's own colours).

The CLI itself (``main``, in this process, and ``python -m logview`` once over all the files)
gets the same files with queries.

(``test_hostile_input.py`` has the hand-written cases; ``test_formats_keep_everything.py`` the
splitter fed any text.)
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from logview.formats.config import format_from_entry
from logview.formats.detect import detect, reset_candidates
from logview.formats.prefixed import docker_object
from logview.formats.presets import known_text_formats
from logview.printer import dumps_record, format_text, structured
from logview.record import RawRecord, decode_record, parse_raw_record, strip_ansi
from logview.sources.base import StaticFileSource
from logview.stats import RecordStats
from logview.store import MergedStore, open_store

SEED = 20240102
#: Hostile files per format family (each read twice: detected and forced).
FILES_PER_FAMILY = 3
#: Lines of a clean sample (multi-line records add more).
SAMPLE_LINES = 40

# ---------------------------------------------------------------------------------------------
# Valid lines of every format.

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_WORDS = ("started", "GET /api/v1/items 200", "caf\u00e9 \u2603 \u4e2d\u6587", "user=bob id=42",
          "disk 91% full", "retrying in 2.5 s", "{not: json}", "a \"quoted\" word",
          "path C:\\temp\\x", "tab\there")


def _message(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))


def _stamp(rng: random.Random, sep: str = " ", frac: str = ",") -> str:
    return (f"2024-01-{rng.randint(1, 28):02d}{sep}{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}{frac}{rng.randint(0, 999):03d}")


def _iso(rng: random.Random) -> str:
    return _stamp(rng, "T", ".") + "Z"


def _level(rng: random.Random) -> str:
    return rng.choice(_LEVELS)


def _json(obj: object) -> str:
    return orjson.dumps(obj).decode()


_TRACEBACK = ("Traceback (most recent call last):\n"
              '  File "/app/x.py", line 3, in <module>\n'
              "    main()\n"
              "ValueError: bad value \u00e9")

#: Each family: one valid record (one or more lines) from a seeded generator.
FAMILIES: dict[str, Callable[[random.Random], str]] = {
    # The ready-made text formats (``formats/presets.py``).
    "celery": lambda r: f"[{_stamp(r)}: {_level(r)}/MainProcess] {_message(r)}",
    "gunicorn": lambda r: f"[{_stamp(r, frac='')[:19]} +0000] [{r.randint(1, 99999)}] "
                          f"[{_level(r)}] {_message(r)}",
    "airflow": lambda r: f"[{_stamp(r, 'T', '.')}+0000] {{taskinstance.py:{r.randint(1, 2000)}}} "
                         f"{_level(r)} - {_message(r)}",
    "flask": lambda r: f"[{_stamp(r)}] {_level(r)} in app: {_message(r)}",
    "structlog-console": lambda r: f"{_stamp(r, 'T', '.')}456Z [{_level(r).lower():<9}] "
                                   f"{_message(r):<30} [app.web] request_id=a{r.randint(1, 9)}",
    "scrapy": lambda r: f"{_stamp(r)[:19]} [scrapy.core] {_level(r)}: {_message(r)}",
    "loguru-text": lambda r: f"{_stamp(r, frac='.')} | {_level(r):<8} | app.main:run:"
                             f"{r.randint(1, 999)} - {_message(r)}",
    "uvicorn": lambda r: r.choice([f"INFO:     {_message(r)}", "WARNING:  " + _message(r),
                                   'INFO:     127.0.0.1:5000 - "GET / HTTP/1.1" 200 OK']),
    "python-dash": lambda r: f"{_stamp(r)} - app.db - {_level(r)} - {_message(r)}"
                             + (f"\n{_TRACEBACK}" if r.random() < 0.1 else ""),
    "python-bracket": lambda r: f"{_stamp(r)} [{_level(r)}] app.http: {_message(r)}",
    "python-space": lambda r: f"{_stamp(r)} {_level(r)} app.cache {_message(r)}",
    "python-colon": lambda r: f"{_stamp(r)} {_level(r)} app.cache: {_message(r)}",
    "basicconfig": lambda r: f"{_level(r)}:app.x:{_message(r)}",
    "postgresql": lambda r: f"{_stamp(r, frac='.')} UTC [{r.randint(1, 99999)}] app@shop "
                            f"{r.choice(['LOG', 'ERROR', 'WARNING', 'FATAL'])}:  {_message(r)}"
                            + (f"\n{_stamp(r, frac='.')} UTC [7] app@shop STATEMENT:  select "
                               "*\n\t  from t" if r.random() < 0.2 else ""),
    # A template no preset has: inferred from the sample (``formats/infer.py``).
    "inferred": lambda r: f"{_stamp(r)} | {_level(r):<8} | pid={r.randint(1, 9999)} | "
                          f"worker.{r.randint(1, 4)} | {_message(r)}"
                          + (f"\n{_TRACEBACK}" if r.random() < 0.1 else ""),
    # No single header: the generic format (a time or a level opens a record).
    "generic": lambda r: r.choice([f"{_stamp(r)} {_level(r)} {_message(r)}",
                                   f"[{_level(r).lower()}] {_message(r)}",
                                   f"Jan  {r.randint(1, 9)} 03:04:05 host app: {_message(r)}",
                                   f"{_level(r)}: {_message(r)}",
                                   f"{r.randint(1_600_000_000, 1_800_000_000)} {_message(r)}"]),
    # JSON lines of each schema (``formats/jsonl.py``).
    "json-python": lambda r: _json({"asctime": _stamp(r), "levelname": _level(r), "name": "app",
                                    "message": _message(r), "lineno": r.randint(1, 500)}),
    "json-structlog": lambda r: _json({"event": _message(r), "level": _level(r).lower(),
                                       "timestamp": _iso(r), "logger": "app", "name": "bob"}),
    "json-loguru": lambda r: _json({"text": _message(r) + "\n", "record": {
        "message": _message(r), "level": {"name": _level(r), "no": 20},
        "time": {"repr": _stamp(r), "timestamp": 1704164645.5}, "name": "app",
        "exception": None, "extra": {"k": 1}}}),
    "json-ecs": lambda r: _json({"@timestamp": _iso(r), "log.level": _level(r).lower(),
                                 "message": _message(r), "log": {"logger": "app"},
                                 "error": {"type": "ValueError", "message": "x",
                                           "stack_trace": _TRACEBACK}}),
    "json-gelf": lambda r: _json({"version": "1.1", "host": "h", "short_message": _message(r),
                                  "full_message": _TRACEBACK, "timestamp": 1704164645.25,
                                  "level": r.randint(0, 7), "_user": "bob"}),
    "json-pino": lambda r: _json({"level": r.choice([10, 20, 30, 40, 50, 60]),
                                  "time": 1704164645123, "pid": 1, "hostname": "h",
                                  "msg": _message(r), "err": {"type": "Error", "stack": "at x"}}),
    "json-gcp": lambda r: _json({"severity": _level(r), "message": _message(r),
                                 "timestamp": _iso(r),
                                 "logging.googleapis.com/trace": "projects/p/traces/t"}),
    "json-own": lambda r: _json({"time": _iso(r), "level": _level(r), "levelno": 20,
                                 "logger": "app", "message": _message(r), "exc": None,
                                 "fields": {"k": [1, 2]}, "source": "a.log",
                                 "line": r.randint(1, 9)}),
    "json-seq": lambda r: "\x1e" + _json({"ts": _iso(r), "lvl": _level(r), "msg": _message(r)}),
    "journald": lambda r: _json({"__CURSOR": "s=1", "__REALTIME_TIMESTAMP": str(
        1704164645000000 + r.randint(0, 10**9)), "PRIORITY": str(r.randint(0, 7)),
        "MESSAGE": r.choice([_message(r), list(b"\x1b[31mred\x1b[0m \xff")]),
        "SYSLOG_IDENTIFIER": "app", "_PID": str(r.randint(1, 9999))}),
    "logfmt": lambda r: f"time={_iso(r)} level={_level(r).lower()} msg={_json(_message(r))} "
                        f"n={r.randint(0, 99)} ok=true",
    "syslog-3164": lambda r: f"<{r.randint(0, 191)}>Jan {r.randint(10, 28)} 03:04:05 host "
                             f"app[{r.randint(1, 9999)}]: {_message(r)}",
    "syslog-5424": lambda r: f"<{r.randint(0, 191)}>1 {_iso(r)} host app {r.randint(1, 99)} "
                             f"ID47 [exampleSDID@32473 iut=\"3\"] {_message(r)}",
    # Wrapped lines (``formats/prefixed.py``).
    "docker": lambda r: _json({"log": f"{_stamp(r)} - app - {_level(r)} - {_message(r)}\n",
                               "stream": "stdout", "time": _iso(r)}),
    "cri": lambda r: f"{_iso(r)} stdout F {_stamp(r)} - app - {_level(r)} - {_message(r)}",
    "compose": lambda r: f"web-{r.randint(1, 2)}  | {_stamp(r)} [{_level(r)}] app: {_message(r)}",
    "kubectl": lambda r: f"[pod/web-{r.randint(1, 3)}/app] {_stamp(r)} - app - {_level(r)} - "
                         f"{_message(r)}",
    "timestamped": lambda r: f"{_iso(r)} {_stamp(r)} - app - {_level(r)} - {_message(r)}",
    # JSON and text lines in one file (``formats/mixed.py``).
    "mixed": lambda r: r.choice([_json({"level": _level(r), "msg": _message(r), "ts": _iso(r)}),
                                 f"{_stamp(r)} - app - {_level(r)} - {_message(r)}"]),
    # The user's own formats (``formats/config.py``), see USER_FORMATS.
    "user-template": lambda r: f"@{_stamp(r)} ~{_level(r)}~ <app.core> {_message(r)}",
    "user-json": lambda r: _json({"when": _iso(r), "sev": _level(r), "body": _message(r),
                                  "component": "core", "n": r.randint(0, 9)}),
}

#: The user's formats, as ``formats.toml`` tables.
USER_FORMATS = {
    "mytemplate": {"template": "@%(asctime)s ~%(levelname)s~ <%(name)s> %(message)s",
                   "levels": {"AUDIT": 25}},
    "myjson": {"json": {"time": "when", "level": "sev", "message": "body",
                        "logger": "component"}},
}
_USER_FAMILY = {"user-template": "mytemplate", "user-json": "myjson"}


def clean_sample(family: str, rng: random.Random) -> bytes:
    make = FAMILIES[family]
    return "".join(make(rng) + "\n" for _ in range(SAMPLE_LINES)).encode()


def format_of(family: str, sample: bytes):
    """The format a clean sample of ``family`` is read as (a user's from its table)."""
    if family in _USER_FAMILY:
        name = _USER_FAMILY[family]
        return format_from_entry(name, USER_FORMATS[name])
    return detect(sample).format


# ---------------------------------------------------------------------------------------------
# Mutations.

#: Bytes that must never reach a terminal or break a decoder: NUL, ESC sequences (CSI, OSC
#: title, DCS), a lone CR, DEL, C1 controls as UTF-8 and as raw bytes, invalid UTF-8 (a lone
#: continuation byte, a cut sequence, an encoded surrogate, an overlong slash, past U+10FFFF),
#: a byte order mark, the JSON text sequence separator, a form feed and a backspace.
HOSTILE_BYTES = (b"\x00", b"\x1b", b"\x1b[31m", b"\x1b[2J\x1b[H", b"\x1b]0;pwned\x07",
                 b"\x1bP+q\x1b\\", b"\r", b"\x7f", b"\xc2\x9b31m", b"\x9b", b"\x80", b"\xc3",
                 b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xef\xbb\xbf", b"\x1e",
                 b"\x0c", b"\x08", b"\r\n", b"\n", b"\t", "\u00b2".encode(), "\u0663".encode())
#: Numbers and times no writer means: out of every range a parser converts into.
OUT_OF_RANGE = (b"99999999999999999999999", b"-99999999999999999999", b"1e999", b"-1e999",
                b"NaN", b"Infinity", b"-0", b"18446744073709551616", b"9" * 5000,
                b"0.000000000000000000000001", b"1e-400",
                b"9999-12-31 23:59:59,999", b"9999-12-31T23:59:59.999999-23:59",
                b"0001-01-01T00:00:00+23:59", b"0000-00-00 00:00:00,000",
                b"2024-13-45 25:61:61,000", b"2024-02-30T24:00:00Z", b"Feb 31 99:99:99",
                b"1e20", b"253402300800", b"-62135596801")
#: What replaces each number and word of a line in turn: digits ``int`` refuses (more than
#: 4300, superscripts, fractions) or accepts beyond any range (Arabic-Indic, fullwidth,
#: mathematical), numbers past 64 bits and floats, nothing, a NUL and an escape sequence.
REPLACEMENTS = (b"9" * 5000, b"99999999999999999999999", "\u00b2".encode(), "\u00bd".encode(),
                "\u0663\u0661".encode(), "\uff19\uff19".encode(), "\U0001d7d7".encode(), b"1e999",
                b"-1", b"", b"\x00\x1b[1m")
_TOKEN_RE = re.compile(rb"\d+|[A-Za-z]+")
#: JSON values that hit parser and recursion limits.
HOSTILE_JSON = (b"[" * 100_000, b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
                b'"\\ud800"', b'"\\udfff\\ud800x"', b'"\\u0000\\u001b[31m\\u009b"', b"1e999",
                b"-1e999", b"123456789012345678901234567890", b"9" * 5000, b"NaN",
                b'{"__proto__": null}', b"true", b"null", b"[]", b'"' + b"x" * 70_000 + b'"')

_NUMBER_RE = re.compile(rb"\d+(?:\.\d+)?")
_STAMP_RE = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?")
_VALUE_RE = re.compile(rb'(?<=":)(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false|null)')


def mutate_line(rng: random.Random, line: bytes) -> bytes:
    """One hostile variant of a line (without its newline)."""
    b = bytearray(line)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(10)
        pos = rng.randint(0, len(b))
        if op == 0 and b:  # bit flips
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op == 1:  # cut short, or a piece cut out
            if rng.random() < 0.5:
                del b[pos:]
            else:
                del b[pos : pos + rng.randint(1, 20)]
        elif op in (2, 3):
            b[pos:pos] = rng.choice(HOSTILE_BYTES)
        elif op == 4:  # a number out of range
            found = list(_NUMBER_RE.finditer(b))
            if found:
                m = rng.choice(found)
                b[m.start() : m.end()] = rng.choice(OUT_OF_RANGE)
        elif op == 5:  # a time out of range
            found = list(_STAMP_RE.finditer(b))
            if found:
                m = rng.choice(found)
                b[m.start() : m.end()] = rng.choice(OUT_OF_RANGE[11:])
        elif op == 6:  # a JSON value replaced by a hostile one
            found = list(_VALUE_RE.finditer(b))
            if found:
                m = rng.choice(found)
                b[m.start() : m.end()] = rng.choice(HOSTILE_JSON)
        elif op == 7:  # random bytes
            b[pos:pos] = rng.randbytes(rng.randint(1, 24))
        elif op == 8:  # control characters everywhere
            b = bytearray(bytes(c if rng.random() > 0.1 else rng.randrange(32) for c in b))
        elif op == 9:  # an indented or traceback-looking continuation
            b = bytearray(rng.choice([b"    ", b"\t", b"Traceback (most recent call last):\n  ",
                                      b"}", b"] ", b"  File \"x\", line 1\n"]) + bytes(b))
    return bytes(b)


def hostile_file(rng: random.Random, clean: bytes) -> bytes:
    """A file of the clean sample's lines, many mutated, plus a few whole-file hazards."""
    lines = clean.split(b"\n")[:-1]
    out = [mutate_line(rng, line) if rng.random() < 0.5 else line for line in lines]
    hazard = rng.randrange(6)
    if hazard == 0:  # a huge line (a few hundred KB: long enough to cross index chunks' probes)
        out.insert(rng.randrange(len(out) + 1), rng.choice(lines) + b"x" * rng.randint(70_000,
                                                                                       300_000))
    elif hazard == 1:  # a line of random bytes
        out.insert(rng.randrange(len(out) + 1), rng.randbytes(rng.randint(1, 4000)))
    elif hazard == 2:  # CRLF line ends
        out = [line + b"\r" for line in out]
    elif hazard == 3:  # blank lines and lone CRs
        out = [line if rng.random() < 0.7 else rng.choice([b"", b"\r", b" ", b"\x00"])
               for line in out]
    elif hazard == 4:  # deep JSON on a line of its own
        out.insert(rng.randrange(len(out) + 1), b'{"msg":' + rng.choice(HOSTILE_JSON) + b"}")
    data = b"\n".join(out)
    return data if rng.random() < 0.3 else data + b"\n"  # sometimes no final newline


# ---------------------------------------------------------------------------------------------
# The checks.

#: What a terminal must never be sent: C0 (but tab and newline), DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: The printer's own colours (``printer._LEVEL_SGR``, ``_DIM``, ``_RESET``).
_OWN_SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_terminal_safe(text: str, where: object) -> None:
    bad = _CONTROL.search(_OWN_SGR.sub("", text))
    assert bad is None, f"{where}: control character {bad.group()!r} in {text[:200]!r}"


def _one_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text.lstrip("\x1e")), dict)
    except (ValueError, RecursionError):
        return False


def _continuation_text(record) -> str:
    parts = [record.message, record.exc or "", record.logger, record.time_text or ""]
    parts.extend(str(value) for value in record.fields.values())
    return "\n".join(parts)


def check_records(store, data: bytes, where: object) -> int:
    """Every check on a finished store over ``data``; returns how many records it has."""
    store.update(final=True)
    assert store.finished
    count = len(store)
    raws = [store.raw(i) for i in range(count)]
    assert b"".join(raws) == data, f"{where}: the records' bytes are not the file's"
    assert all(raws) or not data, f"{where}: an empty record"
    stats = RecordStats(keep_times=True)
    offset = 0
    for i in range(count):
        record = store.record(i)
        assert record.offset == offset, where
        offset += len(raws[i])
        check_record(record, raws[i], (where, i))
        stats.add(record)  # times, levels and loggers as the viewer counts them
    assert stats.counted == count
    return count


def check_record(record, data: bytes, where: object) -> None:
    """The checks of one record read from ``data``."""
    assert record.data == data, where
    text = decode_record(data)
    # The record's whole text is kept (JSON text sequences drop their RS framing).
    assert record.raw in (text, text.lstrip("\x1e")), f"{where}: raw text changed"
    if structured(record) and not _one_json_object(text):  # (a pretty-printed object's
        kept = _continuation_text(record)                     # lines are JSON syntax)
        for extra in strip_ansi(text).split("\n")[1:]:
            wrapped = docker_object(extra)  # docker's json-file: the line is its "log"
            extra = strip_ansi(wrapped["log"]) if wrapped else extra
            extra = extra.strip()
            assert extra in kept or not extra, f"{where}: continuation {extra!r} lost"
    for color in (False, True):
        assert_terminal_safe(format_text(record, color=color), where)
    row = orjson.loads(dumps_record(record))
    assert row["message"] == record.message and row["line"] == record.line, where
    _ = record.timestamp, record.extra_lines


def read_file(path: Path, data: bytes, fmt, where: object) -> int:
    store = open_store(StaticFileSource(str(path)), fmt)
    try:
        return check_records(store, data, where)
    finally:
        store.close()


@pytest.fixture(scope="module")
def user_config(tmp_path_factory):
    """``XDG_CONFIG_HOME`` with the user's formats file, for detection and the CLI."""
    root = tmp_path_factory.mktemp("config")
    (root / "logview").mkdir()
    lines = []
    for name, entry in USER_FORMATS.items():
        lines.append(f"[formats.{name}]")
        for key, value in entry.items():
            if isinstance(value, dict):
                inner = ", ".join(f'{k} = {v!r}' if isinstance(v, int) else f'{k} = "{v}"'
                                  for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            else:
                lines.append(f"{key} = '{value}'")
    (root / "logview" / "formats.toml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def with_user_formats(user_config, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user_config))
    reset_candidates()
    yield user_config
    reset_candidates()


def test_the_samples_are_read_as_their_formats(with_user_formats):
    """The clean samples are what they claim (else the fuzzing below tests the wrong parser)."""
    names = {f.name for f in known_text_formats()}
    for family in FAMILIES:
        sample = clean_sample(family, random.Random(f"{SEED}:{family}"))
        detection = detect(sample)
        name = detection.format.name
        if family in names:
            assert name == family, (family, name)
        elif family == "inferred":
            assert detection.kind == "inferred", (family, detection.label)
        elif family == "generic":
            assert name == "generic", (family, name)
        elif family.startswith("json-") or family == "journald":
            assert name == "jsonl", (family, name)
        elif family in _USER_FAMILY:
            assert name == _USER_FAMILY[family], (family, name)
        elif family in ("docker", "cri", "compose", "kubectl", "timestamped"):
            assert name.split("+")[0] == family, (family, name)
        else:
            assert name.startswith({"mixed": "jsonl+"}.get(family, family.split("-")[0])), (
                family, name)
        assert detection.fitted == detection.total, (family, detection.describe())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_hostile_lines_of_each_format(family, tmp_path, with_user_formats):
    rng = random.Random(f"{SEED}:{family}")
    clean = clean_sample(family, rng)
    path = tmp_path / f"{family}.log"
    path.write_bytes(clean)
    assert read_file(path, clean, format_of(family, clean), (family, "clean")) >= SAMPLE_LINES
    for n in range(FILES_PER_FAMILY):
        data = hostile_file(rng, clean)
        path.write_bytes(data)
        read_file(path, data, None, (family, n, "detected"))
        read_file(path, data, format_of(family, clean), (family, n, "forced"))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_number_and_word_replaced(family, tmp_path, with_user_formats):
    """Each number and word of a line replaced in turn by each of ``REPLACEMENTS``:
    every variant parsed alone, and all of them read as one file."""
    clean = clean_sample(family, random.Random(f"{SEED}:{family}"))
    fmt = format_of(family, clean)
    variants = []
    for line in clean.split(b"\n")[:1]:
        for m in _TOKEN_RE.finditer(line):
            for value in REPLACEMENTS:
                variants.append(line[: m.start()] + value + line[m.end() :] + b"\n")
    for n, variant in enumerate(variants):
        record = parse_raw_record(fmt, RawRecord(0, 1, variant), "x")
        check_record(record, variant, (family, n, variant[:80]))
    data = b"".join(variants)
    path = tmp_path / f"{family}.log"
    path.write_bytes(data)
    read_file(path, data, None, (family, "detected"))
    read_file(path, data, fmt, (family, "forced"))


def test_a_long_line_costs_linear_time_in_detection():
    """RFC 5424 lines made inference try ``%(name)s%(hostname)s %(asctime)s...`` (two free
    fields side by side): its regex took time quadratic in a line's length, 4 s for one line
    of 20 000 digits, minutes for a longer one, before the sample was even read."""
    lines = clean_sample("syslog-5424", random.Random(SEED)).split(b"\n")
    data = b"\n".join([*lines[:10], b"<152>" + b"9" * 60_000 + b" x", *lines[10:]])
    started = time.monotonic()
    detection = detect(data)
    assert detection.format.name == "syslog"
    assert time.monotonic() - started < 5  # quadratic: about a minute


@pytest.mark.parametrize("seed", range(4))
def test_random_bytes_in_every_format(seed, tmp_path, with_user_formats):
    """Pure noise (and noise with newlines, and text-like noise), forced through every format."""
    rng = random.Random(f"{SEED}:noise:{seed}")
    data = [rng.randbytes(8000),
            b"\n".join(rng.randbytes(rng.randint(0, 80)) for _ in range(100)),
            bytes(rng.choice(b"{}[]\":,\\ 0123456789eE.-+tfnulr\n\x1b\x00\xff")
                  for _ in range(8000)),
            bytes(rng.choice(b"<>[]=: \"T-Z0123456789|/\nINFOWARNERR\r\x1b") for _ in range(8000))
            ][seed]
    path = tmp_path / "noise.log"
    path.write_bytes(data)
    read_file(path, data, None, ("noise", seed, "detected"))
    for family in FAMILIES:
        clean = clean_sample(family, random.Random(f"{SEED}:{family}"))
        read_file(path, data, format_of(family, clean), ("noise", seed, family))


def test_merged_hostile_files_keep_every_record(tmp_path, with_user_formats):
    """Several hostile files in one timeline (times out of range, naive and aware, none)."""
    rng = random.Random(f"{SEED}:merged")
    stores, total = [], 0
    for family in ("python-dash", "json-own", "syslog-5424", "generic", "journald"):
        data = hostile_file(rng, clean_sample(family, rng))
        path = tmp_path / f"{family}.log"
        path.write_bytes(data)
        stores.append(open_store(StaticFileSource(str(path))))
        total += len(data)
    merged = MergedStore(stores)
    try:
        merged.update(final=True)
        assert merged.finished
        seen = sorted((r.source, r.offset) for r in (merged.record(i) for i in range(len(merged))))
        assert len(seen) == len(set(seen)) == sum(len(s) for s in stores)
        assert sum(len(merged.raw(i)) for i in range(len(merged))) == total
        for i in range(len(merged)):
            assert_terminal_safe(format_text(merged.record(i), color=True), ("merged", i))
    finally:
        merged.close()
