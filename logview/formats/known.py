"""Ready-made formats for the plain-text logs Python programs write by default.

Most are ``logging`` templates (the same strings the libraries configure); uvicorn and celery
need a little more: uvicorn pads ``LEVEL:`` to a fixed column and writes access lines, celery
puts the task name and id in front of task messages.
"""

from __future__ import annotations

import re

from logview.formats.base import LogFormat
from logview.formats.template import TemplateFormat
from logview.record import Record, level_from_name, split_exception

#: ``logging.basicConfig()``'s default.
BASIC_CONFIG = "%(levelname)s:%(name)s:%(message)s"
#: The template from the logging HOWTO and countless tutorials.
PYTHON_DASH = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
PYTHON_SPACE = "%(asctime)s %(levelname)s %(name)s %(message)s"
PYTHON_BRACKET = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"
#: gunicorn/glogging.py: CONFIG_DEFAULTS formatter "generic".
GUNICORN = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"
GUNICORN_DATEFMT = "[%Y-%m-%d %H:%M:%S %z]"
#: celery/app/defaults.py: worker_log_format (task_log_format adds task_name[task_id]: ).
CELERY = "[%(asctime)s: %(levelname)s/%(processName)s] %(message)s"
#: flask/logging.py: default_handler's formatter.
FLASK = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
#: scrapy/settings/default_settings.py: LOG_FORMAT and LOG_DATEFORMAT.
SCRAPY = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
SCRAPY_DATEFMT = "%Y-%m-%d %H:%M:%S"
#: airflow/config_templates: LOG_FORMAT; its formatter writes ISO times with milliseconds.
AIRFLOW = "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s"
AIRFLOW_DATEFMT = "%Y-%m-%dT%H:%M:%S.%f%z"
#: loguru's default sink format, colour markup removed.
LOGURU = "{asctime} | {levelname:<8} | {name}:{funcName}:{lineno} - {message}"
LOGURU_DATEFMT = "%Y-%m-%d %H:%M:%S.%f"
LOGURU_LEVELS = {"TRACE": 5, "SUCCESS": 25}


class CeleryFormat(TemplateFormat):
    """celery worker logs: task lines (``task[id]: ...``) get ``task_name``/``task_id`` fields."""

    _task = re.compile(r"([\w.:-]+)\[([0-9A-Fa-f-]{8,})\]: ")

    def __init__(self) -> None:
        super().__init__(CELERY, name="celery")

    def parse(self, text: str) -> Record:
        record = super().parse(text)
        m = self._task.match(record.message)
        if m is not None and record.level is not None:
            record.fields["task_name"] = m[1]
            record.fields["task_id"] = m[2]
            record.message = record.message[m.end() :]
        return record


class UvicornFormat(LogFormat):
    """uvicorn's default ``%(levelprefix)s %(message)s``: ``"INFO:"`` padded to 9 columns.

    Access lines (``127.0.0.1:5000 - "GET / HTTP/1.1" 200 OK``) get logger ``uvicorn.access``
    and their parts as fields; everything else is ``uvicorn.error`` (uvicorn's own logger).
    """

    name = "uvicorn"
    level_text = True
    has_time = False
    # levelname + ":" + spaces up to column 9 + " ": the padding is exact.
    start_pattern = re.compile(rb"INFO: {5}|(?:TRACE|DEBUG|ERROR): {4}|WARNING: {2}|CRITICAL: ")
    _start = re.compile(r"(INFO): {5}|(TRACE|DEBUG|ERROR): {4}|(WARNING): {2}|(CRITICAL): ")
    _access = re.compile(
        r'(?P<client_addr>\S+) - "(?P<request_line>[^"\n]*)" (?P<status_code>\d{3})(?: (?P<reason>.*))?'
    )

    def is_start(self, line: str) -> bool:
        return self._start.match(line) is not None

    def parse(self, text: str) -> Record:
        m = self._start.match(text)
        if m is None:
            message, exc = split_exception(text)
            return Record(message=message, exc=exc)
        message, exc = split_exception(text[m.end() :])
        level, levelno = level_from_name(m[m.lastindex or 1])
        record = Record(message=message, level=level, levelno=levelno, exc=exc)
        access = self._access.fullmatch(message)
        if access is not None:
            record.logger = "uvicorn.access"
            record.fields = {
                "client_addr": access["client_addr"],
                "request_line": access["request_line"],
                "status_code": int(access["status_code"]),
            }
        else:
            record.logger = "uvicorn.error"
        return record


def known_text_formats() -> list[LogFormat]:
    """Fresh instances of every known plain-text format, most specific first."""
    return [
        CeleryFormat(),
        TemplateFormat(GUNICORN, GUNICORN_DATEFMT, name="gunicorn"),
        TemplateFormat(AIRFLOW, AIRFLOW_DATEFMT, name="airflow"),
        TemplateFormat(FLASK, name="flask"),
        TemplateFormat(SCRAPY, SCRAPY_DATEFMT, name="scrapy"),
        TemplateFormat(LOGURU, LOGURU_DATEFMT, style="{", name="loguru-text", levels=LOGURU_LEVELS),
        UvicornFormat(),
        TemplateFormat(PYTHON_DASH, name="python-dash"),
        TemplateFormat(PYTHON_BRACKET, name="python-bracket"),
        TemplateFormat(PYTHON_SPACE, name="python-space"),
        TemplateFormat(BASIC_CONFIG, name="basicconfig"),
    ]


def known_text_format(name: str) -> LogFormat | None:
    """The known format called ``name`` (``--format gunicorn``), or None."""
    for fmt in known_text_formats():
        if fmt.name == name:
            return fmt
    return None


def __getattr__(attr: str) -> list[LogFormat]:
    # KNOWN_TEXT_FORMATS is built on first use so importing this module compiles nothing.
    if attr == "KNOWN_TEXT_FORMATS":
        value = known_text_formats()
        globals()["KNOWN_TEXT_FORMATS"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
