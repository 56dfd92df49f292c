"""Incremental decoders for the stream protocols a connection may speak.

Each decoder takes bytes as they arrive (``feed``) and appends the records they complete to
``out`` (so records decoded before bad input in the same chunk are kept); ``idle`` is called when the client has been quiet a moment (records that have no terminator
show up then), ``close`` at end of input. Every buffer is bounded by ``max_frame``; bad input
raises ``ListenError`` and the connection is closed.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from logview.boundaries import RecordSplitter
from logview.formats.base import LogFormat
from logview.formats.json_infer import infer_keys
from logview.formats.json_roles import role_table
from logview.formats.json_status import with_status_level
from logview.listen.decode import (
    json_object,
    plain_record,
    record_from_json,
    record_from_json_bytes,
    record_from_logrecord,
    record_from_syslog,
)
from logview.listen.errors import ListenError
from logview.listen.safe_pickle import safe_loads
from logview.listen.sniff import looks_binary
from logview.record import RawRecord, Record, decode_record

_LENGTH = struct.Struct(">I")


class StreamDecoder:
    """Base: bytes in, records out."""

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame

    def feed(self, data: bytes, out: list[Record]) -> None:
        raise NotImplementedError

    def idle(self, out: list[Record]) -> None:
        """Records held back only for lack of a terminator (called after a quiet moment)."""

    def close(self, out: list[Record]) -> None:
        """End of input: the last records, or ``ListenError`` for a half frame."""


def record_from_frame(frame: bytes) -> Record:
    """One length-prefixed frame: a pickled LogRecord dict or a JSON object."""
    if frame[:1] == b"{":
        return record_from_json_bytes(frame, "")
    value = safe_loads(frame)
    if not isinstance(value, dict):
        raise ListenError(
            "not a log record",
            f"a pickle of a {type(value).__name__}, not a LogRecord dict, was received",
        )
    return record_from_logrecord(value, "")


class FrameDecoder(StreamDecoder):
    """4-byte big-endian length + payload (SocketHandler pickles, JSON frames)."""

    def __init__(self, max_frame: int) -> None:
        super().__init__(max_frame)
        self._buf = bytearray()

    def feed(self, data: bytes, out: list[Record]) -> None:
        buf = self._buf
        buf += data
        pos = 0
        n = len(buf)
        try:
            while n - pos >= 4:
                length = _LENGTH.unpack_from(buf, pos)[0]
                if length > self.max_frame:
                    raise ListenError(
                        "frame too large",
                        f"a frame of {length} bytes was announced; the limit is "
                        f"{self.max_frame} bytes",
                    )
                if length == 0:
                    raise ListenError("bad frame", "an empty frame (length 0) was announced")
                end = pos + 4 + length
                if end > n:
                    break
                out.append(record_from_frame(bytes(buf[pos + 4 : end])))
                pos = end
        finally:
            del buf[:pos]

    def close(self, out: list[Record]) -> None:
        if self._buf:
            raise ListenError(
                "truncated frame",
                f"the connection closed in the middle of a frame ({len(self._buf)} bytes left)",
            )


class LineDecoder(StreamDecoder):
    """Newline-terminated messages; subclasses say what a line becomes."""

    def __init__(self, max_frame: int) -> None:
        super().__init__(max_frame)
        self._partial = bytearray()

    def convert(self, line: bytes) -> Record | None:
        raise NotImplementedError

    def feed(self, data: bytes, out: list[Record]) -> None:
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            if self._partial:
                self._partial += data[start:nl]
                line = bytes(self._partial)
                self._partial.clear()
            else:
                line = data[start:nl]
            start = nl + 1
            if len(line) > self.max_frame:
                raise self._too_long()
            record = self.convert(line)
            if record is not None:
                out.append(record)
        self._partial += data[start:]
        if len(self._partial) > self.max_frame:
            raise self._too_long()

    def _too_long(self) -> ListenError:
        return ListenError("line too long", f"a line longer than {self.max_frame} bytes")

    def close(self, out: list[Record]) -> None:
        line, self._partial = bytes(self._partial), bytearray()
        record = self.convert(line) if line.strip() else None
        if record is not None:
            out.append(record)


class JsonLineDecoder(LineDecoder):
    """One JSON object per line (any schema the JSON format knows). Keys a sender keeps its
    time, level, message or exception under are read from its first objects' values, as
    detection reads a file's (``json_infer``); records already delivered keep their reading."""

    #: Objects looked at for the sender's keys, and the longest line one may come from.
    SAMPLE = 20
    SAMPLE_LINE_BYTES = 64 * 1024

    def __init__(self, max_frame: int) -> None:
        super().__init__(max_frame)
        self._sample: list[dict] = []
        self._roles: dict[str, tuple[int, int]] | None = None
        self._status: str | None = None  # the key of an HTTP status that gives the level

    def convert(self, line: bytes) -> Record | None:
        line = line.strip()
        if not line:
            return None
        obj = json_object(line)
        if obj is None:
            return plain_record(line, "")
        if len(self._sample) < self.SAMPLE and len(line) <= self.SAMPLE_LINE_BYTES:
            self._sample.append(obj)  # (bounded: 20 objects of at most 64 KB)
            keys = infer_keys(self._sample)
            self._status = keys.pop("status", None)
            self._roles = role_table(keys) if keys else None
        record = record_from_json(obj, "", self._roles)
        return record if self._status is None else with_status_level(record, self._status)


