"""logview: a terminal log viewer and query tool for Python logging and any line-based log."""

__version__ = "0.1.0"
