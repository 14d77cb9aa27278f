"""Apply a plan: run its actionable changes as a dependency graph, then record what happened.

`apply_plan` is what `reconciler.engine.reconcile.Reconciler.apply` runs, for `reconcile apply` and the
controller, once they hold the store's lock and have a fresh (or checked, see stale.py) plan. No-op changes
are explanations, not work, so they are not executed; a dependency on a change that is not in the graph is
already satisfied in Azure. Time is the server's:
`clock`/`sleeper` come from `reconciler.azure.clock.ServerClock` (or a fake in tests), so WaitUntil
times, deadlines and the history are all in the server's (the sandbox's simulated) time.

Two limits, both server time (see executor.py):
- ``wait`` -- the wait budget: work that resumes within it is waited for; a longer wait (a 72 h ring soak,
  a window that opens tomorrow) is handed back at once and the run ends ``pending``. None waits for all.
- ``timeout`` -- the hard deadline: nothing starts after it; work it cut short ends the run ``timed-out``.

Every run ends in one :class:`~reconciler.engine.report.RunOutcome`; :func:`record` writes it, with its
counts, to the store's history, whatever it is (interrupted, timed-out and failed runs included).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.engine.actions import ActionEnv, dispatch, load_builtin
from reconciler.engine.executor import RunContext, execute
from reconciler.engine.graph import NodeView
from reconciler.engine.recap import build_recap
from reconciler.engine.report import EventKind, ExecEvent, ExecutionReport, RunOutcome
from reconciler.model.plan import Plan
from reconciler.store import Store

HISTORY_OUTCOMES = tuple(o.value for o in RunOutcome)  # the closed set a history entry's `outcome` takes


@dataclass(frozen=True)
class ApplyResult:
    report: ExecutionReport
    replication: dict[str, dict[str, str]] = field(default_factory=dict)  # version id -> region -> state
    writes: int = 0
    wrote: frozenset[str] = frozenset()  # change keys that wrote in this run (whatever their status)
    hosts: dict[str, dict[str, int]] = field(default_factory=dict)  # pool -> host work (recap "hosts")
    acceptance: list[dict[str, Any]] = field(default_factory=list)  # what acceptance tests did, in order
    outcome_override: RunOutcome | None = None  # e.g. the controller's real-time budget: timed-out

    @property
    def outcome(self) -> RunOutcome:
        return self.outcome_override or self.report.outcome

    def recap(self) -> dict[str, Any]:
        data = build_recap(self.report, wrote=self.wrote, hosts=self.hosts).to_dict()
        if self.outcome_override is not None:
            data["outcome"], data["succeeded"] = self.outcome.value, self.outcome.ok
        data["replication"] = self.replication
        data["acceptance"] = list(self.acceptance)
        return data


def nodes_of(plan: Plan) -> list[NodeView]:
    changes = plan.actionable
    keys = {c.key for c in changes}
    return [
        NodeView(id=c.key, kind=c.kind, depends_on=frozenset(d for d in c.depends_on if d in keys), payload=c)
        for c in changes
    ]


def apply_plan(
    plan: Plan,
    env: ActionEnv,
    *,
    parallelism: int = 8,
    clock: Callable[[], datetime],
    sleeper: Callable[[float], object],
    wait: timedelta | None = None,
    timeout: timedelta | None = None,
    on_event: Callable[[ExecEvent], None] | None = None,
    stop: threading.Event | None = None,
    stop_grace: float | None = None,
    abandon: threading.Event | None = None,
) -> ApplyResult:
    load_builtin()  # import every action module before threads start

    def run(node: NodeView, ctx: RunContext):
        return dispatch(node.payload, env, ctx)

    report = execute(
        nodes_of(plan),
        run,
        parallelism=parallelism,
        clock=clock,
        sleeper=sleeper,
        on_event=on_event,
        max_wait=timeout,
        wait_budget=wait,
        min_requeue=timedelta(seconds=1),
        stop=stop,
        stop_grace=stop_grace,
        abandon=abandon,
    )
    replication = {k: dict(v) for k, v in sorted(env.replication.items())}
    wrote, hosts = _run_memory(plan, env)
    return ApplyResult(report, replication, wrote=wrote, hosts=hosts, acceptance=_acceptance(plan, env))


def _acceptance(plan: Plan, env: ActionEnv) -> list[dict[str, Any]]:
    """Every acceptance test event of the run, per pool, in the order they happened (skips left out)."""
    events = []
    for change in plan.actionable:
        mem = env.memory(change.key)
        pool = mem.get("pool") or change.name
        for e in mem.get("tests") or ():
            if e.what == "skipped":
                continue
            events.append(
                {
                    "pool": pool,
                    "test": e.test,
                    "what": e.what,
                    "host": e.host,
                    "exit_code": e.exit_code,
                    "excerpt": e.excerpt,
                }
            )
    return events


def _run_memory(plan: Plan, env: ActionEnv) -> tuple[frozenset[str], dict[str, dict[str, int]]]:
    """What the actions noted in their run memory: which changes wrote, and each pool's host work."""
    wrote, hosts = set(), {}
    for change in plan.actionable:
        mem = env.memory(change.key)
        if mem.get("wrote"):
            wrote.add(change.key)
        work = mem.get("hosts")
        if work is not None:
            pool = mem.get("pool") or change.name
            merged = hosts.setdefault(pool, dict.fromkeys(work.to_dict(), 0))
            for column, value in work.to_dict().items():
                merged[column] += value
    return frozenset(wrote), hosts


