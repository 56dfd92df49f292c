"""AWS Lambda's own lines, between a Python function's log records (a log group exported or
copied from CloudWatch, ``sam local invoke``'s output).

The Python runtime writes the function's records as ``[LEVEL]\\tTIME\\tREQUEST_ID\\tmessage``
(a template inference reads), and Lambda adds lines of its own around each invocation:

- ``START RequestId: ID Version: $LATEST``, ``END RequestId: ID``,
- ``REPORT RequestId: ID\\tDuration: 2.33 ms\\tBilled Duration: 3 ms\\tMemory Size: 128 MB\\t
  Max Memory Used: 38 MB\\tInit Duration: 120.40 ms`` (and ``Status: timeout`` or ``error``
  when the invocation failed),
- ``INIT_START Runtime Version: python:3.12.v18\\tRuntime Version ARN: ...``,
- an unhandled exception: ``[ERROR] KeyError: 'sku'`` (a space, not a tab) and its traceback,
- a timeout: ``TIME ID Task timed out after 3.00 seconds``.

Read by the function's template, each of these continued the record before it (an END line
in an exception's traceback). As the second format of the template's (``formats.union``)
each is a record: the request id, durations in milliseconds and memory in MB as fields
(``duration_ms>1000``), an unhandled exception or a timeout at ERROR, the others at INFO.
"""

from __future__ import annotations

import re

from logview.formats.base import HeadFormat
from logview.record import Record, level_from_name, split_exception
from logview.timeparse import parse_time

__all__ = ["LambdaPlatformFormat"]

_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
#: The first line of each kind (each alternative opens with a literal).
_SOURCE = (
    rf"(?P<kind>START|END|REPORT) RequestId: (?P<request_id>{_ID})(?![\w-])"
    r"|(?P<init>INIT_START|INIT_REPORT) "
    r"|\[ERROR\] (?P<error>[A-Za-z_][\w.]*(?::|$))"
    rf"|(?P<time>\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (?P<timeout_id>{_ID})"
    r" Task timed out after "
)
_LINE = re.compile(_SOURCE)
#: ``REPORT`` and ``INIT_REPORT`` fields: ``Name: number unit``, tab-separated.
_MEASURE = re.compile(r"\t(?P<name>[A-Z][A-Za-z ]+): (?P<value>[\d.]+) (?P<unit>ms|MB)\b")
_STATUS = re.compile(r"\tStatus: (?P<status>\w+)")


class LambdaPlatformFormat(HeadFormat):
    """AWS Lambda's platform lines and its runtime's unhandled-exception lines."""

    name = "lambda-platform"
    _start = _head = _LINE
    start_pattern = re.compile(_SOURCE.encode("ascii"))
    certain_lines = True  # (no time, but no other writer's line has these shapes)
    time_from_previous = True  # (START, END and REPORT carry none: the record before's)
    level_text = False  # (START, END and REPORT write no level: a level query reads them)

    def parse(self, text: str) -> Record:
        first = text.partition("\n")[0]
        m = _LINE.match(first)
        message, exc = split_exception(text)
        record = Record(message=message, exc=exc)
        if m is None:
            return record
        fields = record.fields
        level = "INFO"
        if m["request_id"] or m["timeout_id"]:
            fields["request_id"] = m["request_id"] or m["timeout_id"]
        if m["kind"] in ("REPORT",) or m["init"]:
            for measure in _MEASURE.finditer(first):
                key = measure["name"].lower().replace(" ", "_") + "_" + measure["unit"].lower()
                value = float(measure["value"])
                fields[key] = int(value) if value.is_integer() else value
            status = _STATUS.search(first)
            if status is not None:
                fields["status"] = status["status"]
                level = "ERROR" if status["status"] in ("timeout", "error") else level
        if m["error"] is not None or m["timeout_id"] is not None:
            level = "ERROR"
        if m["time"] is not None:
            record.time_text = m["time"]
            record.time = parse_time(m["time"])
        record.level, record.levelno = level_from_name(level)
        record.logger = "lambda"
        return record
