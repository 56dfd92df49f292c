"""Loggers the tests write through: the real logging module, one handler, every level."""

from __future__ import annotations

import logging


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
