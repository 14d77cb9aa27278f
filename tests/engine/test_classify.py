"""One classification of Azure's refusals: status first, then code; the service's waits are honoured exactly
and never count as failed attempts, in the executor as in the table."""

from datetime import timedelta

import pytest

from reconciler.engine import NodeStatus, execute
from reconciler.engine.actions.steps import outcome_of, outcome_of_failure
from reconciler.engine.backoff import RetryPolicy
from reconciler.engine.classify import NOT_FOUND_LAG, Classification, Verdict, classify
from reconciler.engine.outcome import Failed, ReasonCode, Retry, WaitUntil, changed
from reconciler.engine.report import RunOutcome

from .conftest import T0, Script, nodes

S = timedelta(seconds=1)
MIN = timedelta(minutes=1)

# (status, code, retry_after, failing_for) -> (verdict, after)
TABLE = [
    # Compute's throttle: 429 with body code OperationNotAllowed and a 20-minute Retry-After (azure-surface 2.6)
    ((429, "OperationNotAllowed", 1200, None), (Verdict.THROTTLED, 1200 * S)),
    ((429, "TooManyRequests", 7.5, None), (Verdict.THROTTLED, 7.5 * S)),
    ((429, "TooManyRequests", None, None), (Verdict.THROTTLED, 60 * S)),
    ((503, "ServiceUnavailable", 600, None), (Verdict.THROTTLED, 600 * S)),
    ((503, "ServiceUnavailable", None, None), (Verdict.TRANSIENT, 10 * S)),
    ((500, "InternalServerError", None, None), (Verdict.TRANSIENT, 10 * S)),
    ((409, "AnotherOperationInProgress", None, None), (Verdict.IN_PROGRESS, 30 * S)),
    ((409, "OperationNotAllowed", 45, None), (Verdict.IN_PROGRESS, 45 * S)),
    ((409, "Conflict", None, None), (Verdict.IN_PROGRESS, 30 * S)),
    ((409, "RetryableError", None, None), (Verdict.IN_PROGRESS, 30 * S)),
    ((409, "OperationPreempted", None, None), (Verdict.IN_PROGRESS, 30 * S)),
    ((409, "CannotDeleteResource", None, None), (Verdict.TRANSIENT, 10 * S)),
    ((409, "PropertyChangeNotAllowed", None, None), (Verdict.TERMINAL, 0 * S)),
    ((409, "SkuNotAvailable", None, None), (Verdict.TERMINAL, 0 * S)),
    ((400, "InvalidParameter", None, None), (Verdict.TERMINAL, 0 * S)),
    ((400, "OperationNotAllowed", 30, None), (Verdict.TERMINAL, 0 * S)),  # the status decides, not the code
    ((403, "AuthorizationFailed", None, None), (Verdict.TERMINAL, 0 * S)),
    # An expired token: azure-core dropped it on the 401, the retry signs in again; a bad token stays bad
    ((401, "ExpiredAuthenticationToken", None, None), (Verdict.TRANSIENT, 10 * S)),
    ((401, "InvalidAuthenticationToken", None, None), (Verdict.TERMINAL, 0 * S)),
    ((401, "InvalidAuthenticationTokenAudience", None, None), (Verdict.TERMINAL, 0 * S)),
    ((412, "PreconditionFailed", None, None), (Verdict.TRANSIENT, 10 * S)),
    ((404, "ParentResourceNotFound", None, None), (Verdict.TERMINAL, 0 * S)),
    # GalleryImageNotFound right after replication: waited on for a bounded time, backing off with its age
    ((404, "GalleryImageNotFound", None, 0 * S), (Verdict.NOT_YET_VISIBLE, 15 * S)),
    ((404, "GalleryImageNotFound", None, 3 * MIN), (Verdict.NOT_YET_VISIBLE, 90 * S)),
    ((404, "GalleryImageNotFound", None, 9 * MIN), (Verdict.NOT_YET_VISIBLE, 2 * MIN)),
    ((404, "GalleryImageNotFound", None, NOT_FOUND_LAG), (Verdict.TERMINAL, 0 * S)),
    (
        (404, "GalleryImageNotFound", None, None),
        (Verdict.TRANSIENT, 15 * S),
    ),  # untracked: the budget bounds it
    # A long-running operation that ended Failed: no HTTP status, the code alone
    ((None, "CrpPirReplicationJobsNotCompleted", None, None), (Verdict.TERMINAL, 0 * S)),
    ((None, "OperationNotAllowed", None, None), (Verdict.TERMINAL, 0 * S)),
    ((None, "AnotherOperationInProgress", None, None), (Verdict.IN_PROGRESS, 30 * S)),
    ((None, "InternalOperationError", None, None), (Verdict.TRANSIENT, 10 * S)),
]


