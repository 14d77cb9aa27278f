"""Retry backoff, giving up, and failures that stop only their dependents."""

from datetime import timedelta

import pytest
import tenacity

from reconciler.engine import EventKind, Failed, NodeStatus, Retry, RetryPolicy, WaitUntil, execute
from reconciler.engine.outcome import changed, ok, retry_in

from .conftest import T0, Script, nodes

S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("policy", "after", "expected_gaps"),
    [
        # default curve: 2 s, 4 s, 8 s, 16 s between calls, then the fifth Retry gives up
        (RetryPolicy(), 0, [2, 4, 8, 16]),
        # the cap bounds the curve
        (RetryPolicy(max_delay=timedelta(seconds=5)), 0, [2, 4, 5, 5]),
        # an action's own longer request wins over the curve, still under the cap
        (RetryPolicy(max_attempts=3), 30, [30, 30]),
        (RetryPolicy(max_attempts=3, max_delay=timedelta(seconds=10)), 30, [10, 10]),
        (RetryPolicy(max_attempts=3, wait=tenacity.wait_fixed(7)), 0, [7, 7]),
        (RetryPolicy(max_attempts=1), 0, []),
    ],
)
def test_retry_backs_off_boundedly_then_gives_up(clock, policy, after, expected_gaps):
    script = Script({"a": [retry_in(after, "parent not visible yet")]})
    report = execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=policy)
    times = script.call_times("a")
    assert [(b - a) / S for a, b in zip(times, times[1:], strict=False)] == expected_gaps
    result = report.results["a"]
    assert result.status is NodeStatus.FAILED
    assert result.outcome == Failed(
        why=f"gave up after {policy.max_attempts} attempts: parent not visible yet",
        error_code="retries_exhausted",
        reason_code="retries-exhausted",
    )
    assert result.attempts == result.calls == policy.max_attempts


def test_a_retry_that_then_succeeds_reports_its_attempts(clock):
    events = []
    script = Script({"a": [retry_in(0, "busy"), retry_in(0, "busy"), changed()]})
    report = execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, on_event=events.append)
    assert report.results["a"].status is NodeStatus.CHANGED
    assert report.results["a"].attempts == 3
    assert [ctx.attempt for _, ctx in script.calls] == [1, 2, 3]
    retries = [e for e in events if e.kind is EventKind.RETRYING]
    assert [(e.attempt, e.outcome.attempt, e.resume_at) for e in retries] == [
        (2, 1, T0 + 2 * S),
        (3, 2, T0 + 6 * S),
    ]


def test_a_failure_skips_only_its_dependents_naming_the_cause(clock):
    script = Script({"build": [Failed("customizer exited 1", "BuildFailed")]}, default=changed())
    graph = {
        "gallery": (),
        "build": "gallery",
        "version": "build",
        "pin": "version",
        "pool": (),
        "pool-tags": "pool",
        "definition": "gallery",
    }
    report = execute(nodes(graph), script, clock=clock.now, sleeper=clock.sleep)
    status = {r.id: r.status for r in report.results.values()}
    assert status == {
        "build": NodeStatus.FAILED,
        "definition": NodeStatus.CHANGED,
        "gallery": NodeStatus.CHANGED,
        "pin": NodeStatus.SKIPPED,
        "pool": NodeStatus.CHANGED,
        "pool-tags": NodeStatus.CHANGED,
        "version": NodeStatus.SKIPPED,
    }
    assert report.results["version"].why == "dependency build failed: customizer exited 1"
    assert report.results["pin"].why == "dependency build failed (via version): customizer exited 1"
    assert "version" not in script.order() and "pin" not in script.order()
    assert report.complete and not report.succeeded


def test_a_node_with_two_failed_dependencies_is_skipped_once(clock):
    events = []
    script = Script({"a": [Failed("x")], "b": [Failed("y")]}, default=ok())
    report = execute(
        nodes({"a": (), "b": (), "c": ["a", "b"]}),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        on_event=events.append,
    )
    assert report.results["c"].why == "dependency a failed: x"
    assert [e.node_id for e in events if e.kind is EventKind.SKIPPED] == ["c"]


@pytest.mark.parametrize(
    ("step", "why", "code", "reason_code"),
    [
        (RuntimeError("boom"), "RuntimeError: boom", "unhandled_exception", "exception"),
        (None, "action returned None, not an outcome", "bad_outcome", "bad-outcome"),
    ],
)
def test_a_misbehaving_action_fails_its_node_not_the_run(clock, step, why, code, reason_code):
    def action(node, ctx):
        if node.id == "bad":
            if isinstance(step, BaseException):
                raise step
            return step
        return ok()

    report = execute(
        nodes({"bad": (), "after": "bad", "fine": ()}), action, clock=clock.now, sleeper=clock.sleep
    )
    assert report.results["bad"].outcome == Failed(why=why, error_code=code, reason_code=reason_code)
    assert report.results["after"].reason_code == "dependency-failed"
    assert report.results["after"].status is NodeStatus.SKIPPED
    assert report.results["fine"].status is NodeStatus.OK


def test_retry_policy_validates_its_bounds():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_delay=timedelta(seconds=-1))


def test_retry_outcome_records_the_attempt_stamped_by_the_executor(clock):
    script = Script({"a": [Retry(after=timedelta(0), why="w", attempt=99), ok()]})
    events = []
    execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, on_event=events.append)
    (retrying,) = [e for e in events if e.kind is EventKind.RETRYING]
    assert retrying.outcome.attempt == 1


def test_a_wait_between_transient_faults_starts_the_retry_budget_again(clock):
    """Progress (a wait: a rollout cycle done) between scattered faults: six faults in all, never more than two
    in a row, within a five-attempt budget, and the node still finishes."""
    step = [retry_in(0, "503"), retry_in(0, "503"), WaitUntil(T0, "next batch")]
    script = Script({"a": [*step, *step, *step, changed()]})
    report = execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=RetryPolicy())
    assert report.results["a"].status is NodeStatus.CHANGED
    assert [ctx.attempt for _, ctx in script.calls] == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]


def test_faults_in_a_row_still_exhaust_the_budget_after_a_wait(clock):
    script = Script({"a": [WaitUntil(T0, "started"), *[retry_in(0, "503")] * 5]})
    report = execute(nodes({"a": ()}), script, clock=clock.now, sleeper=clock.sleep, retry=RetryPolicy())
    assert report.results["a"].status is NodeStatus.FAILED
    assert report.results["a"].outcome.error_code == "retries_exhausted"
