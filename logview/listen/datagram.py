"""Decode one datagram (UDP or a unix datagram socket) into records.

Accepted: DatagramHandler (4-byte length + pickle, decoded by the safe unpickler), a
length-prefixed JSON frame, GELF (plain, zlib or gzip compressed JSON), JSON lines, syslog
(``<PRI>...``), and readable text (one record per datagram). Chunked GELF is refused and counted.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from logview.listen.decode import (
    plain_record,
    record_from_json_bytes,
    record_from_syslog,
)
from logview.listen.errors import ListenError
from logview.listen.sniff import PICKLE_STARTS, looks_binary
from logview.listen.streams import record_from_frame
from logview.record import Record

_GELF_CHUNK = b"\x1e\x0f"
_ZLIB_HEADERS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")
_GZIP = b"\x1f\x8b"


def _inflate(data: bytes, max_size: int, wbits: int) -> bytes:
    """Decompress with a bound on the output (no zip bombs)."""
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise ListenError("bad compression", f"a compressed datagram is corrupt: {exc}") from exc
    if len(out) > max_size or inflater.unconsumed_tail:
        raise ListenError("frame too large",
                          f"a compressed datagram expands beyond {max_size} bytes")
    return out


def decode_datagram(data: bytes, max_frame: int,
                    syslog_read: Callable[[Record], Record] | None = None) -> list[Record]:
    """The records of one datagram; ``ListenError`` when it is unusable. ``syslog_read``:
    what reads a syslog message by its sender's format (``SyslogMessages``)."""
    if not data:
        return []
    if len(data) >= 5 and data[0] == 0:
        length = struct.unpack_from(">I", data)[0]
        if length == len(data) - 4 and (data[4] in PICKLE_STARTS or data[4:5] == b"{"):
            return [record_from_frame(data[4:])]
    if data[:2] == _GELF_CHUNK:
        raise ListenError("chunked gelf", "chunked GELF datagrams are not supported; "
                          "raise the sender's chunk size or use GELF over TCP")
    if data[:2] in _ZLIB_HEADERS:
        return _decode_text(_inflate(data, max_frame, zlib.MAX_WBITS), syslog_read)
    if data[:2] == _GZIP:
        return _decode_text(_inflate(data, max_frame, zlib.MAX_WBITS | 16), syslog_read)
    return _decode_text(data, syslog_read)


def _decode_text(data: bytes, syslog_read: Callable[[Record], Record] | None) -> list[Record]:
    stripped = data.strip(b"\x00\r\n\t ")
    if not stripped:
        return []
    if stripped[:1] == b"<" and stripped[1:2].isdigit():
        return [record_from_syslog(stripped, "", syslog_read)]
    if stripped[:1] == b"{":
        return [record_from_json_bytes(line, "") for line in stripped.split(b"\n")
                if line.strip()]
    if looks_binary(stripped):
        raise ListenError("unrecognised data", "a datagram that is no known log protocol")
    return [plain_record(stripped, "")]
