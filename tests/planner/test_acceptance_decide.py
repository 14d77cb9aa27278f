"""Acceptance in the session-host decision (planner.hosts.decide + planner.acceptance): pure, no I/O.

A validation pool rolling to V: the first host built from V is judged by its AVD health checks, then the
tests run on it; the rest of the rollout waits for the verdict; a failed verdict quarantines V."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from reconciler.model.acceptance import (
    Acceptance,
    AcceptanceState,
    AcceptTest,
    HealthCheck,
    Outcome,
    Verdict,
)
from reconciler.model.rollout import HOST_CREATED_TAG, HOST_REGISTERED_TAG, HOST_REPLACES_TAG, HOST_STAGE_TAG
from reconciler.planner.acceptance import REPORT_BOUND, AcceptanceInputs, AcceptancePlan
from reconciler.planner.host_inputs import HostView
from reconciler.planner.host_steps import DecisionMode, StepOp
from reconciler.planner.hosts import decide
from reconciler.planner.timeline import TimelineEnd, simulate_rollout

from .test_hosts_decide import NOW, V1, V2, host, inputs, ops, policy

TESTS = (AcceptTest("ehr-client-starts", inline="exit 0"), AcceptTest("printer-queue", inline="exit 0"))
CHECKS = ("FSLogixHealthCheck", "DomainJoinedCheck")
PLAN = AcceptancePlan(tests=TESTS, checks=CHECKS, min_agent_version="1.0.9742.0")
OK = tuple(HealthCheck(c, "HealthCheckSucceeded", "healthy") for c in CHECKS)
STAMP = (NOW - timedelta(minutes=30)).isoformat()


def new_host(name="avd-4", checks=OK, agent="1.0.9800.0", registered=STAMP) -> HostView:
    """A host built from V2 to replace avd-0, Ready (stage tag), as the rollout leaves it."""
    h = host(
        name,
        version=V2,
        managed=True,
        **{HOST_CREATED_TAG: STAMP, HOST_REGISTERED_TAG: registered, HOST_STAGE_TAG: "ready"},
    )
    return replace(h, tags={**h.tags, HOST_REPLACES_TAG: "avd-0"}, health_checks=checks, agent_version=agent)


def pool(new: HostView | None, verdict=None, outcomes=None, plan=PLAN, runs_here=True, **kw):
    hosts = [host(f"avd-{i}") for i in range(4)] + ([new] if new else [])
    acc = AcceptanceInputs(plan, runs_here, verdict, dict(outcomes or {}))
    return inputs(hosts, policy(batch=1, floor_percent=50), acceptance=acc, **kw)


def held(d) -> bool:
    return d.mode is DecisionMode.GATED and not any(s.op in (StepOp.RETIRE, StepOp.CREATE) for s in d.steps)


def test_no_host_on_the_version_yet_the_rollout_builds_the_first_one():
    d = decide(pool(None))
    assert ops(d) == [("create", "avd-4")] and d.steps[0].data.replaces == "avd-0"


def test_the_first_host_coming_up_holds_the_rest():
    coming = replace(
        new_host(), status="Unavailable", tags={HOST_CREATED_TAG: STAMP, HOST_REGISTERED_TAG: STAMP}
    )
    d = decide(pool(coming))
    assert held(d) and any("acceptance of 2.0.0 waits for avd-4 to be Ready" in why for _, why in d.waits)


def test_health_checks_not_reported_yet_wait_with_a_reason():
    d = decide(pool(new_host(checks=(), registered=(NOW - timedelta(minutes=5)).isoformat())))
    assert held(d) and not d.steps
    assert any("avd-4: health checks not reported yet" in why for _, why in d.waits)
    assert all(at <= NOW + timedelta(seconds=30) for at, _ in d.waits)


def test_health_checks_never_reported_fail_acceptance_after_the_bound():
    late = (NOW - REPORT_BOUND - timedelta(minutes=1)).isoformat()
    d = decide(pool(new_host(checks=(), registered=late)))
    [step] = d.steps
    assert step.op is StepOp.RECORD_ACCEPTANCE and step.data.version == V2
    assert step.data.verdict.state is AcceptanceState.FAILED and step.data.verdict.host == "avd-4"
    assert "health checks not reported: FSLogixHealthCheck, DomainJoinedCheck" in step.data.failure
    assert held(d)


def test_a_failed_required_check_fails_acceptance_with_its_message():
    checks = (
        HealthCheck(
            "FSLogixHealthCheck", "HealthCheckFailed", "profile container \\\\fs01\\profiles unreachable"
        ),
        OK[1],
    )
    d = decide(pool(new_host(checks=checks)))
    [step] = d.steps
    assert step.op is StepOp.RECORD_ACCEPTANCE and step.data.verdict.state is AcceptanceState.FAILED
    assert step.data.failure == "avd-4: FSLogixHealthCheck: profile container \\\\fs01\\profiles unreachable"
    assert not any(s.op is StepOp.ACCEPT for s in d.steps)


def test_a_check_not_required_may_fail():
    checks = (*OK, HealthCheck("UrlsAccessibleCheck", "HealthCheckFailed", "blocked"))
    assert [s.op for s in decide(pool(new_host(checks=checks))).steps] == [StepOp.ACCEPT]


def test_an_agent_older_than_the_minimum_fails_acceptance():
    [step] = decide(pool(new_host(agent="1.0.9000.0"))).steps
    assert step.op is StepOp.RECORD_ACCEPTANCE
    assert "AVD agent 1.0.9000.0 is older than the required 1.0.9742.0" in step.data.failure


def test_checks_pass_then_the_tests_run_on_that_host_and_the_rest_waits():
    d = decide(pool(new_host()))
    [step] = d.steps
    assert step.op is StepOp.ACCEPT and step.host == "avd-4"
    assert step.data.version == V2 and step.data.session_host == "avd-4.corp"
    assert [t.name for t in step.data.tests] == ["ehr-client-starts", "printer-queue"]
    assert held(d) and any("acceptance running on avd-4" in why for _, why in d.waits)


def test_a_test_already_passed_is_not_sent_again():
    passed = {"ehr-client-starts": Outcome(Verdict.PASSED, 0, STAMP, "avd-4")}
    running = Acceptance(AcceptanceState.RUNNING, STAMP, "avd-4")
    [step] = decide(pool(new_host(), verdict=running, outcomes=passed)).steps
    assert step.op is StepOp.ACCEPT and [t.name for t in step.data.tests] == ["printer-queue"]


def test_every_test_passed_without_a_verdict_records_passed():
    passed = {t.name: Outcome(Verdict.PASSED, 0, STAMP, "avd-4") for t in TESTS}
    [step] = decide(pool(new_host(), outcomes=passed)).steps
    assert step.op is StepOp.RECORD_ACCEPTANCE and step.data.verdict.state is AcceptanceState.PASSED


def test_passed_or_forced_the_rollout_continues():
    for state in (AcceptanceState.PASSED, AcceptanceState.FORCED):
        d = decide(pool(new_host(), verdict=Acceptance(state, STAMP, "avd-4")))
        assert ("retire", "avd-0") in ops(d) and d.mode is DecisionMode.ROLLOUT
        assert not any(s.op in (StepOp.ACCEPT, StepOp.RECORD_ACCEPTANCE) for s in d.steps)


def test_failed_quarantines_the_version_and_halts():
    failed = Acceptance(AcceptanceState.FAILED, STAMP, "avd-4", "ehr-client-starts: exit 1")
    d = decide(pool(new_host(), verdict=failed))
    assert (StepOp.QUARANTINE, None) in [(s.op, s.host) for s in d.steps]
    assert d.mode is DecisionMode.HALTED and "halted: the version failed acceptance" in d.notes
    assert not any(s.op is StepOp.CREATE for s in d.steps)


def test_failed_with_rollback_goes_back_to_the_last_good_version():
    failed = Acceptance(AcceptanceState.FAILED, STAMP, "avd-4", "ehr-client-starts: exit 1")
    rollback = replace(policy(batch=1, floor_percent=50), on_failure="rollback")
    p = replace(pool(new_host(), verdict=failed), policy=rollback, last_good=V1, rolled_out=V1)
    d = decide(p)
    assert d.mode is DecisionMode.ROLLBACK and d.effective_target == V1
    assert any("after failed acceptance" in n for n in d.notes)


def test_a_pool_that_does_not_run_the_suite_is_not_held_by_it():
    d = decide(pool(new_host(), runs_here=False))
    assert ("retire", "avd-0") in ops(d) and not any(s.op is StepOp.ACCEPT for s in d.steps)


def test_without_acceptance_the_decision_is_unchanged():
    hosts = [host(f"avd-{i}") for i in range(4)] + [new_host()]
    plain = inputs(hosts, policy(batch=1, floor_percent=50))
    assert decide(plain) == decide(replace(plain, acceptance=None))
    assert ("retire", "avd-0") in ops(decide(plain))


def test_the_timeline_assumes_acceptance_passes_in_the_tests_timeouts_and_then_converges():
    p = pool(None)
    timeline = simulate_rollout(p)
    assert timeline.end is TimelineEnd.CONVERGED, timeline.why
    accepts = [c for c in timeline.cycles if any(s.op is StepOp.ACCEPT for s in c.steps)]
    assert accepts and {s.host for c in accepts for s in c.steps if s.op is StepOp.ACCEPT} == {"avd-4"}
    first_retire = next(c.at for c in timeline.cycles if any(s.op is StepOp.RETIRE for s in c.steps))
    assert first_retire >= accepts[0].at + timedelta(minutes=20)  # two tests, 10 min timeout each
    assert any("acceptance passes" in a for a in timeline.assumptions)
    assert any(s.op is StepOp.STAMP_ROLLED_OUT for c in timeline.cycles for s in c.steps)


def test_the_timeline_is_the_same_with_and_without_the_incremental_index():
    p = pool(None)
    fast, slow = simulate_rollout(p), simulate_rollout(p, incremental=False)
    assert [(c.at, c.steps) for c in fast.cycles] == [(c.at, c.steps) for c in slow.cycles]
