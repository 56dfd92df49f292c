"""Each syslog client's messages read by their own format, learned from its first messages.

``SysLogHandler`` sends ``<PRI>`` and the record as the handler's Formatter wrote it
(``%(name)s: %(levelname)s %(message)s``, ``%(asctime)s %(name)s %(levelname)s ...``): the
logger, the program's time and the level as text are in the message. A file of syslog lines
gets a format for its messages at detection (``formats.detect_wrapped.message_format``); a listener
sees one message at a time, so each client's first messages are kept (the first line of
each, cut to ``MAX_LINE`` characters) and the format detected from them as they come: at
the first message, then at 2, 3, 4, 8, 16, 32 and 64 (a detection of a few messages takes
1-7 ms), after which the sample is let go. A format must read a level in most of the sample
(``formats.detect_wrapped.message_format``): a plain message read as a head loses nothing but its
first words, and the next detection, on more messages, corrects it. Every record from then
on is read by the format found (``formats.syslog.with_message_format``): its logger replaces the app name (kept as a
field), the message loses the head, and the program's time is the record's when the syslog
header had none (Python's handler sends none). PRI stays the level: ``SysLogHandler``
wrote it from the record's level.

Detection is budgeted (``DETECT_BUDGET``: a tenth of a second in each second), so senders
that open a new connection or port per message cannot make each message cost one. A client
is a connection, or a datagram sender's address. The records before a format is
found, and messages the format does not start (a library's line), keep their syslog
reading. At most ``MAX_CLIENTS`` clients are remembered (the oldest are forgotten: a client
seen again learns again).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from logview.formats.base import LogFormat
from logview.formats.detect_wrapped import message_format
from logview.formats.syslog import with_message_format
from logview.record import Record

#: Messages sampled per client; detection runs when the sample reaches one of these sizes.
DETECT_AT = (1, 2, 3, 4, 8, 16, 32, 64)
#: Characters of a message's first line kept for detection (the head is what it reads).
MAX_LINE = 1000
#: Clients remembered at once.
MAX_CLIENTS = 256
#: Most seconds of detection per second of the listener's time: a sender that opens a new
#: connection or port for every message (or a flood of them) must not make each message cost
#: a detection. Past it, a detection due is left for the client's next sample size.
DETECT_BUDGET = 0.1


class _Client:
    __slots__ = ("format", "sample")

    def __init__(self) -> None:
        self.sample: list[str] | None = []
        self.format: LogFormat | None = None


class SyslogMessages:
    """The message format of each client, learned from its first messages."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._clock = clock
        self._window = 0.0  # start of the current second
        self._spent = 0.0  # detection seconds spent in it

    def read(self, record: Record, client: str) -> Record:
        """``record`` (a syslog message from ``client``) with its message read by the
        client's format, once one is known."""
        state = self._clients.get(client)
        if state is None:
            state = self._clients[client] = _Client()
            if len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(client)
        sample = state.sample
        if sample is not None and record.message:
            sample.append(record.message.partition("\n")[0][:MAX_LINE])
            if len(sample) in DETECT_AT and self._may_detect():
                started = self._clock()
                found = message_format(sample, least=1)
                self._spent += self._clock() - started
                state.format = None if found is None else found.format
            if len(sample) >= DETECT_AT[-1]:
                state.sample = None
        if state.format is None:
            return record
        return with_message_format(record, state.format)

    def _may_detect(self) -> bool:
        now = self._clock()
        if now - self._window >= 1.0:
            self._window, self._spent = now, 0.0
        return self._spent < DETECT_BUDGET

    def format_of(self, client: str) -> LogFormat | None:
        """The format ``client``'s messages are read by (None: none found yet)."""
        state = self._clients.get(client)
        return None if state is None else state.format
