"""Gathering the estate view-model: observe Azure (or the sandbox), plan, derive conditions, then hand it all
to the pure view-model (reconciler.render.estate_view). `reconcile status`, `reconcile ui` and the
controller's dashboard gather through here, so they show the same data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from reconciler.engine.reconcile import Reconciler, subscriptions_of_desired
from reconciler.engine.rollout_status import pool_status
from reconciler.model.observed import norm_id
from reconciler.planner.conditions import derive_conditions
from reconciler.planner.pool_target import PoolTarget
from reconciler.planner.version_build import failed_builds
from reconciler.render.estate_view import capacity_sample, controller_summary, estate_view
from reconciler.spec.suggest import did_you_mean


def pool_targets(desired, names: list[str] | None, source: str = "the desired state") -> list[PoolTarget]:
    pools = desired.host_pools
    if names:
        known = [p.name for p in pools]
        missing = [n for n in names if n not in known]
        if missing:
            hint = did_you_mean(missing[0], known)
            raise LookupError(f"no HostPool named {missing[0]!r} in {source}{hint}")
        pools = tuple(p for p in pools if p.name in names)
    return [PoolTarget.of(desired, p) for p in pools]


def gather_view(
    desired,
    conn,
    targets: list[PoolTarget],
    *,
    only_pools: set[str] | None = None,
    controller: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Fresh conditions (no previous set is kept here: a transition time is this observation's)."""
    names = {norm_id(p.arm_id): p.name for p in desired.host_pools}
    report = []
    for t in targets:
        status = pool_status(t, conn)
        status["gate_after"] = names.get(norm_id(t.gate_pool_id)) if t.gate_pool_id else None
        report.append(status)
    reconciler = Reconciler(conn)
    observed = reconciler.observe(subscriptions_of_desired(desired), desired=desired)
    plan = reconciler.plan(desired, observed)
    pools = {
        p.arm_id.lower(): p.name for p in desired.host_pools if only_pools is None or p.name in only_pools
    }
    conditions = derive_conditions(observed, plan, pool_names=pools, now=observed.observed_at)
    if history is not None:
        capacity_sample(history, report)
    return estate_view(
        pools=report,
        conditions=conditions,
        observed=observed,
        rollouts=plan.rollouts,
        failed_builds=[] if only_pools else failed_builds(desired, observed),
        controller=controller,
        capacity_history=history or (),
    )


class ViewSource:
    """The last gathered view, refreshed at most every `interval` seconds, and only while someone looks
    (a request older than the interval triggers one refresh; concurrent requests share it). A failed
    refresh keeps the previous view and records the error, so a page shows why it is stale."""

    def __init__(self, gather: Callable[[list], dict[str, Any]], interval: float = 5.0) -> None:
        self._gather, self.interval = gather, interval
        self._lock = threading.Lock()
        self._view: dict[str, Any] | None = None
        self._at = float("-inf")
        self._history: list[dict[str, Any]] = []
        self.error: str | None = None

    def refresh(self) -> dict[str, Any]:
        with self._lock:
            self._at = time.monotonic()
            try:
                self._view = self._gather(self._history)
                self.error = None
            except Exception as exc:  # Azure unreachable for a moment: keep showing the last view
                self.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            return self.current()

    def current(self) -> dict[str, Any]:
        view = dict(self._view or {"pools": [], "estate": [], "builds": [], "pending": [], "rings": []})
        view["error"] = self.error
        return view

    def __call__(self) -> dict[str, Any]:
        if time.monotonic() - self._at >= self.interval:
            return self.refresh()
        return self.current()


def connection(arm_endpoint: str | None = None, ca_bundle: str | None = None, user_agent: str | None = None):
    from reconciler.azure.connection import Connection, ConnectionSettings

    settings = ConnectionSettings.from_env(arm_endpoint=arm_endpoint, ca_bundle=ca_bundle)
    if user_agent:
        from reconciler.controller.engine_cycle import IdentifiedConnection

        return IdentifiedConnection(settings, user_agent)
    return Connection(settings)


def controller_view(controller, *, arm_endpoint=None, ca_bundle=None, user_agent=None, interval=15.0):
    """The dashboard of `reconcile run`: the estate as the controller's last good desired state declares it,
    observed when someone looks (at most every `interval` s), with the controller's own record."""

    def gather(history: list) -> dict[str, Any]:
        good = getattr(controller, "_good", None)  # the desired state the loop last accepted
        status = controller.status()
        if good is None:
            return estate_view(pools=[], conditions=(), controller=status)
        desired = good.desired
        with connection(arm_endpoint, ca_bundle, user_agent) as conn:
            return gather_view(desired, conn, pool_targets(desired, None), controller=status, history=history)

    source = ViewSource(gather, interval=interval)

    def view() -> dict[str, Any]:
        out = source()
        out["controller"] = controller_summary(controller.status())  # fresh: it changes every cycle
        return out

    return view
