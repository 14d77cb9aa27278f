"""The closed set of ways an action can end.

Every action the engine runs returns exactly one of four frozen values (the idea of kopf's ``Outcome`` and
controller-runtime's four results: success, requeue-after, error with backoff, terminal error):

- :class:`Done` -- the action converged; ``changed`` says whether it wrote anything (Ansible's ``changed``).
- :class:`WaitUntil` -- the action started something long (a build, a replication) or must let time pass (a
  drain grace period). The executor calls it again at ``at`` and meanwhile runs independent work.
  **Waiting is not failing**: a wait never counts as an attempt and never turns into a failure by itself.
- :class:`Retry` -- a transient business-level problem (a parent not yet visible, a quota freed soon). The
  executor backs off and calls again, up to a bounded number of attempts, then gives up with :class:`Failed`.
  azure-core's pipeline retries short 429/5xx itself; a longer Retry-After (Compute's 1200 s) comes here as a
  Retry with a service reason (``throttled``…, :data:`SERVICE_WAIT_REASONS`), waited exactly and never counted.
- :class:`Failed` -- terminal for this run; needs a person or a new desired state. Only the action's
  dependents stop; independent branches go on.

Outcomes are data, not exceptions, so a table of cases can assert on them and a report can carry them.
Each carries a ``reason_code`` from one closed vocabulary (:class:`ReasonCode`, the subset its type allows),
so what reads an outcome (recap, controller, metrics) decides from the code, never from the prose beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeAlias


def _require_aware(at: datetime) -> None:
    # Naive datetimes compare wrongly against the aware UTC clock; refuse them at the boundary.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"WaitUntil needs a timezone-aware datetime, got naive {at.isoformat()}")


class ReasonCode(StrEnum):
    """Why an outcome is what it is, as a code: what reads an outcome (the recap, the controller, metrics)
    decides from this, never from the words of ``why``/``detail``. Grouped by the outcome that carries it."""

    # Done
    CONVERGED = "converged"
    ROLLBACK = "rollback"  # a pool back on its last good version after a quarantine (also while it rolls)
    # WaitUntil: a ring gate's soak, a gate waiting for its ring, a maintenance window, a version replicating
    # to a region, a drain grace period, hosts being created, registered or deleted, a long operation.
    SOAK = "soak"
    GATE = "gate"
    WINDOW = "window"
    REPLICATION = "replication"
    DRAIN = "drain"
    HOSTS = "hosts"
    OPERATION = "operation"
    WAITING = "waiting"  # a wait whose action named no reason
    # Retry
    TRANSIENT = "transient"
    # Retry the service asked for (engine/classify.py): honoured as given, never counted as a failed attempt
    THROTTLED = "throttled"  # 429, or a 5xx with Retry-After
    IN_PROGRESS = "in-progress"  # 409: another operation owns the resource
    NOT_YET_VISIBLE = "not-yet-visible"  # 404 GalleryImageNotFound right after replication (bounded)
    # Failed
    ERROR = "error"  # Azure refused or the resource is in a state apply cannot fix (error_code says which)
    HALTED = "halted"  # a rollout stopped by its failure budget: a person or a new pin is needed
    RETRIES_EXHAUSTED = "retries-exhausted"
    BAD_PLAN = "bad-plan"
    BAD_OUTCOME = "bad-outcome"
    EXCEPTION = "exception"


WAIT_REASONS = frozenset(
    {
        ReasonCode.SOAK,
        ReasonCode.GATE,
        ReasonCode.WINDOW,
        ReasonCode.REPLICATION,
        ReasonCode.DRAIN,
        ReasonCode.HOSTS,
        ReasonCode.OPERATION,
        ReasonCode.ROLLBACK,
    }
)
# A Retry with one of these is the service's wait, not our failure: the executor waits exactly `after` (however
# long), does not count it against the retry budget, and hands it back like a WaitUntil beyond the wait budget.
SERVICE_WAIT_REASONS = frozenset({ReasonCode.THROTTLED, ReasonCode.IN_PROGRESS, ReasonCode.NOT_YET_VISIBLE})
DONE_REASONS = frozenset({ReasonCode.CONVERGED, ReasonCode.ROLLBACK})
FAILED_REASONS = frozenset(
    {
        ReasonCode.ERROR,
        ReasonCode.HALTED,
        ReasonCode.RETRIES_EXHAUSTED,
        ReasonCode.BAD_PLAN,
        ReasonCode.BAD_OUTCOME,
        ReasonCode.EXCEPTION,
    }
)


def _require_code(code: str, allowed: frozenset[ReasonCode], what: str) -> None:
    if code not in allowed:
        raise ValueError(f"unknown {what} reason code {code!r}; one of {sorted(allowed)}")


@dataclass(frozen=True, slots=True)
class Done:
    """The action converged. ``changed`` is False when the resource already matched (an ``ok``)."""

    changed: bool = True
    detail: str = ""
    reason_code: str = ReasonCode.CONVERGED

    def __post_init__(self) -> None:
        _require_code(self.reason_code, DONE_REASONS, "Done")


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Call the action again at ``at``; ``why`` is shown to the user (e.g. "replicating to westeurope").

    ``reason`` is an optional code from a closed vocabulary (:data:`WAIT_REASONS`) so that what reads the
    wait (the pending section of a recap, the controller) decides from a code, never from ``why``'s words.
    """

    at: datetime
    why: str
    reason: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at)
        if self.reason is not None:
            _require_code(self.reason, WAIT_REASONS, "wait")

    @property
    def reason_code(self) -> str:
        return self.reason or ReasonCode.WAITING


