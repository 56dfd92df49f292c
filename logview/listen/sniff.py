"""Recognise what a client speaks from the first bytes of its connection.

- ``frames``: 4-byte big-endian length + pickle (SocketHandler) or + ``{`` (JSON frames);
- ``syslog``: ``<PRI>...`` (SysLogHandler over TCP, RFC 3164/5424) or ``LEN <PRI>`` (octet counting);
- ``http``: an HTTP request line (HTTPHandler);
- ``jsonl``: a JSON object per line;
- ``text``: anything else readable, parsed like a log file.
"""

from __future__ import annotations

from logview.listen.errors import ListenError

#: First byte of a pickle: PROTO (protocol 2+), EMPTY_DICT (protocol 1, what SocketHandler
#: sends), MARK (protocol 0 dicts), EMPTY_LIST/EMPTY_TUPLE.
PICKLE_STARTS = frozenset(b"\x80}(])")
HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"OPTIONS ", b"DELETE ", b"PATCH ")
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1b")


def is_binary_byte(byte: int) -> bool:
    """A byte that cannot start readable text: a control other than whitespace/ESC, DEL, or a
    byte no UTF-8 character starts with (continuation bytes, 0xC0/0xC1, 0xF5-0xFF)."""
    if byte < 0x20:
        return byte not in _TEXT_CONTROLS
    return byte == 0x7F or 0x80 <= byte <= 0xC1 or byte >= 0xF5


def sniff_stream(head: bytes, max_frame: int) -> str | None:
    """The protocol of a connection from its first bytes, or None when more are needed.

    Raises ``ListenError`` for a length prefix above ``max_frame`` or binary data that is no
    known framing, so a connection sending garbage is closed at once.
    """
    if not head:
        return None
    first = head[0]
    if is_binary_byte(first):
        if len(head) < 4:
            return None
        length = int.from_bytes(head[:4], "big")
        if length > max_frame:
            raise ListenError(
                "frame too large",
                f"a frame of {length} bytes was announced; the limit is {max_frame} bytes",
            )
        if length == 0:
            raise ListenError("bad frame", "an empty frame (length 0) was announced")
        if len(head) < 5:
            return None
        if head[4] in PICKLE_STARTS or head[4] == ord("{"):
            return "frames"
        raise ListenError(
            "unrecognised data",
            "binary data that is neither a length-prefixed pickle nor a JSON frame",
        )
    if first == ord("<"):
        if len(head) < 2:
            return None
        return "syslog" if head[1:2].isdigit() else "text"
    if first in b"0123456789":
        digits = len(head) - len(head.lstrip(b"0123456789"))
        if digits == len(head):
            return None if digits < 10 else "text"
        if head[digits : digits + 2] == b" <":
            return "syslog"
        if digits + 1 == len(head) and head[digits] == ord(" "):
            return None
        return "text"
    stripped = head.lstrip(b" \t\r\n")
    if not stripped:
        return None if len(head) < 64 else "text"
    if stripped[0] == ord("{"):
        return "jsonl"
    for method in HTTP_METHODS:
        if head.startswith(method):
            return "http"
        if method.startswith(head):
            return None
    return "text"


def looks_binary(sample: bytes) -> bool:
    """True when a text sample is mostly not text (random bytes, a foreign binary protocol)."""
    if not sample:
        return False
    if b"\x00" in sample[:4096]:
        return True
    sample = sample[:4096]
    bad = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS or b == 0x7F)
    text = sample.decode("utf-8", "replace")
    bad += text.count("\ufffd")
    return bad * 10 > len(sample)
