"""Records written by Elastic's ``ecs-logging`` (``StdlibFormatter``): nested ``log`` and
``error`` objects, a stack trace of frames alone. The record's level, logger, message and whole
traceback; its one-line text (``--print``, the viewer's rows) without what every record of the
formatter carries (``ecs.version``, ``log.origin``, ``log.original``), which ``-o jsonl``
keeps."""

from __future__ import annotations

import logging
import subprocess
import sys

import ecs_logging
import orjson
from logging_helpers import make_logger

from logview.formats.detect import detect_format
from logview.printer import dumps_record, format_text


def _write(path) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(ecs_logging.StdlibFormatter())
    logger = make_logger("ecs_test.app.web", handler)
    try:
        logger.info("request handled", extra={"user_id": 42, "http.request.method": "GET"})
        try:
            {}["missing"]
        except KeyError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_ecs_records_read_whole_and_print_without_the_formatters_own_fields(tmp_path):
    path = tmp_path / "ecs.json"
    _write(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    fmt = detect_format(path.read_bytes())
    info, error = (fmt.parse(line) for line in lines)
    assert (info.level, info.logger, info.message) == ("INFO", "ecs_test.app.web",
                                                       "request handled")
    assert (error.level, error.message) == ("ERROR", "lookup failed")
    # The frames the formatter wrote, then the line saying what was raised.
    assert 'in _write' in error.exc
    assert error.exc.rstrip().endswith("KeyError: 'missing'")
    # Nested values by the dotted paths a query names them by.
    text = format_text(info)
    assert text.endswith("request handled http.request.method=GET user_id=42"), text
    for quiet in ("ecs.version", "origin", "original", "process"):
        assert quiet not in format_text(info) and quiet not in format_text(error)
    kept = orjson.loads(dumps_record(info))["fields"]
    assert kept["ecs.version"] and kept["log"]["origin"]["function"] == "_write"

    out = subprocess.run([sys.executable, "-m", "logview", "--print", "-q", "level>=ERROR",
                          str(path)], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].endswith("lookup failed error.message='missing' error.type=KeyError")
    assert out.rstrip().endswith("KeyError: 'missing'")
    out = subprocess.run([sys.executable, "-m", "logview", "--print", "-q",
                          "http.request.method=GET", str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [text]