@dataclass(frozen=True, slots=True)
class Retry:
    """A transient problem: call again no earlier than ``after``.

    ``attempt`` is the attempt that produced this outcome. Actions may leave it 0; the executor counts
    attempts itself and stamps the number into the outcome it records.
    """

    after: timedelta
    why: str
    attempt: int = 0
    reason_code: str = ReasonCode.TRANSIENT

    def __post_init__(self) -> None:
        if self.after < timedelta(0):
            raise ValueError(f"Retry.after must not be negative, got {self.after}")


@dataclass(frozen=True, slots=True)
class Failed:
    """Terminal for this run. ``reason_code`` is our own code (:class:`ReasonCode`: ``halted``, ``error``…);
    ``error_code`` is the finer one the source gave (an ARM error code, ``retries_exhausted``…)."""

    why: str
    error_code: str | None = None
    reason_code: str = ReasonCode.ERROR

    def __post_init__(self) -> None:
        _require_code(self.reason_code, FAILED_REASONS, "Failed")


Outcome: TypeAlias = Done | WaitUntil | Retry | Failed

OUTCOME_TYPES: tuple[type, ...] = (Done, WaitUntil, Retry, Failed)


def is_outcome(value: object) -> bool:
    """True for one of the four outcome values (the executor refuses anything else)."""
    return isinstance(value, OUTCOME_TYPES)


def is_terminal(outcome: Outcome) -> bool:
    """Done and Failed end a node's life in this run; WaitUntil and Retry ask to be called again."""
    return isinstance(outcome, Done | Failed)


def ok(detail: str = "") -> Done:
    """Nothing to do: the resource already matched."""
    return Done(changed=False, detail=detail)


def changed(detail: str = "") -> Done:
    """The action wrote and converged."""
    return Done(changed=True, detail=detail)


def wait_for(now: datetime, delay: timedelta, why: str) -> WaitUntil:
    """A WaitUntil ``delay`` after ``now`` -- for actions that think in durations (poll every 30 s)."""
    return WaitUntil(at=now + delay, why=why)


def retry_in(seconds: float, why: str) -> Retry:
    """A Retry whose minimum delay is given in seconds."""
    return Retry(after=timedelta(seconds=seconds), why=why)


def failed_from_exception(exc: BaseException) -> Failed:
    """An action that raised instead of returning an outcome.

    We do not guess that an unknown exception is transient: a retry of a bug is a bug repeated. The next
    reconcile cycle re-observes and tries again from scratch anyway (level-triggered).
    """
    message = str(exc) or type(exc).__name__
    return Failed(
        why=f"{type(exc).__name__}: {message}",
        error_code="unhandled_exception",
        reason_code=ReasonCode.EXCEPTION,
    )


def outcome_to_dict(outcome: Outcome) -> dict[str, Any]:
    """A JSON-able form for reports and the apply history."""
    if isinstance(outcome, Done):
        return {
            "outcome": "changed" if outcome.changed else "ok",
            "detail": outcome.detail,
            "reason_code": str(outcome.reason_code),
        }
    if isinstance(outcome, WaitUntil):
        return {
            "outcome": "wait_until",
            "at": outcome.at.astimezone(UTC).isoformat(),
            "why": outcome.why,
            "reason": outcome.reason,
            "reason_code": str(outcome.reason_code),
        }
    if isinstance(outcome, Retry):
        return {
            "outcome": "retry",
            "after_seconds": outcome.after.total_seconds(),
            "why": outcome.why,
            "attempt": outcome.attempt,
            "reason_code": str(outcome.reason_code),
        }
    if isinstance(outcome, Failed):
        return {
            "outcome": "failed",
            "why": outcome.why,
            "error_code": outcome.error_code,
            "reason_code": str(outcome.reason_code),
        }
    raise TypeError(f"not an outcome: {outcome!r}")
