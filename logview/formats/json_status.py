"""JSON access lines: an HTTP status on every object and no level (nginx's ``log_format ...
escape=json``, a proxy's or an app's request log as JSON). Each record gets the level web
tools give a request, from its status (5xx ERROR, 4xx WARNING, else INFO), as Common Log
Format lines do (``formats.access``), so ``level>=ERROR`` finds the failed requests and the
level bar and colours mean something.

Detection (``json_infer.infer_keys``) names the status key. A level query looks for the
statuses it admits in the bytes (``level_pattern``); the viewer's counts parse each record
(the column walker reads levels from level keys only).
"""

from __future__ import annotations

from collections.abc import Mapping

from logview.formats.access import level_of_status
from logview.formats.jsonl import JsonFormat, record_from_object
from logview.number_patterns import json_key
from logview.record import ERROR, INFO, LEVEL_COMPARE, WARNING, Record, level_from_name

#: Key names an HTTP status goes by (lowercased, ``-`` and ``_`` left out).
STATUS_KEYS = frozenset({"status", "statuscode", "httpstatus", "responsestatus",
                         "httpstatuscode", "scstatus", "downstreamstatus"})


def status_of(value: object) -> int | None:
    """An HTTP status (100-599), from a number or its digits; else None."""
    if isinstance(value, str) and len(value) == 3 and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    return None


def is_status_key(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in STATUS_KEYS


def with_status_level(record: Record, key: str) -> Record:
    """``record`` with the level of the HTTP status in its field ``key``, when it has no
    level of its own."""
    if record.level is None:
        status = status_of(record.fields.get(key))
        if status is not None:
            record.level, record.levelno = level_from_name(level_of_status(status))
    return record


class StatusJsonFormat(JsonFormat):
    """JSON lines whose level is their HTTP status's (see the module)."""

    def __init__(self, keys: Mapping[str, str] | None, status_key: str) -> None:
        super().__init__(keys or None)
        self.status_key = status_key

    def __repr__(self) -> str:
        return f"StatusJsonFormat({self.keys!r}, {self.status_key!r})"

    def parse(self, text: str) -> Record:
        return with_status_level(super().parse(text), self.status_key)

    def column_walker(self) -> None:
        return None  # (the walker reads levels from level keys only: every record is parsed)

    def object_reader(self):
        """The parent's reader of one object's bytes, with the status's level."""
        read, key = self._reader(record_from_object), self.status_key

        def with_level(data: bytes) -> Record | None:
            record = read(data)
            return None if record is None else with_status_level(record, key)

        return with_level

    def plain_reader(self) -> None:
        return None  # (its values have no level: every candidate is read whole)

    def level_pattern(self, op: str, number: int) -> tuple[bytes, ...] | None:
        """The level keys' regexes (an object may name a level after all), and one for the
        statuses whose level satisfies ``levelno OP number``."""
        scans = super().level_pattern(op, number)
        compare = LEVEL_COMPARE.get(op)
        key = json_key(self.status_key)
        if scans is None or compare is None or key is None:
            return None
        digits = "".join(str(d) for d, levelno in _FIRST_DIGIT_LEVELNO if compare(levelno, number))
        if not digits:
            return scans
        return (*scans, key + b'"?[' + digits.encode("ascii") + rb"]\d\d(?![\d.])")


#: The level number of the statuses by their first digit (``access.level_of_status``).
_FIRST_DIGIT_LEVELNO = ((1, INFO), (2, INFO), (3, INFO), (4, WARNING), (5, ERROR))
