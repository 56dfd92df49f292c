"""Keys handled one at a time and in order, none before the main screen is ready.

Textual routes a key to the widget focused when the key arrives, but runs the key's binding
later, once the key has bubbled up to the app; a focus change the binding makes is deferred
once more. A terminal delivers everything typed while the app was starting or busy in one
read, so such keys are all routed by the focus of that moment: ``/err`` sends ``err`` to the
record list as commands (and a ``q`` among them quits). ``KeySequencer`` holds keys until the
main screen says it is ready, then lets each key through only after the one before it is done.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App

#: Longest a handled key's effects may keep the screen busy before the next key is let through
#: anyway (under load the screen is hardly ever idle).
KEY_TIMEOUT = 0.5
#: Longest a key may stay unhandled while the widget it was sent to is still there. A key in
#: transit is not lost: under load it can take seconds to bubble up to its binding, and letting
#: the next key through first sent it to the old focus (``/qtq`` typed ``tq``).
KEY_GIVE_UP = 5.0
#: How often a key in flight is checked for having been consumed by a widget.
POLL_INTERVAL = 0.002
#: Keys opened to the app anyway this long after the gate was set up (a screen that never
#: reports ready must not swallow the keyboard, ctrl+q included).
READY_TIMEOUT = 3.0
#: Most keys held; a terminal cannot type more while the app starts, so this only bounds memory.
MAX_HELD = 4096


class KeySequencer:
    """Holds the app's keys and routes them one by one through ``route``.

    The app calls ``hold`` for each key from the terminal, ``finished`` when a key has bubbled
    up to it and its binding ran, and ``open`` when the main screen is ready for keys.
    ``route`` is the app's normal key handling (priority bindings, then forward to focus).
    """

    def __init__(self, app: App[Any], route: Callable[[events.Key], Awaitable[None]]) -> None:
        self._app = app
        self._route = route
        self._held: deque[events.Key] = deque(maxlen=MAX_HELD)
        self._in_flight: events.Key | None = None
        self._target: Any = None
        self._handled = False
        self._sent_at = 0.0
        self.is_open = False

    def start(self) -> None:
        """Begin the ready timeout (call once the app runs)."""
        self._app.set_timer(READY_TIMEOUT, self.open, name="keys ready timeout")

    def open(self) -> None:
        """The main screen can take keys: let the held ones through, in order."""
        if not self.is_open:
            self.is_open = True
            self._next_soon()

    @property
    def pending(self) -> int:
        """Keys held or in flight."""
        return len(self._held) + (self._in_flight is not None)

    def hold(self, key: events.Key) -> None:
        """Queue a key from the terminal; it is routed when the keys before it are done."""
        self._held.append(key)
        if self.is_open and self._in_flight is None:
            self._next_soon()

    def finished(self, key: events.Key) -> None:
        """``key`` has bubbled to the app and its binding (if any) has run."""
        if key is self._in_flight:
            self._handled = True

    def _next_soon(self) -> None:
        if self._held:
            self._app.call_later(self._route_next)

    async def _route_next(self) -> None:
        if not self.is_open or self._in_flight is not None or not self._held:
            return
        key = self._held.popleft()
        self._in_flight = key
        self._handled = False
        self._sent_at = time.monotonic()
        self._target = self._app.focused or (self._app.screen if self._app.screen_stack else None)
        await self._route(key)
        if not key.is_forwarded:  # a priority binding took it
            self._handled = True
        self._check_in_flight()

    def _check_in_flight(self) -> None:
        """Let the next key go once this one is handled and what it set off has run."""
        key = self._in_flight
        if key is None:
            return
        # Textual has no public "was stopped" (``Message._stop_propagation`` is stable since 0.1).
        if not self._handled and key._stop_propagation:
            # A widget that handles a key stops it, and it never reports back. But a key is
            # also stopped just as it bubbles from the screen to the app (its sender): then it
            # sits in the app's queue already, and ``finished`` comes before this callback.
            self._app.call_later(self._consumed, key)
            return
        waited = time.monotonic() - self._sent_at
        if self._handled:
            timed_out = waited > KEY_TIMEOUT
        else:  # a key sent to a widget that went away never reports back
            timed_out = waited > (KEY_GIVE_UP if self._target_is_there() else KEY_TIMEOUT)
        if timed_out or self._handled and self._screen_is_idle():
            self._in_flight = None
            # Behind whatever the key's action queued on the app (a deferred focus change).
            self._next_soon()
        else:
            self._app.set_timer(POLL_INTERVAL, self._check_in_flight, name="key in flight")

    def _consumed(self, key: events.Key) -> None:
        if key is self._in_flight:
            self._handled = True
            self._check_in_flight()

    def _target_is_there(self) -> bool:
        target = self._target
        return target is not None and target.is_attached and not target._closing

    def _screen_is_idle(self) -> bool:
        """No message waits on the screen or its widgets (a key's effects often travel as
        messages: Enter in the query bar posts Submitted, then Applied, then moves focus)."""
        if not self._app.screen_stack:  # starting up or shutting down
            return True
        screen = self._app.screen
        return not screen.message_queue_size and not any(
            widget.message_queue_size for widget in screen.walk_children()
        )
