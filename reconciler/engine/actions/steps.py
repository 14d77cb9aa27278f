"""One long-running step of an action: start it once, record its token, check it on later calls.

`lro_step` answers a WaitUntil while the operation runs and its final LroStatus once it ended. An operation
found in the ledger that this run did not start (a previous run crashed or timed out) is waited for first,
then ours is sent: never two writes in flight on one resource. One past its deadline (operations.py) is
not waited on forever: it is forgotten and ours is sent again. A successful step is remembered for the run, so
a multi-step action (delete then create) does not repeat it; a failed one is forgotten so a Retry resends it.
Every failure, HTTP or LRO, becomes an outcome through `engine/classify.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reconciler.azure.writes import error_info
from reconciler.azure.writes_lro import LroState
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.classify import Classification, Verdict, classify
from reconciler.engine.operations import overdue
from reconciler.engine.outcome import Done, Failed, Outcome, ReasonCode, Retry, WaitUntil

# The outcome each verdict becomes: the service's waits carry their own reason code (see outcome.py).
_RETRY_REASON = {
    Verdict.THROTTLED: ReasonCode.THROTTLED,
    Verdict.IN_PROGRESS: ReasonCode.IN_PROGRESS,
    Verdict.NOT_YET_VISIBLE: ReasonCode.NOT_YET_VISIBLE,
    Verdict.TRANSIENT: ReasonCode.TRANSIENT,
}


def lro_step(
    env: ActionEnv,
    key: str,
    operation: str,
    resource_id: str,
    body: dict[str, Any] | None = None,
    why: str = "",
):
    """WaitUntil while running, else the operation's LroStatus (state Succeeded or Failed)."""
    mem = env.memory(key)
    tag = f"{operation}:{resource_id.lower()}"
    if tag in mem["done"]:
        return mem["done"][tag]
    pending = env.ledger.lookup(resource_id, operation)
    if pending is not None:
        status = env.writer.check(operation, resource_id, pending.token, body)
        if not status.done and not overdue(pending, env.clock()):
            return env.wait(pending.started_at, why or f"{operation} in progress", status.retry_after)
        env.ledger.forget(resource_id, operation)  # done, or past its deadline: ours is sent (again) below
        if status.done and tag in mem["started"]:
            return _finish(mem, tag, status)
    token, status = env.writer.start(operation, resource_id, body)
    mem["started"].add(tag)
    mem["wrote"] = True
    if token is None:
        return _finish(mem, tag, status)
    started = env.ledger.record(resource_id, operation, token, detail={"why": why})
    return env.wait(started.started_at, why or f"{operation} in progress", status.retry_after)


def _finish(mem: dict, tag: str, status):
    mem["started"].discard(tag)
    if status.state is LroState.SUCCEEDED:
        mem["done"][tag] = status
    return status


def is_wait(value: object) -> bool:
    return isinstance(value, WaitUntil)


def unsettled(what: str, status) -> Outcome | None:
    """What to answer for a step that has not succeeded (still running, or failed); None once it succeeded."""
    if is_wait(status):
        return status
    if status.state is not LroState.SUCCEEDED:
        return outcome_of_failure(what, status.error_code, status.message)
    return None


def settled(what: str, status, done: str) -> Outcome:
    """The action's outcome after its last step: waiting or failed as `unsettled` says, else Done(True, done)."""
    pending = unsettled(what, status)
    return pending if pending is not None else Done(True, done)


def outcome_of(why: str, code: str | None, verdict: Classification) -> Outcome:
    """A classification as the action's outcome: Failed when terminal, else a Retry with its reason code."""
    if verdict.terminal:
        return Failed(why, error_code=code)
    return Retry(after=verdict.after, why=why, reason_code=_RETRY_REASON[verdict.verdict])


def outcome_of_failure(what: str, code: str | None, message: str) -> Outcome:
    """A long-running operation that ended Failed (its status body has a code, no HTTP status)."""
    why = f"{what}: {code}: {message}" if code else f"{what}: {message}"
    return outcome_of(why, code, classify(None, code, message))


def http_failure(what: str, exc: Exception, failing_for: timedelta | None = None) -> Outcome:
    """An HttpResponseError from a write (after azure-core's own retries) as an outcome: by its status first,
    then its code, waiting the Retry-After the service sent."""
    err = error_info(exc)
    verdict = classify(err.status, err.code, err.message, err.retry_after, failing_for)
    return outcome_of(f"{what}: {err.code}: {err.message}", err.code, verdict)
