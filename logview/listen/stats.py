"""The listener's counters, shared by the listener and its per-client handlers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ListenerStats:
    """Counters of the listener (updated on its thread; read them from anywhere)."""

    connections_open: int = 0
    connections_total: int = 0
    records: int = 0
    datagrams: int = 0
    idle_closed: int = 0
    sink_errors: int = 0
    #: Closed connections and dropped datagrams by reason (``"frame too large"``, ...).
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())
