"""systemd journal entries as ``journalctl -o json`` (and ``json-seq``) writes them.

Every value of an entry is a string, except that a value holding bytes that are not printable
UTF-8 (binary data, ANSI colours, invalid UTF-8) is an array of byte numbers, a field present
several times is an array of such values, and a value over 4 KiB is ``null`` unless
journalctl ran with ``--all``. ``MESSAGE`` is the message, ``PRIORITY`` the syslog severity,
``__REALTIME_TIMESTAMP`` the time in microseconds; the logger is the best name the entry has
and ``_HOSTNAME`` the record's source (a journal gathered from many hosts shows where each
entry came from). Every other field (``_PID``, ``_SYSTEMD_UNIT``, ``CODE_FILE``, ``__CURSOR``,
...) is kept, and so are the fields the logger, the level and the source were taken from
(``LOGGER``, ``SYSLOG_IDENTIFIER``, ``PRIORITY``, ``_HOSTNAME``): a query names journal fields
as journalctl does (``SYSLOG_IDENTIFIER=myapp``) whichever of them gave the logger.

python-systemd's ``JournalHandler`` sends ``LOGGER``, ``THREAD_NAME``, ``PROCESS_NAME``,
``CODE_FILE``/``CODE_LINE``/``CODE_FUNC``, ``CODE_ARGS``, ``EXCEPTION_TEXT``/``EXCEPTION_INFO``
and the upper-case ``extra=`` keys (journald drops field names that are not upper-case): all
stay fields, except ``EXCEPTION_TEXT``, which is the record's traceback.
See ``man systemd.journal-fields``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from logview.record import Record, level_from_syslog, split_exception, strip_ansi

#: Keys only journal exports have (journalctl's address fields); with ``MESSAGE`` plus
#: ``PRIORITY`` they tell a journal entry from other JSON.
_ADDRESS_KEYS = ("__REALTIME_TIMESTAMP", "__CURSOR", "__MONOTONIC_TIMESTAMP")

#: Where the logger name comes from, best first: python-systemd's ``JournalHandler`` writes
#: the Python logger's name as ``LOGGER``; otherwise the syslog identifier, the process name
#: and the unit describe who wrote the entry.
_LOGGER_KEYS = ("LOGGER", "SYSLOG_IDENTIFIER", "_COMM", "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT")

#: Times in the order they are trusted: the journal's receive time, then the sender's claim.
_TIME_KEYS = ("__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_journal_entry(obj: dict[str, Any]) -> bool:
    """True for an object that journalctl wrote (``-o json``/``json-seq``/``json-pretty``)."""
    if "MESSAGE" in obj and "PRIORITY" in obj:
        return True
    return any(key in obj for key in _ADDRESS_KEYS)


def decode_value(value: Any) -> Any:
    """A journal value as text: byte arrays decoded as UTF-8 (bad bytes replaced).

    A field sent several times is a list of values: each is decoded. Anything else (a hostile
    line's numbers or objects) is returned unchanged.
    """
    if isinstance(value, list) and value:
        as_bytes = _bytes_of(value)
        if as_bytes is not None:
            return as_bytes.decode("utf-8", "replace")
        decoded = [_bytes_of(item) if isinstance(item, list) and item else item
                   for item in value]  # one level only: hostile nesting is left as it is
        if all(isinstance(item, (str, bytes)) for item in decoded):
            return [item.decode("utf-8", "replace") if isinstance(item, bytes) else item
                    for item in decoded]
    return value


def _bytes_of(value: list[Any]) -> bytes | None:
    """The bytes a list of byte numbers stands for, or None when it is not one."""
    for item in value:
        if type(item) is not int or not 0 <= item <= 255:
            return None
    return bytes(value)


def _text(value: Any) -> str | None:
    """A decoded value as one string (several values one per line); None when it has none."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return "\n".join(value)
    return None


def _compact(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, ValueError):
        return repr(value)


def _time_of(value: Any) -> datetime | None:
    """Microseconds since the epoch (a decimal string) as an aware UTC datetime, exactly."""
    if isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit():
        micros = int(value)
        if micros > 0:
            try:
                return _EPOCH + timedelta(microseconds=micros)
            except OverflowError:
                return None
    return None


def _level_of(value: Any) -> tuple[str | None, int]:
    """A ``PRIORITY`` value ("0".."7") as a level; anything else has none."""
    if isinstance(value, str) and len(value) == 1 and "0" <= value <= "7":
        return level_from_syslog(int(value))
    return None, 0


def record_from_journal(obj: dict[str, Any]) -> Record:
    """Map one journal entry onto a Record; unused fields stay in ``fields`` (decoded)."""
    fields = {key: decode_value(value) for key, value in obj.items()}

    exc: str | None = None
    message = ""
    if "MESSAGE" in fields:
        text = _text(fields["MESSAGE"])
        if text is not None:
            del fields["MESSAGE"]
            message = strip_ansi(text)
            if "\n" in message:
                message, exc = split_exception(message)
        elif fields["MESSAGE"] is not None:  # null (over 4 KiB) stays as a field to say so
            message = _compact(fields.pop("MESSAGE"))
    trace = _text(fields.get("EXCEPTION_TEXT"))  # python-systemd's JournalHandler
    if trace:
        trace = strip_ansi(trace.rstrip("\n"))
        if exc is None:
            exc = trace
        if exc == trace:  # the traceback MESSAGE ends with, said again: kept once
            del fields["EXCEPTION_TEXT"]

    level, levelno = _level_of(fields.get("PRIORITY"))

    time = None
    for key in _TIME_KEYS:
        time = _time_of(fields.get(key))
        if time is not None:
            del fields[key]
            break

    logger = ""
    for key in _LOGGER_KEYS:
        name = fields.get(key)
        if isinstance(name, str) and name:
            logger = strip_ansi(name)
            break

    # The host as it is (no colour codes removed): ``source=web1`` finds what ``_HOSTNAME=web1``
    # finds. An entry without one takes the name of the input it came from.
    host = fields.get("_HOSTNAME")
    source = host if isinstance(host, str) else ""

    return Record(message=message, time=time, level=level, levelno=levelno, logger=logger,
                  exc=exc, fields=fields, source=source)
