"""One reconcile object: observe → plan → apply, assembled once for `reconcile apply`, `reconcile plan`,
`reconcile run` and the dashboard to come.

Each caller used to build the observe scope, the ActionEnv and the server clock itself; two copies drift
(the preview and the apply already did). Callers keep only what is theirs: the CLI its lock, confirmation,
signals and rendering; the controller its real-time budget, suspension and metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from reconciler.azure.clock import ServerClock
from reconciler.azure.connection import Connection
from reconciler.azure.observe import observe
from reconciler.azure.reads import Reader
from reconciler.azure.writes import Writer
from reconciler.engine.actions import ActionEnv
from reconciler.engine.actions.env import COMMIT_TAG
from reconciler.engine.apply import ApplyResult, apply_plan
from reconciler.engine.operations import OperationLedger
from reconciler.engine.report import ExecEvent
from reconciler.model.observed import ObserveScope
from reconciler.model.plan import Plan
from reconciler.planner import plan as make_plan
from reconciler.planner.references import reference_ids
from reconciler.planner.triggers import marketplace_skus
from reconciler.store import Store

# Tag values are capped by Azure; a full SHA fits, a longer ref would be refused by the write.
_COMMIT_TAG_LIMIT = 64


def subscriptions_of_desired(desired) -> list[str]:
    """The subscriptions the desired state touches: what one observation must cover."""
    subs = [r.subscription_id for r in (*desired.galleries, *desired.image_builds, *desired.host_pools)]
    return sorted({s.lower() for s in subs})


@dataclass(frozen=True)
class CycleOutcome:
    """What one observe → plan → apply pass produced; ``result`` is None when nothing was applied."""

    observed: Any
    plan: Plan
    applied: Plan | None = None  # the plan after ``prune``, when it was executed
    result: ApplyResult | None = None


class Reconciler:
    """Holds the connection, the store (None for a plan-only reader: `reconcile plan`), the commit to tag
    writes with and the parallelism. The server clock is made on first use and kept, so its rate estimate
    survives across a controller's cycles."""

    def __init__(
        self,
        connection: Connection,
        store: Store | None = None,
        *,
        commit: str | None = None,
        parallelism: int = 8,
    ) -> None:
        self.connection, self.store = connection, store
        self.commit, self.parallelism = commit, parallelism
        self._clock: ServerClock | None = None

    def observe(self, subscriptions: Sequence[str], *, desired=None):
        """One read of Azure over ``subscriptions``, plus the landing-zone resources ``desired`` points at
        (a saved plan passes no desired state: its references were checked when it was made)."""
        refs = reference_ids(desired) if desired is not None else ()
        skus = marketplace_skus(desired) if desired is not None else ()  # what build triggers compare with
        scope = ObserveScope.of(list(subscriptions), references=refs, marketplace=skus)
        return observe(scope, self.connection)

    def plan(self, desired, observed) -> Plan:
        return make_plan(desired, observed, observed.observed_at)

    @property
    def server_clock(self) -> ServerClock | None:
        """The clock, once an apply (or :meth:`clock`) has made it; None before."""
        return self._clock

    def clock(self, subscription: str) -> ServerClock:
        if self._clock is None:
            self._clock = ServerClock(self.connection, subscription)
        return self._clock

    def action_env(self, subscriptions: Sequence[str]) -> ActionEnv:
        if self.store is None:
            raise ValueError("applying needs a store: the operation ledger lives there")
        clock = self.clock(subscriptions[0])
        extra = {COMMIT_TAG: self.commit[:_COMMIT_TAG_LIMIT]} if self.commit else {}
        return ActionEnv(
            Writer(self.connection),
            Reader(self.connection),
            OperationLedger(self.store, clock=clock.now),
            clock.now,
            extra_tags=extra,
            subscriptions=tuple(subscriptions),
        )

    def apply(
        self,
        plan: Plan,
        subscriptions: Sequence[str],
        *,
        wait: timedelta | None = None,
        timeout: timedelta | None = None,
        on_event: Callable[[ExecEvent], None] | None = None,
        stop: threading.Event | None = None,
        stop_grace: float | None = None,
        abandon: threading.Event | None = None,
    ) -> ApplyResult:
        """Execute ``plan``'s actionable changes in server time; the caller records the history, since
        what it records (source, a budget's timed-out) is the caller's to say."""
        clock = self.clock(subscriptions[0])
        return apply_plan(
            plan,
            self.action_env(subscriptions),
            parallelism=self.parallelism,
            clock=clock.now,
            sleeper=clock.sleep,
            wait=wait,
            timeout=timeout,
            on_event=on_event,
            stop=stop,
            stop_grace=stop_grace,
            abandon=abandon,
        )

    def cycle(
        self,
        desired,
        *,
        prune: Callable[[Plan], Plan] | None = None,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        run_apply: Callable[[Plan, list[str]], ApplyResult] | None = None,
    ) -> CycleOutcome:
        """Observe, plan and (unless ``dry_run``, the plan has errors, nothing is left to do or ``stop`` was
        set while observing) apply.
        ``prune`` narrows the plan before applying (suspended pools); the full plan is returned.
        ``run_apply`` replaces :meth:`apply` for a caller that bounds it (the controller's real-time budget
        starts when applying starts, not when observing does)."""
        subs = subscriptions_of_desired(desired)
        observed = self.observe(subs, desired=desired)
        full = self.plan(desired, observed)
        if dry_run or full.has_errors or (stop is not None and stop.is_set()):
            return CycleOutcome(observed, full)
        todo = prune(full) if prune else full
        if not todo.actionable:
            return CycleOutcome(observed, full)
        result = run_apply(todo, subs) if run_apply else self.apply(todo, subs)
        return CycleOutcome(observed, full, todo, result)


__all__ = ["CycleOutcome", "Reconciler", "subscriptions_of_desired"]
