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