@pytest.mark.parametrize(("given", "expected"), TABLE, ids=[f"{g[0]}-{g[1]}-{g[3]}" for g, _ in TABLE])
def test_classification_table(given, expected):
    status, code, retry_after, failing_for = given
    verdict = classify(status, code, "a message that is never read", retry_after, failing_for)
    assert (verdict.verdict, verdict.after) == expected


def test_the_message_never_decides():
    for message in ("", "Another operation is in progress", "Changing property is not allowed"):
        assert classify(409, "PropertyChangeNotAllowed", message).terminal
        assert classify(409, "AnotherOperationInProgress", message).verdict is Verdict.IN_PROGRESS


def test_each_verdict_becomes_its_outcome_with_a_reason_code():
    assert outcome_of("w", "X", Classification(Verdict.THROTTLED, 1200 * S)) == Retry(
        1200 * S, "w", reason_code=ReasonCode.THROTTLED
    )
    assert outcome_of("w", "X", classify(409, "AnotherOperationInProgress")).reason_code == "in-progress"
    assert outcome_of("w", "X", classify(404, "GalleryImageNotFound", failing_for=0 * S)).reason_code == (
        "not-yet-visible"
    )
    assert outcome_of("w", "X", classify(500, "X")).reason_code == "transient"
    failed = outcome_of("w", "PropertyChangeNotAllowed", classify(409, "PropertyChangeNotAllowed"))
    assert failed == Failed("w", error_code="PropertyChangeNotAllowed")
    assert isinstance(outcome_of_failure("create v", "ImageBuildFailed", "boom"), Failed)


def test_a_20_minute_throttle_is_waited_exactly_and_spends_no_retry_budget(clock):
    throttle = Retry(1200 * S, "version: OperationNotAllowed: throttled", reason_code=ReasonCode.THROTTLED)
    script = Script({"v": [throttle, throttle, throttle, changed()]})
    report = execute(
        nodes({"v": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=RetryPolicy(max_attempts=2)
    )
    assert report.results["v"].status is NodeStatus.CHANGED, "three throttles, a budget of two: not a failure"
    assert clock.sleeps == [1200.0, 1200.0, 1200.0], "not capped at the backoff's max_delay (5 min)"
    assert [ctx.attempt for _, ctx in script.calls] == [1, 1, 1, 1]


def test_a_transient_retry_still_spends_the_budget(clock):
    transient = Retry(10 * S, "500", reason_code=ReasonCode.TRANSIENT)
    script = Script({"v": [transient, transient, changed()]})
    report = execute(
        nodes({"v": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=RetryPolicy(max_attempts=2)
    )
    assert report.results["v"].status is NodeStatus.FAILED
    assert report.results["v"].outcome.error_code == "retries_exhausted"


def test_a_throttle_beyond_the_wait_budget_is_handed_back_as_a_throttle_wait(clock):
    throttle = Retry(1200 * S, "throttled", reason_code=ReasonCode.THROTTLED)
    script = Script({"v": [throttle, changed()], "pin": [changed()]})
    report = execute(
        nodes({"v": (), "pin": "v"}), script, clock=clock.now, sleeper=clock.sleep, wait_budget=timedelta(0)
    )
    v = report.results["v"]
    assert (v.status, v.handed_back, v.resume_at, v.reason_code) == (
        NodeStatus.WAITING,
        True,
        T0 + 1200 * S,
        "throttled",
    )
    assert report.results["pin"].status is NodeStatus.PENDING
    assert report.outcome is RunOutcome.PENDING and clock.sleeps == []


def test_another_operation_is_waited_on_but_not_forever(clock):
    busy = Retry(30 * S, "delete v: OperationNotAllowed: blocked", reason_code=ReasonCode.IN_PROGRESS)
    script = Script({"v": [busy]})  # the last step repeats: the resource never stops answering 409
    policy = RetryPolicy(max_attempts=2, max_in_progress=10 * MIN)
    report = execute(nodes({"v": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=policy)
    v = report.results["v"]
    assert (v.status, v.outcome.error_code) == (NodeStatus.FAILED, "in_progress_too_long")
    assert clock.now() - T0 == 10 * MIN, "waited on the other operation for the whole bound, then failed"


def test_an_in_progress_streak_is_broken_by_any_other_answer(clock):
    busy = Retry(6 * MIN, "busy", reason_code=ReasonCode.IN_PROGRESS)
    step = WaitUntil(T0 + 13 * MIN, "the other operation ended; ours runs")
    script = Script({"v": [busy, step, busy, changed()]})
    policy = RetryPolicy(max_in_progress=10 * MIN)
    report = execute(nodes({"v": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=policy)
    assert report.results["v"].status is NodeStatus.CHANGED
