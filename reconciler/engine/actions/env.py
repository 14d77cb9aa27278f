"""What every action gets: the Azure writer and reader, the LRO ledger, the server clock, and scratch memory.

`memory(change_key)` is per change and per apply run (one node runs on one thread at a time, so no lock is
needed per entry). `replication` collects each version's per-region state as actions see it, for the recap.
Poll delays are in server time: an eighth of the time an operation has run so far, between `min_poll` and
`max_poll` — frequent checks for short operations, few for hour-long builds, never more than `max_poll` late.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.engine.operations import OperationLedger
from reconciler.engine.outcome import WaitUntil
from reconciler.model.observed import ObservedImageVersion, norm_id

COMMIT_TAG = "avd-reconciler-commit"


@dataclass
class ActionEnv:
    writer: Any  # reconciler.azure.writes.Writer
    reader: Any  # reconciler.azure.reads.Reader
    ledger: OperationLedger
    clock: Callable[[], datetime]
    extra_tags: dict[str, str] = field(default_factory=dict)  # e.g. the git commit, on what we create
    subscriptions: tuple[str, ...] = ()
    min_poll: timedelta = timedelta(seconds=5)
    max_poll: timedelta = timedelta(minutes=1)
    max_region_retries: int = 2
    replication: dict[str, dict[str, str]] = field(default_factory=dict)
    _memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def memory(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self._memory.setdefault(key, {"done": {}, "started": set(), "wrote": False})

    def wait(self, since: datetime | None, why: str) -> WaitUntil:
        now = self.clock()
        elapsed = (now - since) if since is not None else timedelta(0)
        delay = min(max(elapsed / 8, self.min_poll), self.max_poll)
        return WaitUntil(now + delay, why)

    def record_replication(self, version: ObservedImageVersion | None) -> None:
        if version is None:
            return
        states = {r.name: version.replication_state_in(r.name) for r in version.target_regions}
        with self._lock:
            self.replication[norm_id(version.id)] = dict(sorted(states.items()))

    def tags_for_write(self, desired: dict[str, str] | None, current: dict[str, str] | None = None) -> dict:
        """Tags to send: what is there now (hand-added tags stay), the desired ones, and ours."""
        return {**(current or {}), **(desired or {}), **self.extra_tags}
