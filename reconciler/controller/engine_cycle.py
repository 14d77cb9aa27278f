"""The production cycle: a thin adapter over :class:`reconciler.engine.reconcile.Reconciler`, the object
`reconcile apply` uses too, so the controller and the CLI can never disagree on what is observed, planned or
what a change does. The adapter adds only:
- the commit tag (``avd-reconciler-commit``) on what it writes, and the commit in the store's history;
- a time budget (``timeout``, real time): waits longer than the budget (a ring soak, a window that opens
  tomorrow) are handed back at once, and the loop requeues at the earliest of them (``requeue_after``, bounded
  by its interval); shorter ones are waited for. A cycle the budget cuts short is recorded ``timed-out``; the
  next cycle resumes from what Azure shows (level-triggered);
- ``stop`` (SIGTERM, lost lease): the executor starts nothing new;
- dry run / suspend: observe and plan only, zero writes;
- numbers for the metrics: ARM requests by method and status, reads/writes, drift by kind, hosts by pool
  and version, quarantined versions, acceptance verdicts per version, remaining rollout batches.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

from reconciler.azure.connection import Connection, ConnectionSettings
from reconciler.azure.metering import CallMeter
from reconciler.controller.cycle import CycleInput, CycleResult
from reconciler.engine.apply import RunOutcome, record
from reconciler.engine.reconcile import Reconciler
from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, acceptance_of
from reconciler.model.plan import Action, Plan
from reconciler.model.rollout import POOL_QUARANTINE_TAG, parse_quarantine
from reconciler.planner.conditions import derive_conditions
from reconciler.planner.trigger_notes import planned_releases

_WRITES = ("PUT", "PATCH", "DELETE", "POST")


class MethodStatusMeter(CallMeter):
    """The connection's meter, also counting attempts by (HTTP method, status) for /metrics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_method_status: Counter[tuple[str, str]] = Counter()
        self._joint_lock = threading.Lock()

    def record(self, method: str, path: str, status: int, headers, seq: int | None = None) -> None:
        with self._joint_lock:
            self.by_method_status[(method.upper(), str(status))] += 1
        super().record(method, path, status, headers, seq)

    def take(self) -> Counter[tuple[str, str]]:
        with self._joint_lock:
            taken, self.by_method_status = self.by_method_status, Counter()
        return taken


class IdentifiedConnection(Connection):
    """A Connection whose clients put this replica's name first in the User-Agent (azure-core prepends the
    ``user_agent`` option), so the activity log (and the sandbox audit, which keeps 120 characters) shows
    which replica wrote."""

    def __init__(self, settings: ConnectionSettings, user_agent: str | None) -> None:
        super().__init__(settings)
        self.user_agent = user_agent

    def client_kwargs(self) -> dict[str, Any]:
        kwargs = super().client_kwargs()
        if self.user_agent:
            kwargs["user_agent"] = self.user_agent
        return kwargs


def without_suspended(plan: Plan, pool_ids: set[str]) -> Plan:
    """The plan minus changes to suspended host pools and everything that depends on them (transitively):
    a dependency missing from the graph would otherwise count as already satisfied."""
    if not pool_ids:
        return plan
    dropped = {c.key for c in plan.changes if c.kind == "host-pool" and c.resource_id.lower() in pool_ids}
    grew = True
    while grew:
        more = {c.key for c in plan.changes if c.key not in dropped and dropped.intersection(c.depends_on)}
        dropped |= more
        grew = bool(more)
    return replace(plan, changes=tuple(c for c in plan.changes if c.key not in dropped))


def _short(name: str | None) -> str:
    return (name or "unknown").rstrip("/").rsplit("/", 1)[-1]