_PRI_START = re.compile(rb"<\d{1,3}>")
_OCTET = re.compile(rb"(\d{1,10}) ")


class SyslogStreamDecoder(StreamDecoder):
    """Syslog over TCP: octet counting (``LEN <PRI>...``), NUL- or LF-terminated, or none.

    Python's SysLogHandler ends each message with NUL (``append_nul``); messages may contain
    newlines (tracebacks), so the first terminator seen decides the framing. Without any
    terminator, a message ends where the next ``<PRI>`` starts, or when the client goes quiet.
    """

    def __init__(self, max_frame: int,
                 read: Callable[[Record], Record] | None = None) -> None:
        """``read``: what reads each message by the client's format (``SyslogMessages``)."""
        super().__init__(max_frame)
        self._buf = bytearray()
        self._mode: str | None = None
        self._read = read

    def _record(self, data: bytes) -> Record:
        return record_from_syslog(data, "", self._read)

    def _decide(self) -> None:
        buf = self._buf
        if _OCTET.match(buf):
            self._mode = "octets"
            return
        nul = buf.find(b"\x00")
        lf = buf.find(b"\n")
        pri = _PRI_START.search(buf, 1)
        candidates = [(p, m) for p, m in ((nul, "nul"), (lf, "lf")) if p >= 0]
        if pri is not None:
            candidates.append((pri.start(), "pri"))
        if candidates:
            self._mode = min(candidates)[1]

    def feed(self, data: bytes, out: list[Record]) -> None:
        self._buf += data
        if self._mode is None:
            self._decide()
        buf = self._buf
        pos = 0
        if self._mode == "octets":
            while True:
                match = _OCTET.match(buf, pos)
                if match is None:
                    if len(buf) - pos > 11 or (buf[pos:] and not buf[pos:].isdigit()):
                        raise ListenError("bad frame", "syslog octet counting lost its framing")
                    break
                length = int(match.group(1))
                if length > self.max_frame:
                    raise ListenError("frame too large", f"a syslog message of {length} bytes "
                                      f"was announced; the limit is {self.max_frame}")
                end = match.end() + length
                if end > len(buf):
                    break
                out.append(self._record(bytes(buf[match.end() : end])))
                pos = end
        elif self._mode in ("nul", "lf"):
            sep = b"\x00" if self._mode == "nul" else b"\n"
            while True:
                end = buf.find(sep, pos)
                if end < 0:
                    break
                if end > pos and buf[pos:end].strip():
                    out.append(self._record(bytes(buf[pos:end])))
                pos = end + 1
        elif self._mode == "pri":
            while True:
                match = _PRI_START.search(buf, pos + 1)
                if match is None:
                    break
                out.append(self._record(bytes(buf[pos : match.start()])))
                pos = match.start()
        del buf[:pos]
        if len(buf) > self.max_frame:
            raise ListenError("line too long", f"a syslog message longer than {self.max_frame}")

    def idle(self, out: list[Record]) -> None:
        if self._mode in (None, "pri") and self._buf.strip(b"\x00\r\n "):
            self.close(out)

    def close(self, out: list[Record]) -> None:
        data, self._buf = bytes(self._buf), bytearray()
        if self._mode == "octets" and data:
            raise ListenError("truncated frame", "the connection closed inside a syslog message")
        if data.strip(b"\x00\r\n "):
            out.append(self._record(data))


