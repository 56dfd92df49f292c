"""HTTP requests from ``logging.handlers.HTTPHandler``: each request is one record.

HTTPHandler sends ``LogRecord.__dict__`` urlencoded, every value turned into a string, in the
query string (GET) or a form body (POST). A JSON body (``Content-Type: application/json``) is
accepted too. Each request is answered ``200 OK`` with an empty body; keep-alive is honoured.
Request line, headers and body are bounded; a malformed request gets ``400`` and the
connection is closed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from logview.listen.decode import record_from_json_bytes, record_from_logrecord
from logview.listen.errors import ListenError
from logview.listen.streams import StreamDecoder
from logview.record import Record

MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_OK_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_STATUS = {400: "Bad Request", 405: "Method Not Allowed", 411: "Length Required",
           413: "Content Too Large", 431: "Request Header Fields Too Large"}

_INTS = ("levelno", "lineno", "process", "thread")
_FLOATS = ("created", "msecs", "relativeCreated")
_NONE_AS_TEXT = ("exc_text", "stack_info", "args", "exc_info", "taskName", "processName",
                 "threadName", "funcName")
_MAX_LITERAL = 4096


def _literal_args(text: str) -> Any:
    """``args`` as HTTPHandler sends it (``str(tuple)``): read back plain literals only."""
    if len(text) > _MAX_LITERAL or sum(text.count(c) for c in "([{") > 32:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def logrecord_from_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The string fields of a form back to a LogRecord-like dict with numbers and None."""
    data: dict[str, Any] = dict(pairs)
    for key in _NONE_AS_TEXT:
        if data.get(key) == "None":
            data[key] = None
    for key, kind in [(k, int) for k in _INTS] + [(k, float) for k in _FLOATS]:
        value = data.get(key)
        if isinstance(value, str):
            try:
                data[key] = kind(value)
            except ValueError:
                pass
    args = data.get("args")
    if isinstance(args, str):
        data["args"] = _literal_args(args)
    return data


class HttpDecoder(StreamDecoder):
    """Parses HTTP/1.x requests, answering each; ``send`` writes to the client."""

    def __init__(self, max_frame: int, send: Callable[[bytes], None]) -> None:
        super().__init__(max_frame)
        self._send = send
        self._buf = bytearray()
        self.wants_close = False

    def _fail(self, status: int, reason: str, detail: str) -> ListenError:
        self._send(f"HTTP/1.1 {status} {_STATUS[status]}\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n".encode())
        self.wants_close = True
        return ListenError(reason, detail)

    def feed(self, data: bytes, out: list[Record]) -> None:
        self._buf += data
        while not self.wants_close and self._one_request(out):
            pass

    def _one_request(self, out: list[Record]) -> bool:
        buf = self._buf
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                raise self._fail(431, "http bad request", "HTTP request headers are too large")
            return False
        if head_end > MAX_HEADER_BYTES:
            raise self._fail(431, "http bad request", "HTTP request headers are too large")
        lines = bytes(buf[:head_end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise self._fail(400, "http bad request", "a malformed HTTP request line")
        method, target, version = parts
        if len(lines) - 1 > MAX_HEADERS:
            raise self._fail(431, "http bad request", "too many HTTP headers")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise self._fail(400, "http bad request", "a malformed HTTP header")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise self._fail(411, "http bad request", "chunked HTTP bodies are not accepted")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise self._fail(400, "http bad request", "a bad Content-Length") from None
        if length < 0 or length > self.max_frame:
            raise self._fail(413, "frame too large",
                             f"an HTTP body of {length} bytes; the limit is {self.max_frame}")
        body_start = head_end + 4
        if len(buf) < body_start + length:
            return False
        body = bytes(buf[body_start : body_start + length])
        del buf[: body_start + length]
        if method not in ("GET", "POST", "PUT"):
            raise self._fail(405, "http bad request", f"HTTP method {method} is not accepted")
        connection = headers.get("connection", "").lower()
        keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        record = self._record(method, target, headers, body)
        if record is not None:
            out.append(record)
        self._send(_OK if keep else _OK_CLOSE)
        if not keep:
            self.wants_close = True
        return True

    def _record(self, method: str, target: str, headers: dict[str, str],
                body: bytes) -> Record | None:
        if method == "GET":
            _, _, query = target.partition("?")
            text = query
        elif headers.get("content-type", "").split(";")[0].strip() == "application/json":
            return record_from_json_bytes(body, "")
        else:
            text = body.decode("utf-8", "replace")
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=10_000)
        except ValueError:
            raise self._fail(400, "http bad request", "too many form fields") from None
        if not pairs:
            return None
        return record_from_logrecord(logrecord_from_form(pairs), "")