def estate_numbers(desired, observed, plan: Plan) -> dict[str, Any]:
    pools = {p.arm_id.lower(): p.name for p in desired.host_pools}
    hosts: Counter[tuple[str, str]] = Counter()
    for host in observed.session_hosts.values():
        pool = pools.get(host.host_pool_id.lower(), _short(host.host_pool_id))
        hosts[(pool, _short(host.image_version_id))] += 1
    quarantined = sorted(
        q[0]
        for p in observed.host_pools.values()
        if (q := parse_quarantine((p.tags or {}).get(POOL_QUARANTINE_TAG)))
    )
    acceptance = {}
    for v in observed.image_versions.values():
        tags = dict(v.tags or {})
        if (verdict := acceptance_of(tags)) is not None:
            acceptance[v.id.lower()] = {
                "definition": _short(v.definition_id),
                "version": v.name,
                "state": verdict.state.value,
                "host": verdict.host,
                "reason": verdict.reason or "",
                "failure": tags.get(ACCEPTANCE_FAILURE_TAG, ""),
            }
    batches = {
        pools.get(c.resource_id.lower(), _short(c.resource_id)): int(c.details.get("batches", 0))
        for c in plan.changes
        if c.action == Action.ROLL
    }
    return {
        "hosts": dict(hosts),
        "quarantined": tuple(quarantined),
        "acceptance": acceptance,
        "rollout_batches": batches,
        "drift": dict(Counter(c.kind for c in plan.actionable)),
    }


