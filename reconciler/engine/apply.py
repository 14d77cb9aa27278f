"""Apply a plan: run its actionable changes as a dependency graph, then record what happened.

`apply_plan` is what `reconcile apply` and the controller call once they hold the store's lock and have a
fresh (or checked, see stale.py) plan. No-op changes are explanations, not work, so they are not executed;
a dependency on a change that is not in the graph is already satisfied in Azure. Time is the server's:
`clock`/`sleeper` come from `reconciler.azure.writes_clock.ServerClock` (or a fake in tests), so WaitUntil
times, deadlines and the history are all in the server's (the sandbox's simulated) time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.engine.actions import ActionEnv, dispatch, load_builtin
from reconciler.engine.executor import RunContext, execute
from reconciler.engine.graph import NodeView
from reconciler.engine.recap import build_recap
from reconciler.engine.report import EventKind, ExecEvent, ExecutionReport
from reconciler.model.plan import Plan
from reconciler.store import Store


@dataclass(frozen=True)
class ApplyResult:
    report: ExecutionReport
    replication: dict[str, dict[str, str]] = field(default_factory=dict)  # version id -> region -> state
    writes: int = 0

    def recap(self) -> dict[str, Any]:
        data = build_recap(self.report).to_dict()
        data["replication"] = self.replication
        return data


def nodes_of(plan: Plan) -> list[NodeView]:
    changes = plan.actionable
    keys = {c.key for c in changes}
    return [NodeView(id=c.key, kind=c.kind, depends_on=frozenset(d for d in c.depends_on if d in keys),
                     payload=c) for c in changes]  # fmt: skip


def apply_plan(
    plan: Plan,
    env: ActionEnv,
    *,
    parallelism: int = 8,
    clock: Callable[[], datetime],
    sleeper: Callable[[float], object],
    timeout: timedelta | None = None,
    on_event: Callable[[ExecEvent], None] | None = None,
    stop=None,
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
        min_requeue=timedelta(seconds=1),
        stop=stop,
    )
    replication = {k: dict(v) for k, v in sorted(env.replication.items())}
    return ApplyResult(report, replication)


def history_record(plan: Plan, result: ApplyResult, *, source: str, commit: str | None) -> dict[str, Any]:
    """The line `reconcile apply` appends to the store's history (times are server times)."""
    recap = result.recap()
    return {
        "kind": "apply",
        "recorded_at": result.report.finished_at.isoformat(),
        "started_at": result.report.started_at.isoformat(),
        "finished_at": result.report.finished_at.isoformat(),
        "plan_generated_at": plan.generated_at,
        "source": source,
        "commit": commit,
        "changes": len(plan.actionable),
        "totals": recap["totals"],
        "complete": recap["complete"],
        "succeeded": recap["succeeded"],
        "failures": recap["failures"],
        "results": [
            {"id": r.id, "kind": r.kind, "status": r.status.value, "why": r.why}
            for r in result.report.results.values()
        ],
    }


def record(store: Store, plan: Plan, result: ApplyResult, *, source: str, commit: str | None) -> None:
    store.append_history(history_record(plan, result, source=source, commit=commit))


__all__ = ["ApplyResult", "EventKind", "apply_plan", "history_record", "nodes_of", "record"]