def _detect(sample: bytes) -> LogFormat:
    """The format of a text stream from its first lines (plain lines until detection lands)."""
    from logview.formats.detect import detect_format  # late: detection builds every format

    return detect_format(sample)


class TextStreamDecoder(StreamDecoder):
    """Lines of a log as a file would hold them: format detected on the first lines.

    Detection waits for ``SAMPLE_LINES`` lines (or ``SAMPLE_BYTES``). A client that sends a
    line and then waits gets its records anyway when it goes quiet (``idle``), read with a
    provisional detection; the lines seen so far stay as evidence (bounded by the sample
    limits) and detection runs again on what comes next, until the sample is big enough.
    Records already delivered keep the format they were read with.
    """

    SAMPLE_LINES = 20
    SAMPLE_BYTES = 16 * 1024

    def __init__(self, max_frame: int) -> None:
        super().__init__(max_frame)
        self._sample = bytearray()  # bytes not yet split into records (before detection)
        self._evidence = bytearray()  # complete lines already delivered provisionally
        self._format: LogFormat | None = None
        self._splitter: RecordSplitter | None = None

    def _enough(self) -> bool:
        lines = self._evidence.count(b"\n") + self._sample.count(b"\n")
        return (lines >= self.SAMPLE_LINES
                or len(self._evidence) + len(self._sample) >= self.SAMPLE_BYTES)

    def _detect(self, data: bytes) -> LogFormat:
        if not self._evidence and looks_binary(data):
            raise ListenError("unrecognised data", "binary data that is no known log protocol")
        return _detect(bytes(self._evidence) + data)

    def _start(self, out: list[Record]) -> None:
        """Detection is final: split everything from here on with the detected format."""
        sample = bytes(self._sample)
        self._sample.clear()
        self._format = self._detect(sample)
        self._evidence.clear()
        self._splitter = RecordSplitter(self._format)
        self._convert(self._splitter.feed(sample), out)

    def _deliver_provisionally(self, out: list[Record], *, partial: bool) -> None:
        """The client went quiet before detection had enough lines: deliver what came (a
        half line waits unless ``partial``), keep its lines as evidence for the next try."""
        data = bytes(self._sample)
        cut = len(data) if partial else data.rfind(b"\n") + 1
        whole, rest = data[:cut], data[cut:]
        if not whole:
            return
        fmt = self._detect(whole)
        splitter = RecordSplitter(fmt)
        records = splitter.feed(whole) + splitter.flush(partial=True)
        for raw in records:
            out.append(fmt.parse_raw(decode_record(raw.data)))
        self._evidence += whole
        self._sample[:] = rest

    def _convert(self, raws: list[RawRecord], out: list[Record]) -> None:
        fmt = self._format
        assert fmt is not None
        for raw in raws:
            out.append(fmt.parse_raw(decode_record(raw.data)))

    def feed(self, data: bytes, out: list[Record]) -> None:
        if self._splitter is None:
            self._sample += data
            if self._enough():
                self._start(out)
            return
        self._convert(self._splitter.feed(data), out)
        if self._splitter.pending_bytes > self.max_frame:  # cut, never drop
            self._convert(self._splitter.flush(partial=True), out)

    def idle(self, out: list[Record]) -> None:
        if self._splitter is None:
            self._deliver_provisionally(out, partial=False)
            return
        self._convert(self._splitter.flush(partial=False), out)

    def close(self, out: list[Record]) -> None:
        if self._splitter is None:
            self._deliver_provisionally(out, partial=True)
            return
        self._convert(self._splitter.flush(partial=True), out)