class EngineCycle:
    """Holds one Connection (clients and tokens are reused across cycles) and one Reconciler (its server
    clock's rate estimate too) for the controller's life."""

    def __init__(
        self,
        store,
        *,
        arm_endpoint: str | None = None,
        ca_bundle: str | None = None,
        parallelism: int = 4,
        timeout: timedelta = timedelta(minutes=10),
        user_agent: str | None = None,
        connection: Connection | None = None,
    ) -> None:
        self.store, self.parallelism, self.timeout = store, parallelism, timeout
        self._settings = ConnectionSettings.from_env(arm_endpoint=arm_endpoint, ca_bundle=ca_bundle)
        self._conn = connection
        self.user_agent = user_agent
        self._reconciler: Reconciler | None = None

    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = IdentifiedConnection(self._settings, self.user_agent)
            self._conn.meter = MethodStatusMeter(self._settings.pacing)  # before any client is built
        return self._conn

    def reconciler(self) -> Reconciler:
        if self._reconciler is None or self._reconciler.connection is not self.connection():
            self._reconciler = Reconciler(self.connection(), self.store, parallelism=self.parallelism)
        return self._reconciler

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __call__(self, inp: CycleInput) -> CycleResult:
        conn = self.connection()
        meter = conn.meter if isinstance(conn.meter, MethodStatusMeter) else None
        if meter:
            meter.take()
        reconciler = self.reconciler()
        reconciler.commit = inp.commit
        suspended = {p.arm_id.lower() for p in inp.desired.host_pools if p.name in inp.suspended_pools}
        timed_out = threading.Event()
        outcome = reconciler.cycle(
            inp.desired,
            prune=lambda plan: without_suspended(plan, suspended),
            dry_run=inp.dry_run,
            stop=inp.stop,
            run_apply=lambda plan, subs: self._apply(plan, subs, inp.stop, timed_out),
        )
        observed, plan, result = outcome.observed, outcome.plan, outcome.result
        numbers = estate_numbers(inp.desired, observed, plan)
        report: dict[str, Any] = {"plan": plan.summary(), "observed_at": observed.observed_at.isoformat()}
        error = None
        if plan.has_errors:
            first = next(d for d in plan.diagnostics if d.severity.value == "error")
            error = f"plan has errors: {first.message}"
        executed: list[dict[str, Any]] = []
        actions: Counter[tuple[str, str]] = Counter()
        stopped = False
        requeue_after = None
        if result is not None:
            if timed_out.is_set():
                result = replace(result, outcome_override=RunOutcome.TIMED_OUT)  # the budget, not a signal
            todo = outcome.applied
            record(self.store, todo, result, source="reconcile run", commit=inp.commit)
            requeue_after = self._requeue_after(result)
            by_key = {c.key: c for c in todo.actionable}
            for r in result.report.results.values():
                actions[(r.kind, r.status.value)] += 1
                change = by_key.get(r.id)
                executed.append(
                    {
                        "kind": r.kind,
                        "resource": change.resource_id if change else r.id,
                        "action": change.action.value if change else "",
                        "outcome": r.status.value,
                        "why": r.why or None,
                        "reason_code": r.reason_code,
                    }
                )
            recap = result.recap()
            report["apply"] = recap
            stopped = inp.stop.is_set()  # the budget also stops a run; that is not "stopped"
            if recap["failures"] or recap["skipped"]:
                failures = recap["failures"] or recap.get("skipped") or [{}]
                error = f"{len(recap['failures'])} action(s) failed: {failures[0].get('why', '')}"[:400]
        joint = meter.take() if meter else Counter()
        halted = tuple(
            _short(e["resource"])
            for e in executed
            if e["outcome"] == "failed" and e.get("reason_code") == "halted"
        )
        pool_names = {p.arm_id.lower(): p.name for p in inp.desired.host_pools}
        conditions = derive_conditions(
            observed,
            plan,
            pool_names=pool_names,
            halted_pools=halted,
            previous=inp.previous_conditions,
            now=observed.observed_at,
        )
        # The plan evaluated the triggers once; what it noted is what git gets (no second evaluation).
        planned = planned_releases(plan, inp.desired)
        releases = planned.due if inp.release and not inp.dry_run else ()
        return CycleResult(
            ok=error is None,
            error=error,
            wrote=any(m in _WRITES for m, _ in joint),
            stopped=stopped,
            drift=numbers["drift"],
            actions=dict(actions),
            arm_requests=dict(joint),
            arm_reads=sum(n for (m, _), n in joint.items() if m == "GET"),
            arm_writes=sum(n for (m, _), n in joint.items() if m in _WRITES),
            throttled=sum(n for (_, s), n in joint.items() if s == "429"),
            hosts=numbers["hosts"],
            rollout_batches=numbers["rollout_batches"],
            quarantined=numbers["quarantined"],
            acceptance=numbers["acceptance"],
            halted_rollouts=halted,
            changes=tuple(executed),
            report=report,
            requeue_after=requeue_after,
            conditions=conditions,
            releases=releases,
            blocked_releases=planned.blocked,
        )

    def _apply(self, plan: Plan, subs: list[str], stop: threading.Event, timed_out: threading.Event):
        reconciler = self.reconciler()
        clock = reconciler.clock(subs[0])
        # The budget is real time, enforced here (a stop event the executor honours) rather than through the
        # server clock's rate estimate; ``stop`` (SIGTERM, lost lease) still ends the cycle at once.
        cycle_stop, done = threading.Event(), threading.Event()
        budget = self.timeout.total_seconds()
        threading.Thread(
            target=_relay, args=(stop, done, cycle_stop, budget), name="cycle-budget", daemon=True
        ).start()
        # Waits that resume within the budget (in server time) are waited for; longer ones are handed back.
        wait = timedelta(seconds=budget * clock.rate)
        try:
            return reconciler.apply(plan, subs, wait=wait, stop=cycle_stop)
        finally:
            done.set()
            if cycle_stop.is_set() and not stop.is_set():
                timed_out.set()

    def _requeue_after(self, result) -> float | None:
        """Real seconds until the earliest handed-back wait resumes (None when nothing was handed back)."""
        times = [r.resume_at for r in result.report.results.values() if r.handed_back and r.resume_at]
        clock = self._reconciler.server_clock if self._reconciler else None
        if not times or clock is None:
            return None
        ahead = (min(times) - clock.now()).total_seconds()
        return max(0.0, clock.real_seconds(ahead))


def _relay(stop: threading.Event, done: threading.Event, cycle_stop: threading.Event, budget: float) -> None:
    """Set ``cycle_stop`` when ``stop`` is set or ``budget`` seconds pass, whichever is first; end early on
    ``done``."""
    deadline = time.monotonic() + budget
    while not (stop.is_set() or done.is_set()) and time.monotonic() < deadline:
        stop.wait(min(0.2, max(0.0, deadline - time.monotonic())))
    if not done.is_set():
        cycle_stop.set()
