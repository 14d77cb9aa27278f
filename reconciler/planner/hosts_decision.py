"""What `decide` returns for one host pool: the writes to make now and when to look again (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

POLL = timedelta(seconds=30)  # how soon to look again while something is in flight


@dataclass(frozen=True)
class Step:
    """One write. `op` is one of: delete-ghost, count-failure, mark-failed, quarantine, remove, retire,
    drain, message, logoff, create, join, register, stamp-registered, ready, stamp-rolled-out.

    `register` sends the AVD agent and stamps HOST_REGISTERED_TAG (the health timeout's start);
    `stamp-registered` writes only that tag, for a host whose agent went out without it (a killed apply)."""

    op: str
    host: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decision:
    steps: list[Step] = field(default_factory=list)
    waits: list[tuple[datetime, str]] = field(default_factory=list)
    state: str = "converged"  # converged | progressing | waiting | halted
    mode: str = "steady"  # steady | provisioning | rollout | rollback | halted | waiting-replication | gated
    effective_target: str | None = None
    notes: list[str] = field(default_factory=list)

    def wait(self, at: datetime, why: str) -> None:
        self.waits.append((at, why))

    @property
    def next_check(self) -> tuple[datetime, str] | None:
        return min(self.waits, key=lambda w: w[0]) if self.waits else None
