"""What an execution produced: one result per node, and the events emitted while it ran.

Every node ends a run in exactly one :class:`NodeStatus`:

- ``ok`` / ``changed`` -- the action returned Done (without / with a write);
- ``failed`` -- the action returned Failed, raised, or gave up after its retries;
- ``skipped`` -- a dependency failed (``why`` names it); the node was never called;
- ``waiting`` -- the node was called and asked to be called again (WaitUntil or Retry) later than the run
  waits (``handed_back``: beyond its wait budget) or after its deadline; ``resume_at`` says when. The next
  reconcile cycle picks it up. ``abandoned``: the call was still running when a stopped run gave up on it;
- ``pending`` -- the node was never called because a dependency is still waiting, or the deadline came
  before its turn. Also resumed next cycle.

Only ``failed`` is a failure. ``waiting`` and ``pending`` mean "not finished yet", never "broken".

The run as a whole ends in one :class:`RunOutcome` (the closed set the apply history records), decided in
this order: ``interrupted`` (stopped: SIGINT/SIGTERM), ``failed`` (a node failed or was skipped),
``timed-out`` (the hard deadline left scheduled work undone), ``pending`` (waits handed back), ``succeeded``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from reconciler.engine.outcome import Outcome, outcome_to_dict


class NodeStatus(StrEnum):
    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"
    PENDING = "pending"


UNFINISHED = frozenset({NodeStatus.WAITING, NodeStatus.PENDING})

# The reason codes of nodes that have no outcome of their own (never called).
DEPENDENCY_FAILED = "dependency-failed"
AFTER_DEPENDENCY = "after-dependency"
NOT_STARTED = "not-started"  # the run's deadline or stop came before the node's turn


class RunOutcome(StrEnum):
    """How a whole run ended (see the module docstring for the order). Only the first two are a success."""

    SUCCEEDED = "succeeded"  # everything done
    PENDING = "pending"  # everything ready was done; waits longer than the run waits were handed back
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    INTERRUPTED = "interrupted"

    @property
    def ok(self) -> bool:
        return self in (RunOutcome.SUCCEEDED, RunOutcome.PENDING)


@dataclass(frozen=True, slots=True)
class NodeResult:
    """The final state of one node in one run.

    ``attempts`` is the retry attempt number the node reached; ``calls`` counts every call of the action,
    including the re-calls after a WaitUntil.
    """

    id: str
    kind: str
    status: NodeStatus
    why: str = ""
    outcome: Outcome | None = None
    attempts: int = 0
    calls: int = 0
    first_started_at: datetime | None = None
    finished_at: datetime | None = None
    resume_at: datetime | None = None
    handed_back: bool = False  # a wait beyond the run's wait budget, handed to the next apply
    abandoned: bool = False  # still running when a stopped run stopped waiting for it
    blocked_by: tuple[str, ...] = ()  # pending: the unfinished dependencies it waits for

    @property
    def reason_code(self) -> str:
        """Why the node ended as it did, as a code (:class:`~reconciler.engine.outcome.ReasonCode`): its
        outcome's code, or for a node never called, why not (a dependency failed, or is still unfinished)."""
        if self.status is NodeStatus.SKIPPED:
            return DEPENDENCY_FAILED
        if self.status is NodeStatus.PENDING or self.outcome is None:
            return AFTER_DEPENDENCY if self.blocked_by else NOT_STARTED
        return str(self.outcome.reason_code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "why": self.why,
            "reason_code": self.reason_code,
            "outcome": outcome_to_dict(self.outcome) if self.outcome is not None else None,
            "attempts": self.attempts,
            "calls": self.calls,
            "first_started_at": _iso(self.first_started_at),
            "finished_at": _iso(self.finished_at),
            "resume_at": _iso(self.resume_at),
            "handed_back": self.handed_back,
            "abandoned": self.abandoned,
        }


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """All node results (keyed and ordered by node id) plus the run's own timing."""

    results: Mapping[str, NodeResult]
    started_at: datetime
    finished_at: datetime
    deadline: datetime | None = None
    stopped: bool = False  # the run's stop event was set (SIGTERM, lost lease) before it finished
    timed_out: bool = False  # the hard deadline came with work still scheduled before it
    wait_budget: timedelta | None = None  # longer waits were handed back (None: waited for all)
    abandoned: tuple[str, ...] = ()  # node ids whose calls were still running when the run gave up on them

    def with_status(self, *statuses: NodeStatus) -> list[NodeResult]:
        return [r for r in self.results.values() if r.status in statuses]

    @property
    def failed(self) -> list[NodeResult]:
        return self.with_status(NodeStatus.FAILED)

    @property
    def unfinished(self) -> list[NodeResult]:
        """Waiting and pending nodes: the work the next cycle resumes."""
        return [r for r in self.results.values() if r.status in UNFINISHED]

    @property
    def complete(self) -> bool:
        """True when nothing is left for a later cycle (failures included: they are final for this run)."""
        return not self.unfinished

    @property
    def succeeded(self) -> bool:
        """True when no node failed or was skipped because of a failure."""
        return not self.with_status(NodeStatus.FAILED, NodeStatus.SKIPPED)

    @property
    def outcome(self) -> RunOutcome:
        if self.stopped:
            return RunOutcome.INTERRUPTED
        if not self.succeeded:
            return RunOutcome.FAILED
        if self.timed_out:
            return RunOutcome.TIMED_OUT
        if not self.complete:
            return RunOutcome.PENDING
        return RunOutcome.SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "deadline": _iso(self.deadline),
            "wait_budget_seconds": self.wait_budget.total_seconds() if self.wait_budget is not None else None,
            "stopped": self.stopped,
            "timed_out": self.timed_out,
            "outcome": self.outcome.value,
            "complete": self.complete,
            "succeeded": self.succeeded,
            "results": [r.to_dict() for r in self.results.values()],
        }


class EventKind(StrEnum):
    STARTED = "started"
    DONE = "done"
    WAITING = "waiting"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"
    HANDED_BACK = "handed-back"  # a wait beyond the run's wait budget: the node ends waiting


@dataclass(frozen=True, slots=True)
class ExecEvent:
    """A progress event, emitted on the executor's own thread (never concurrently).

    ``at`` is the clock's time; for WAITING and RETRYING, ``resume_at`` is when the node runs again.
    """

    kind: EventKind
    node_id: str
    node_kind: str
    at: datetime
    why: str = ""
    outcome: Outcome | None = None
    attempt: int = 0
    resume_at: datetime | None = None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
