"""The book one execution keeps on its nodes (calls, attempts, last outcome, timers, final results), and the
result every node ends the run with: final ones as recorded, parked ones waiting, the rest pending.

Touched only by the calling thread; worker threads just call actions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.engine.backoff import RetryPolicy
from reconciler.engine.graph import Graph
from reconciler.engine.outcome import Outcome
from reconciler.engine.report import EventKind, ExecEvent, NodeResult, NodeStatus
from reconciler.engine.run_context import EventSink, RunAction


class RunState:
    def __init__(self, graph: Graph, run_action: RunAction, clock, emit: EventSink, policy, min_requeue):
        self.graph = graph
        self.run_action = run_action
        self.clock = clock
        self.emit = emit
        self.policy: RetryPolicy = policy
        self.min_requeue: timedelta = min_requeue
        self.missing = {node_id: len(deps) for node_id, deps in graph.deps.items()}
        self.timers: list[tuple[datetime, str]] = []  # a heap of (due, node id)
        self.attempt = dict.fromkeys(graph.nodes, 1)
        self.calls = dict.fromkeys(graph.nodes, 0)
        self.last: dict[str, Outcome] = {}
        self.first_started: dict[str, datetime] = {}
        self.final: dict[str, NodeResult] = {}
        self.wait_budget: timedelta | None = None  # waits longer than this are handed back
        self.limit: datetime | None = None  # the hard deadline
        self.timed_out = False  # the hard deadline left scheduled work undone
        self.abandoned: set[str] = set()  # calls still running when stop_grace ran out
        self.in_progress_since: dict[str, datetime] = {}  # first of a node's unbroken in-progress answers

    def finish(self, node_id: str, status: NodeStatus, why: str, now: datetime) -> None:
        self.final[node_id] = self.result(node_id, status, why, finished_at=now)

    def result(self, node_id: str, status: NodeStatus, why: str, **extra) -> NodeResult:
        return NodeResult(
            id=node_id,
            kind=self.graph.nodes[node_id].kind,
            status=status,
            why=why,
            outcome=self.last.get(node_id),
            attempts=self.attempt[node_id] if self.calls[node_id] else 0,
            calls=self.calls[node_id],
            first_started_at=self.first_started.get(node_id),
            **extra,
        )

    def event(self, kind: EventKind, node_id: str, at: datetime, **fields) -> None:
        self.emit(
            ExecEvent(kind=kind, node_id=node_id, node_kind=self.graph.nodes[node_id].kind, at=at, **fields)
        )

    def results(self, stopped: bool) -> dict[str, NodeResult]:
        """Every node's result: final ones as recorded, parked ones waiting, the rest pending."""
        parked = {node_id: due for due, node_id in self.timers}
        out: dict[str, NodeResult] = {}
        for node_id in self.graph.nodes:
            if node_id in self.final:
                out[node_id] = self.final[node_id]
            elif node_id in self.abandoned:
                why = "still running when the apply stopped; the next apply checks it again"
                out[node_id] = self.result(node_id, NodeStatus.WAITING, why, abandoned=True)
            elif node_id in parked and self.calls[node_id]:
                why = getattr(self.last.get(node_id), "why", "")
                out[node_id] = self.result(node_id, NodeStatus.WAITING, why, resume_at=parked[node_id])
            elif node_id in parked:
                why = (
                    "ready, but the run was stopped first"
                    if stopped
                    else "ready, but the deadline came first"
                )
                out[node_id] = self.result(node_id, NodeStatus.PENDING, why)
            else:
                unfinished = tuple(
                    sorted(
                        d
                        for d in self.graph.deps[node_id]
                        if d not in self.final or self.final[d].status is NodeStatus.WAITING
                    )
                )
                out[node_id] = self.result(
                    node_id, NodeStatus.PENDING, "waiting for " + ", ".join(unfinished), blocked_by=unfinished
                )
        return out
