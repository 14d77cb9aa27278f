"""What every action gets: the Azure writer and reader, the LRO ledger, the server clock, and scratch memory.

`memory(change_key)` is per change and per apply run (one node runs on one thread at a time, so no lock is
needed per entry). `replication` collects each version's per-region state as actions see it, for the recap.
Poll delays are in server time. When the service said when to look again (the operation status's
`Retry-After`, "the number of seconds to wait before checking the status of the asynchronous operation":
learn.microsoft.com/azure/azure-resource-manager/management/async-operations), that is the delay, clamped to
[`min_poll`, `max_advised_poll`]: Azure knows how long its replication takes, we do not, and each check is a
read against the subscription's read budget; the cap only bounds how late a wrong estimate can make us.
Without advice we guess: an eighth of the time the operation has run so far, within [`min_poll`, `max_poll`] —
frequent checks for short operations, few for hour-long builds. Per-region progress of a replication is a
second read beside the operation's status, so it is taken at most every `progress_poll` (`progress_due`).
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
    max_poll: timedelta = timedelta(minutes=5)
    # Replications take 15 to 100 min per copy (limits.md A4): trusting advice this far is at worst ~2x late.
    max_advised_poll: timedelta = timedelta(minutes=30)
    progress_poll: timedelta = timedelta(minutes=15)  # a 30-minute replication: one look halfway
    max_region_retries: int = 2
    replication: dict[str, dict[str, str]] = field(default_factory=dict)
    _memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def memory(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self._memory.setdefault(key, {"done": {}, "started": set(), "wrote": False})

    def wait(self, since: datetime | None, why: str, retry_after: float | None = None) -> WaitUntil:
        """Look again after the service's `retry_after` (server seconds) if it gave one, clamped to
        [min_poll, max_advised_poll]; else after an eighth of the time since `since`, in [min_poll, max_poll]."""
        now = self.clock()
        if retry_after is not None:
            delay, cap = timedelta(seconds=retry_after), self.max_advised_poll
        else:
            delay, cap = ((now - since) if since is not None else timedelta(0)) / 8, self.max_poll
        return WaitUntil(now + min(max(delay, self.min_poll), cap), why)

    def progress_due(self, key: str) -> bool:
        """Whether change `key` may read per-region progress now; at most once per `progress_poll`, the
        first period starting at the first ask."""
        now = self.clock()
        mem = self.memory(key)
        last = mem.setdefault("progress_read", now)
        if now - last < self.progress_poll:
            return False
        mem["progress_read"] = now
        return True

    def record_replication(self, version: ObservedImageVersion | None) -> None:
        if version is None:
            return
        states = {r.name: version.replication_state_in(r.name) for r in version.target_regions}
        with self._lock:
            self.replication[norm_id(version.id)] = dict(sorted(states.items()))

    def tags_for_write(self, desired: dict[str, str] | None, current: dict[str, str] | None = None) -> dict:
        """Tags to send: what is there now (hand-added tags stay), the desired ones, and ours."""
        return {**(current or {}), **(desired or {}), **self.extra_tags}
