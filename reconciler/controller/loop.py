"""The controller loop: fetch, validate, reconcile on an interval, one writer, last good commit.

Invariants:
- Level-triggered: every cycle re-observes Azure and converges from wherever it stands; progress lives on the
  resources, so a restart or a new leader resumes rollouts.
- **Last good commit.** A commit is loaded and validated whole before anything uses it. An invalid commit is
  never applied, not even in part: cycles keep reconciling the last valid desired state (held in memory)
  and the error stays on /status, /metrics (``reconcile_desired_invalid``), the log and the webhook until a
  valid commit arrives. A controller that starts on an invalid commit has nothing good to apply and reports
  not-ready.
- **Schedule.** After a cycle: ``interval`` with ±``jitter`` (so replicas and controllers spread out), or
  sooner when the cycle handed back an earlier wait (a soak ending, a window opening, a replication due): the
  next cycle starts when that wait ends, but never less than ``min_gap`` after this one, so a wait that is
  already due cannot spin the loop against ARM; after a failed cycle: exponential backoff ``retry_base * 2**(n-1)`` capped at ``interval``. A new valid commit
  triggers a cycle at once (the source is polled every ``poll`` seconds).
- **One writer.** Only the leader runs cycles. ``halt`` (the executor's stop event) is set on SIGTERM and the
  moment leadership is lost, so nothing new starts; in-flight ARM calls finish (they are idempotent).
- ``--dry-run`` and Settings ``suspend`` run observe+plan only; a suspended host pool has its writes filtered.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.controller.cycle import Cycle, CycleInput, CycleResult
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.notify import Notifier
from reconciler.controller.report import Reporter
from reconciler.controller.source import SourceError
from reconciler.spec import DesiredStateError, load_desired

log = logging.getLogger("reconciler.controller")


@dataclass
class LoopSettings:
    interval: float | None = None  # seconds; None: Settings.spec.controller.interval of the desired state
    jitter: float = 0.1
    poll: float = 60.0  # how often the source is checked for a new commit
    retry_base: float = 30.0
    min_gap: float = 5.0  # seconds: the earliest a handed-back wait may bring the next cycle
    dry_run: bool = False
    once: bool = False
    max_cycle: float = 3600.0  # /healthz fails when one cycle runs longer than this


@dataclass
class DesiredStatus:
    latest: str | None = None  # newest commit seen
    last_good: str | None = None
    invalid: dict[str, Any] | None = None  # {"commit", "errors": [...]} while the newest commit is invalid
    source_error: str | None = None


@dataclass
class _Good:
    commit: str
    desired: Any
    path: Any = None  # the folder it was loaded from (where a release is written)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None


def suspension(desired) -> tuple[bool, frozenset[str]]:
    """``suspend: true`` in Settings (spec.controller.suspend) or on a host pool (spec.suspend)."""
    controller = getattr(getattr(desired.settings, "spec", None), "controller", None)
    everything = bool(getattr(controller, "suspend", False))
    pools = frozenset(p.name for p in desired.host_pools if getattr(p.spec, "suspend", False))
    return everything, pools


class Controller:
    def __init__(
        self,
        source,
        cycle: Cycle,
        *,
        elector,
        settings: LoopSettings | None = None,
        metrics: ControllerMetrics | None = None,
        notifier: Notifier | None = None,
        identity: str = "reconcile",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.source, self.cycle, self.elector = source, cycle, elector
        self.settings = settings or LoopSettings()
        self.metrics = metrics or ControllerMetrics()
        self.notifier = notifier or Notifier(None)
        self.identity = identity
        self._clock, self._wall, self._rng = clock, wall, rng or random.Random()
        self.desired = DesiredStatus()
        self._good: _Good | None = None
        self._seen: str | None = None
        self._next_due = 0.0
        self._failures = 0
        self._beat = clock()
        self._cycle_started: float | None = None
        self.last: dict[str, Any] | None = None
        self.last_ok: bool | None = None
        self.last_success: float | None = None
        self.cycles = 0
        self.reporter = Reporter(self.metrics, self.notifier)
        self.publisher = None  # controller.release.Publisher with `--release`
        self.stop = threading.Event()
        self.halt = threading.Event()
        self._wake = threading.Event()

    # -- signals from outside --------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """SIGTERM: start nothing new, let in-flight calls finish, leave the loop."""
        self.stop.set()
        self.halt.set()
        self._wake.set()

    def leadership_changed(self, leading: bool) -> None:
        self.metrics.leader.set(1 if leading else 0)
        if leading:
            self._next_due = 0.0  # a new leader reconciles at once
        else:
            self.halt.set()  # stop writing before the lease can lapse
        self._wake.set()

    # -- the loop --------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Loop until ``request_stop``; with ``once``, one cycle. Exit code: 0 if the last cycle succeeded."""
        while not self.stop.is_set():
            self._beat = self._clock()
            new_commit = self.sync()
            if new_commit or self._clock() >= self._next_due:
                self.reconcile()
                if self.settings.once:
                    break
            wait = max(0.05, min(self._next_due - self._clock(), self.settings.poll))
            self._wake.wait(wait)
            self._wake.clear()
        return 0 if self.last_ok else 1

    def sync(self) -> bool:
        """Fetch; load and validate a commit not seen before. True when a new *valid* commit became current."""
        try:
            revision = self.source.sync()
        except SourceError as exc:
            self.metrics.source_errors.inc()
            if self.desired.source_error != str(exc):
                log.error("cannot fetch desired state: %s", exc, extra={"event": "source_error"})
            self.desired.source_error = str(exc)
            return False
        self.desired.source_error = None
        self.desired.latest = revision.commit
        if revision.commit == self._seen:
            return False
        self._seen = revision.commit
        try:
            desired = load_desired(revision.path)
        except DesiredStateError as exc:
            self._invalid(revision.commit, [str(e) for e in exc.errors])
            return False
        self._good = _Good(revision.commit, desired, revision.path)
        self.desired.last_good, self.desired.invalid = revision.commit, None
        self.metrics.desired_invalid.set(0)
        log.info("new desired state", extra={"event": "new_commit", "commit": revision.commit})
        return True

    def _invalid(self, commit: str, errors: list[str]) -> None:
        self.desired.invalid = {"commit": commit, "errors": errors}
        self.metrics.desired_invalid.set(1)
        keeping = self._good.commit if self._good else None
        log.error(
            "invalid desired state: %d error(s); still applying %s",
            len(errors),
            keeping or "nothing",
            extra={"event": "invalid_commit", "commit": commit, "error": "; ".join(errors[:5])},
        )
        self.notifier.notify(
            "invalid_commit",
            f"Invalid desired state at {commit[:12]}",
            "\n".join(errors[:10]) + f"\nStill applying {keeping or 'nothing'}.",
            key=commit,
            severity="error",
            commit=commit,
        )

    def _interval(self) -> float:
        if self.settings.interval is not None:
            return self.settings.interval
        return self._good.desired.settings.interval.total_seconds() if self._good else 900.0

    def _schedule(self, ok: bool, requeue_after: float | None = None) -> None:
        interval = self._interval()
        if ok:
            self._failures = 0
            delay = interval * (1 + self._rng.uniform(-self.settings.jitter, self.settings.jitter))
            if requeue_after is not None:
                delay = min(delay, max(self.settings.min_gap, requeue_after))
        else:
            self._failures += 1
            delay = min(interval, self.settings.retry_base * 2 ** (self._failures - 1))
        self._next_due = self._clock() + delay

    def reconcile(self) -> None:
        """One cycle (or a standby's skip). Never raises."""
        if self._good is None:
            why = "no valid desired state yet" + (
                f": {self.desired.source_error}" if self.desired.source_error else ""
            )
            self._record(None, CycleResult(ok=False, error=why), 0.0)
            return
        if not self.elector.is_leader():
            self.metrics.cycles.labels("standby").inc()
            self._next_due = self._clock() + self._interval()
            return
        if not self.stop.is_set():
            self.halt.clear()
        good = self._good
        everything, pools = suspension(good.desired)
        self.metrics.suspended.set(1 if everything else 0)
        dry = self.settings.dry_run or everything
        inp = CycleInput(
            good.desired,
            good.commit,
            dry,
            everything,
            pools,
            self.halt,
            self.reporter.conditions,
            release=self.publisher is not None,
        )
        started = self._clock()
        self._cycle_started = started
        log.info("cycle started", extra={"event": "cycle_start", "commit": good.commit, "role": "leader"})
        try:
            result = self.cycle(inp)
        except Exception as exc:  # a bug or an unexpected SDK error must not kill the controller
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            result = CycleResult(ok=False, error=f"{type(exc).__name__}: {first}")
        finally:
            self._cycle_started = None
        self._record(good.commit, result, self._clock() - started)
        publish = self.publisher is not None and result.releases and not self.stop.is_set()
        if publish and self.publisher.publish(good.path, good.commit, result.releases):
            self._next_due = 0.0  # pick the commit up at once (after the next fetch)

    # -- reporting -------------------------------------------------------------------------------------------

    def _record(self, commit: str | None, result: CycleResult, duration: float) -> None:
        self.cycles += 1
        self.last_ok = result.ok
        if result.ok:
            self.last_success = self._wall()
        self.last = self.reporter.publish(commit, result, duration, self.last_success)
        self._schedule(result.ok, result.requeue_after)

    # -- probes ----------------------------------------------------------------------------------------------

    def healthy(self) -> tuple[bool, str]:
        now = self._clock()
        if self._cycle_started is not None:
            running = now - self._cycle_started
            return running < self.settings.max_cycle, f"cycle running for {running:.0f} s"
        idle = now - self._beat
        limit = 3 * self.settings.poll + 30
        return idle < limit, f"loop last beat {idle:.0f} s ago"

    def ready(self) -> tuple[bool, str]:
        if self._good is None:
            return False, "no valid desired state yet"
        if self.last_ok is False:
            return False, f"last cycle failed: {(self.last or {}).get('error')}"
        role = "leader" if self.elector.is_leader() else "standby"
        return True, f"ready ({role})"

    def status(self) -> dict[str, Any]:
        leading = self.elector.is_leader()
        everything, pools = suspension(self._good.desired) if self._good else (False, frozenset())
        return {
            "identity": self.identity,
            "role": "leader" if leading else "standby",
            "leader": getattr(self.elector, "holder", None),
            "source": self.source.describe(),
            "dry_run": self.settings.dry_run,
            "suspended": everything,
            "suspended_pools": sorted(pools),
            "desired": {
                "latest_commit": self.desired.latest,
                "last_good_commit": self.desired.last_good,
                "invalid": self.desired.invalid,
                "source_error": self.desired.source_error,
            },
            "in_cycle": self._cycle_started is not None,
            "cycles": self.cycles,
            "consecutive_failures": self._failures,
            "last_success_at": _iso(self.last_success),
            "next_cycle_in_s": round(max(0.0, self._next_due - self._clock()), 1),
            "last_cycle": self.last,
        }
