"""Every outcome carries a reason code, the report and recap expose it, and what reads them decides from it:
a halted rollout is `halted`, a rollback is `rollback` (not a plain wait), a node never called says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.engine import build_recap, execute
from reconciler.engine.actions.hosts import wait_reason
from reconciler.engine.outcome import Done, Failed, ReasonCode, Retry, WaitUntil, outcome_to_dict
from reconciler.engine.rollout import PoolCycle, outcome_of
from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy
from reconciler.planner.host_steps import Decision, DecisionMode, DecisionState
from reconciler.render.recap import render_recap_text

from .conftest import Script, nodes

NOW = datetime(2026, 11, 3, 22, 0, tzinfo=UTC)
POLICY = PoolPolicy(
    count=2,
    strategy="surge",
    batch=1,
    floor_percent=50,
    drain_grace=timedelta(minutes=30),
    force_logoff=True,
    user_message="bye",
    health_timeout=timedelta(minutes=45),
    failure_budget=0,
)


def inputs(**kw) -> PoolInputs:
    host = HostView("avd-0", "/vms/avd-0", "/v/1.0.0", "Succeeded", status="Available", managed=False)
    return PoolInputs(
        pool_id="/pools/p", pool="p", now=NOW, policy=POLICY, hosts=(host,), target="/v/2.0.0", **kw
    )


@pytest.mark.parametrize(
    ("state", "mode", "outcome_type", "code"),
    [
        (DecisionState.CONVERGED, DecisionMode.STEADY, Done, "converged"),
        (DecisionState.CONVERGED, DecisionMode.ROLLBACK, Done, "rollback"),
        (DecisionState.HALTED, DecisionMode.HALTED, Failed, "halted"),
        (DecisionState.WAITING, DecisionMode.ROLLOUT, WaitUntil, "waiting"),
    ],
)
def test_a_pool_cycle_answers_an_outcome_with_the_code_of_its_decision(state, mode, outcome_type, code):
    decision = Decision(state=state, mode=mode, notes=["halted: 1 failed host(s), budget 0"])
    decision.wait(NOW + timedelta(minutes=5), "hosts coming up")
    outcome = outcome_of(decision, inputs(), writes=0)
    assert type(outcome) is outcome_type and outcome.reason_code == code
    assert outcome_to_dict(outcome)["reason_code"] == code


def test_a_rolling_back_pool_waits_as_a_rollback_not_as_a_plain_wait():
    decision = Decision(state=DecisionState.PROGRESSING, mode=DecisionMode.ROLLBACK)
    wait = WaitUntil(NOW + timedelta(seconds=30), "p: new hosts coming up")
    assert wait_reason(PoolCycle("p", inputs(), decision, wait), wait) == "rollback"
    rolling = Decision(state=DecisionState.PROGRESSING, mode=DecisionMode.ROLLOUT)
    assert wait_reason(PoolCycle("p", inputs(), rolling, wait), wait) == "hosts"


def test_codes_outside_the_closed_set_are_refused():
    with pytest.raises(ValueError, match="unknown Failed reason code"):
        Failed("x", reason_code="halt")
    with pytest.raises(ValueError, match="unknown Done reason code"):
        Done(reason_code="halted")
    with pytest.raises(ValueError, match="unknown wait reason code"):
        WaitUntil(NOW, "x", reason="later")
    assert Retry(timedelta(seconds=1), "x").reason_code == ReasonCode.TRANSIENT


def test_report_and_recap_carry_the_code_of_every_node(clock):
    halted = Failed("p: halted: 2 failed host(s), budget 1", "RolloutHalted", ReasonCode.HALTED)
    script = Script({"roll p": [halted], "stamp p": [Done()], "roll q": [Done(reason_code="rollback")]})
    graph = {"roll p": (), "stamp p": "roll p", "roll q": ()}
    report = execute(nodes(graph, "host-pool"), script, clock=clock.now, sleeper=clock.sleep)
    by_id = {r["id"]: r for r in report.to_dict()["results"]}
    assert {i: r["reason_code"] for i, r in by_id.items()} == {
        "roll p": "halted",
        "stamp p": "dependency-failed",
        "roll q": "rollback",
    }
    recap = build_recap(report).to_dict()
    assert [(f["id"], f["reason_code"], f["error_code"]) for f in recap["failures"]] == [
        ("roll p", "halted", "RolloutHalted")
    ]
    assert {r["id"]: r["reason_code"] for r in recap["results"]} == {
        "roll p": "halted",
        "stamp p": "dependency-failed",
        "roll q": "rollback",
    }


def test_the_text_recap_names_a_halted_rollout_as_halted(clock):
    halted = Failed("p: halted: 2 failed host(s), budget 1", "RolloutHalted", ReasonCode.HALTED)
    plain = Failed("q: QuotaExceeded", "QuotaExceeded")
    script = Script({"roll p": [halted], "roll q": [plain]})
    report = execute(
        nodes({"roll p": (), "roll q": ()}, "host-pool"), script, clock=clock.now, sleeper=clock.sleep
    )
    text = render_recap_text(build_recap(report).to_dict())
    assert "  roll p (halted): p: halted" in text
    assert "  roll q: q: QuotaExceeded" in text
