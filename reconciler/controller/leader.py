"""Leader election on a store lease: exactly one replica writes.

Invariants:
- A replica writes only while ``is_leader()``: it holds the lease and its last successful acquire/renew
  *started* less than ``ttl - margin`` ago (measured on this machine's monotonic clock). Counting from the
  request's start, not its answer, keeps us on the safe side of the server's expiry.
- A leader that cannot renew stops writing before the lease can expire: when ``ttl - margin`` passes without a
  successful renew, ``is_leader()`` turns False and ``on_lost`` fires (a timer, so a renew call that hangs
  cannot delay it). The controller wires ``on_lost`` to the executor's stop event: nothing new starts.
- ``release()`` (on SIGTERM) gives the lease up at once, so a standby takes over within one retry period
  instead of a whole ttl.
Renewal happens every ``ttl / 3``; a standby retries acquiring at the same pace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from reconciler.store import Lease, LockHeld, LockLost, StoreError

log = logging.getLogger("reconciler.controller.leader")
LEADER_LOCK = "leader"


class LeaderElector:
    def __init__(
        self,
        store,
        *,
        identity: str,
        ttl: timedelta = timedelta(seconds=30),
        margin: timedelta | None = None,
        name: str = LEADER_LOCK,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.store, self.identity, self.name = store, identity, name
        self.ttl = ttl
        self.margin = margin if margin is not None else max(ttl / 4, timedelta(seconds=2))
        self.renew_every = ttl.total_seconds() / 3
        self._clock = clock
        self._on_change = on_change
        self._lease: Lease | None = None
        self._valid_until = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._leading = False
        self.holder: str | None = None  # who leads, as far as we know (for /status)

    # -- the decision ------------------------------------------------------------------------------------------

    def is_leader(self) -> bool:
        with self._lock:
            return self._lease is not None and self._clock() < self._valid_until

    def step(self) -> bool:
        """One election round: renew our lease, or try to take it. Returns ``is_leader()`` afterwards."""
        started = self._clock()
        validity = (self.ttl - self.margin).total_seconds()
        lease = self._lease
        try:
            if lease is not None:
                lease = self.store.renew(lease)
            else:
                lease = self.store.acquire(self.name, owner=self.identity, ttl=self.ttl)
                if lease.took_over_from is not None:
                    log.warning(
                        "took over the leader lease from a holder that stopped renewing",
                        extra={"event": "leader_takeover", "role": "leader"},
                    )
        except LockHeld as exc:
            self.holder = exc.holder.owner if exc.holder else None
            self._set(None, 0.0)
            return False
        except StoreError as exc:  # LockLost, or storage unreachable: assume the worst
            log.warning("leader lease not renewed: %s", exc, extra={"event": "leader_renew_failed"})
            if lease is not None and not isinstance(exc, LockLost) and self._clock() < self._valid_until:
                return self.is_leader()  # still inside our validity window: keep trying until it ends
            self._set(None, 0.0)
            if lease is not None:
                self.store.release(lease)  # best effort; a local lock would otherwise block our own retake
            return False
        self.holder = self.identity
        self._set(lease, started + validity)
        return True

    def _set(self, lease: Lease | None, valid_until: float) -> None:
        with self._lock:
            self._lease, self._valid_until = lease, valid_until
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if lease is not None:
                self._timer = threading.Timer(max(0.0, valid_until - self._clock()), self._expired)
                self._timer.daemon = True
                self._timer.start()
        self._changed(lease is not None)

    def _expired(self) -> None:
        """The validity window closed without a renew: stop writing now, before the lease itself can lapse."""
        with self._lock:
            if self._lease is None or self._clock() < self._valid_until:
                return
        log.error(
            "leader lease validity ran out without a renew; writes stop",
            extra={"event": "leader_lost", "role": "standby"},
        )
        self._changed(False)

    def _changed(self, leading: bool) -> None:
        if leading != self._leading:
            self._leading = leading
            log.info(
                "became leader" if leading else "not the leader",
                extra={"event": "leader_change", "role": "leader" if leading else "standby"},
            )
            if self._on_change:
                self._on_change(leading)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Keep stepping every ``renew_every`` seconds until ``stop`` is set; then release."""
        while not stop.is_set():
            self.step()
            stop.wait(self.renew_every)
        self.release()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name="leader-election", daemon=True)
        thread.start()
        return thread

    def release(self) -> None:
        lease = self._lease
        self._set(None, 0.0)
        if lease is not None:
            self.store.release(lease)
            log.info("released the leader lease", extra={"event": "leader_released"})


class AlwaysLeader:
    """For ``--once`` and single-replica runs without election: leads, never loses."""

    holder = "self"

    def is_leader(self) -> bool:
        return True

    def step(self) -> bool:
        return True

    def start(self, stop: threading.Event) -> None:
        return None

    def release(self) -> None:
        return None
