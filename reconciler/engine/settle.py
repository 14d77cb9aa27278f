"""How an action's outcome moves its node: Done releases the dependents, WaitUntil parks the node on a timer
(or hands it back when it resumes beyond the run's wait budget), Retry backs off (a service wait is waited
exactly, uncounted), Failed ends the node and skips everything downstream of it."""

from __future__ import annotations

import heapq
from dataclasses import replace
from datetime import datetime

from reconciler.engine.outcome import (
    SERVICE_WAIT_REASONS,
    Done,
    Failed,
    Outcome,
    ReasonCode,
    Retry,
    WaitUntil,
)
from reconciler.engine.report import EventKind, NodeStatus
from reconciler.engine.run_state import RunState


def settle(run: RunState, node_id: str, outcome: Outcome) -> None:
    now = run.clock()
    attempt = run.attempt[node_id]
    if getattr(outcome, "reason_code", None) != ReasonCode.IN_PROGRESS:
        run.in_progress_since.pop(node_id, None)
    if isinstance(outcome, Retry) and outcome.reason_code in SERVICE_WAIT_REASONS:
        return _service_wait(run, node_id, replace(outcome, attempt=attempt), now)
    if isinstance(outcome, Retry):
        outcome = replace(outcome, attempt=attempt)
        if run.policy.exhausted(attempt):
            why = f"gave up after {attempt} attempts: {outcome.why}"
            run.last[node_id] = outcome
            return _fail(run, node_id, Failed(why, "retries_exhausted", ReasonCode.RETRIES_EXHAUSTED), now)
        resume = now + run.policy.delay_after(attempt, outcome.after)
        run.attempt[node_id] = attempt + 1
        return _park(run, node_id, outcome, resume, EventKind.RETRYING, now)
    run.last[node_id] = outcome
    if isinstance(outcome, WaitUntil):
        # A wait is progress (a rollout cycle done, an operation started): the retry budget is for failures in
        # a row, so a long rollout meeting scattered transient faults is not given up on after five of them.
        run.attempt[node_id] = 1
        resume = max(outcome.at, now + run.min_requeue)
        if _beyond_budget(run, resume, now):
            return _hand_back(run, node_id, outcome, resume, now)
        return _park(run, node_id, outcome, resume, EventKind.WAITING, now)
    if isinstance(outcome, Failed):
        return _fail(run, node_id, outcome, now)
    assert isinstance(outcome, Done)
    status = NodeStatus.CHANGED if outcome.changed else NodeStatus.OK
    run.finish(node_id, status, outcome.detail, now)
    run.event(EventKind.DONE, node_id, now, why=outcome.detail, outcome=outcome, attempt=attempt)
    for dependent in run.graph.dependents[node_id]:
        run.missing[dependent] -= 1
        if run.missing[dependent] == 0 and dependent not in run.final:
            heapq.heappush(run.timers, (now, dependent))


def _service_wait(run: RunState, node_id: str, outcome: Retry, now: datetime) -> None:
    """A throttle or another operation's turn: the service said when, so wait exactly that (no backoff
    cap), count no attempt, and hand it back like any wait longer than the run waits. Another operation
    that never seems to end (past the policy's max_in_progress) fails the node instead."""
    run.last[node_id] = outcome
    if outcome.reason_code == ReasonCode.IN_PROGRESS:
        since = run.in_progress_since.setdefault(node_id, now)
        if run.policy.in_progress_too_long(since, now):
            why = f"still refused as in progress after {now - since}: {outcome.why}"
            return _fail(run, node_id, Failed(why, "in_progress_too_long", ReasonCode.RETRIES_EXHAUSTED), now)
    resume = now + max(outcome.after, run.min_requeue)
    if _beyond_budget(run, resume, now):
        return _hand_back(run, node_id, outcome, resume, now)
    return _park(run, node_id, outcome, resume, EventKind.RETRYING, now)


def _park(
    run: RunState, node_id: str, outcome: Outcome, resume: datetime, kind: EventKind, now: datetime
) -> None:
    run.last[node_id] = outcome
    heapq.heappush(run.timers, (resume, node_id))
    run.event(
        kind, node_id, now, why=outcome.why, outcome=outcome, attempt=run.attempt[node_id], resume_at=resume
    )


def _beyond_budget(run: RunState, resume: datetime, now: datetime) -> bool:
    return (run.wait_budget is not None and resume > now + max(run.wait_budget, run.min_requeue)) or (
        run.limit is not None and resume >= run.limit
    )


def _hand_back(
    run: RunState, node_id: str, outcome: WaitUntil | Retry, resume: datetime, now: datetime
) -> None:
    """A wait longer than the run will wait: the node ends waiting (its dependents stay pending)."""
    run.final[node_id] = run.result(
        node_id, NodeStatus.WAITING, outcome.why, finished_at=now, resume_at=resume, handed_back=True
    )
    run.event(
        EventKind.HANDED_BACK,
        node_id,
        now,
        why=outcome.why,
        outcome=outcome,
        attempt=run.attempt[node_id],
        resume_at=resume,
    )


def _fail(run: RunState, node_id: str, outcome: Failed, now: datetime) -> None:
    run.last[node_id] = outcome
    run.finish(node_id, NodeStatus.FAILED, outcome.why, now)
    run.event(EventKind.FAILED, node_id, now, why=outcome.why, outcome=outcome, attempt=run.attempt[node_id])
    _skip_dependents(run, node_id, outcome.why, now)


def _skip_dependents(run: RunState, failed_id: str, why: str, now: datetime) -> None:
    """Skip everything downstream of ``failed_id`` (breadth first, sorted) that has not ended yet.

    Such nodes cannot have been called: each waits on a chain of dependencies through ``failed_id``.
    """
    frontier = [(dep, failed_id) for dep in run.graph.dependents[failed_id]]
    while frontier:
        node_id, via = frontier.pop(0)
        if node_id in run.final:
            continue
        reason = f"dependency {failed_id} failed: {why}"
        if via != failed_id:
            reason = f"dependency {failed_id} failed (via {via}): {why}"
        run.finish(node_id, NodeStatus.SKIPPED, reason, now)
        run.event(EventKind.SKIPPED, node_id, now, why=reason)
        frontier.extend((dep, node_id) for dep in run.graph.dependents[node_id])
