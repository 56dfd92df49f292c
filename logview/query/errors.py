"""The query layer's one exception type: a message and where in the query text it points."""

from __future__ import annotations


class QueryError(ValueError):
    """A query that cannot be parsed; ``position`` is the 0-based offset of the offending token.

    ``str(err)`` reads like ``unknown level 'LOUD' at column 7`` (columns are 1-based, for
    people); ``err.caret()`` shows the query with a ``^`` under the offending token.
    """

    def __init__(self, message: str, position: int, text: str = "") -> None:
        super().__init__(message, position)
        self.message = message
        self.position = max(0, position)
        self.text = text

    def __str__(self) -> str:
        return f"{self.message} at column {self.position + 1}"

    def caret(self) -> str:
        """Two lines: the query text and a ``^`` under the offending position."""
        return f"{self.text}\n{' ' * min(self.position, len(self.text))}^"
