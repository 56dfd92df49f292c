"""Loggers the tests write through: the real logging module, one handler, every level; and
loguru's own JSON sink."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any


def make_logger(name: str, handler: logging.Handler) -> logging.Logger:
    """``logging.getLogger(name)`` writing only to ``handler``, DEBUG and up, not to the root."""
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


def log_chained_exception(logger: logging.Logger, outer: type[Exception], text: str,
                          message: str, *args: object) -> None:
    """``logger.exception(message, *args)`` for ``outer(text)`` raised from a ``KeyError``:
    a chained traceback ("The above exception was the direct cause ...")."""
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise outer(text) from exc
    except outer:
        logger.exception(message, *args)


def loguru_lines(write: Callable[[Any], None], **sink: Any) -> str:
    """What a loguru sink made with ``sink`` options (``serialize=True``: its JSON lines;
    ``colorize=False``: its default text format) writes for ``write(logger)`` at every level,
    TRACE up, then for ``logger.exception("failed")`` with a ``KeyError`` raised."""
    from loguru import logger

    out = io.StringIO()
    handle = logger.add(out, level="TRACE", **sink)
    try:
        write(logger)
        try:
            raise KeyError("x")
        except KeyError:
            logger.exception("failed")
    finally:
        logger.remove(handle)
    return out.getvalue()


def loguru_json(write: Callable[[Any], None]) -> str:
    """The JSON lines of loguru's ``serialize=True`` sink (see ``loguru_lines``)."""
    return loguru_lines(write, serialize=True)


def log_key_error(logger: logging.Logger, key: str, message: str, *args: object,
                  **kwargs: object) -> None:
    """``logger.exception(message, *args, **kwargs)`` for the ``KeyError`` a failed lookup of
    ``key`` raises: a real traceback ending ``KeyError: 'key'``."""
    try:
        {}[key]
    except KeyError:
        logger.exception(message, *args, **kwargs)