def history_record(
    plan: Plan | None,
    result: ApplyResult | None,
    *,
    source: str,
    commit: str | None,
    outcome: RunOutcome | None = None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The line `reconcile apply` appends to the store's history (times are server times).

    ``outcome`` is the true end of the apply (one of HISTORY_OUTCOMES); without a result (an apply
    interrupted before it executed anything) the record says so with zero counts. ``succeeded`` is true
    exactly when the outcome is ``succeeded`` or ``pending`` (the apply's exit status was 0).
    """
    if result is None:
        if outcome is None or finished_at is None:
            raise ValueError("a history record without a result needs its outcome and finished_at")
        when = finished_at.isoformat()
        return {
            "kind": "apply",
            "recorded_at": when,
            "started_at": (started_at or finished_at).isoformat(),
            "finished_at": when,
            "plan_generated_at": plan.generated_at if plan else None,
            "source": source,
            "commit": commit,
            "outcome": outcome.value,
            "succeeded": outcome.ok,
            "complete": False,
            "changes": len(plan.actionable) if plan else 0,
            "totals": {},
            "hosts": {},
            "hosts_by_pool": {},
            "pending": [],
            "failures": [],
            "results": [],
            **({"note": note} if note else {}),
        }
    recap = result.recap()
    final = outcome or result.outcome
    return {
        "kind": "apply",
        "recorded_at": result.report.finished_at.isoformat(),
        "started_at": result.report.started_at.isoformat(),
        "finished_at": result.report.finished_at.isoformat(),
        "plan_generated_at": plan.generated_at if plan else None,
        "source": source,
        "commit": commit,
        "outcome": final.value,
        "succeeded": final.ok,
        "complete": recap["complete"],
        "changes": len(plan.actionable) if plan else len(result.report.results),
        "totals": recap["totals"],
        "hosts": recap["hosts"]["totals"],
        "hosts_by_pool": recap["hosts"]["pools"],
        **({"acceptance": recap["acceptance"]} if recap.get("acceptance") else {}),
        "pending": [
            {k: p[k] for k in ("change", "resource", "resumes_at", "reason_code")} for p in recap["pending"]
        ],
        "failures": recap["failures"],
        "results": [
            {"id": r.id, "kind": r.kind, "status": r.status.value, "why": r.why}
            for r in result.report.results.values()
        ],
        **({"note": note} if note else {}),
    }


def record(
    store: Store,
    plan: Plan | None,
    result: ApplyResult | None,
    *,
    source: str,
    commit: str | None,
    **extra: Any,
) -> dict[str, Any]:
    entry = history_record(plan, result, source=source, commit=commit, **extra)
    store.append_history(entry)
    return entry


__all__ = [
    "HISTORY_OUTCOMES",
    "ApplyResult",
    "EventKind",
    "RunOutcome",
    "apply_plan",
    "history_record",
    "nodes_of",
    "record",
]
