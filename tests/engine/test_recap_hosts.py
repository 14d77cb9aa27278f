"""The recap's host work (counted from the rollout steps performed), its pending section (what resumes when,
soonest first, dependents at their dependency's time) and the resume hint; and their text rendering."""

from datetime import timedelta

from reconciler.engine import WaitUntil, build_recap, execute
from reconciler.engine.actions.hosts import HostWork
from reconciler.engine.apply import history_record
from reconciler.engine.outcome import changed
from reconciler.engine.report import RunOutcome
from reconciler.planner.host_steps import (
    NO_DATA,
    CreateData,
    LogoffData,
    MessageData,
    RemoveData,
    RemoveReason,
    RetireData,
    RetireReason,
    Step,
    StepOp,
)
from reconciler.render.recap import render_recap_text

from .conftest import T0, Script, nodes

HOUR = timedelta(hours=1)


def test_host_work_counts_the_steps_a_cycle_performed():
    steps = [
        Step(StepOp.CREATE, "h-4", CreateData("v2", replaces="h-0")),
        Step(StepOp.CREATE, "h-5", CreateData("v2")),
        Step(StepOp.RETIRE, "h-0", RetireData(RetireReason.REPLACED, "h-0.corp")),
        Step(StepOp.RETIRE, "h-9", RetireData(RetireReason.COUNT, None)),  # no session host: nothing to drain
        Step(StepOp.MESSAGE, "h-0", MessageData("h-0.corp", ("s/1", "s/2"), "t", "b")),
        Step(StepOp.LOGOFF, "h-0", LogoffData("h-0.corp", ("s/1",))),
        Step(StepOp.REMOVE, "h-1", RemoveData("h-1.corp", RemoveReason.EMPTY)),
        Step(StepOp.REGISTER, "h-5", NO_DATA),
    ]
    work = HostWork()
    work.add(9, steps)
    work.add(0, ())  # a pool that did not exist yet
    assert work.to_dict() == {
        "created": 2,
        "replaced": 1,
        "deleted": 1,
        "drained": 1,
        "messaged": 2,
        "logged_off": 1,
        "writes": 9,
    }


def _report(clock):
    script = Script(
        {
            "roll canary": [changed()],
            "roll prod": [WaitUntil(T0 + 72 * HOUR, "pool canary soaks until …", reason="soak")],
            "stamp prod": [changed()],
        }
    )
    graph = {"roll canary": (), "roll prod": (), "stamp prod": "roll prod"}
    return execute(
        nodes(graph, "host-pool"),
        script,
        clock=clock.now,
        sleeper=clock.sleep,
        wait_budget=timedelta(minutes=30),
    )


def test_pending_says_what_resumes_when_and_how(clock):
    report = _report(clock)
    hosts = {"prod": HostWork().to_dict(), "canary": HostWork(created=2, replaced=2).to_dict()}
    recap = build_recap(report, wrote={"roll prod"}, hosts=hosts).to_dict()
    soak_end = (T0 + 72 * HOUR).isoformat()
    assert recap["outcome"] == "pending" and recap["succeeded"] is True
    assert recap["pending"] == [
        {
            "change": "roll",
            "resource": "prod",
            "kind": "host-pool",
            "status": "waiting",
            "resumes_at": soak_end,
            "why": "pool canary soaks until …",
            "reason_code": "soak",
            "handed_back": True,
        },
        {
            "change": "stamp",
            "resource": "prod",
            "kind": "host-pool",
            "status": "pending",
            "resumes_at": soak_end,
            "why": "waiting for roll prod",
            "reason_code": "after-dependency",
            "handed_back": False,
        },
    ]
    assert (
        recap["resume"]
        == f"re-run `reconcile apply` after {soak_end}, or run `reconcile run` (it resumes on its own)"
    )
    # "roll prod" wrote before it started waiting: changed counts it, the waiting column too.
    assert recap["totals"]["changed"] == 2 and recap["totals"]["waiting"] == 1
    assert list(recap["hosts"]["pools"]) == ["canary", "prod"]
    assert recap["hosts"]["totals"]["replaced"] == 2
    text = render_recap_text(recap)
    assert "HOSTS" in text and "created=2" in text and "replaced=2" in text
    assert f"roll prod: at {soak_end} (soak): pool canary soaks until" in text
    assert "OUTCOME: pending" in text and "reconcile run" in text


def test_history_has_the_true_outcome_and_the_counts(clock):
    from reconciler.engine.apply import ApplyResult

    result = ApplyResult(_report(clock), hosts={"canary": HostWork(created=2).to_dict()})
    entry = history_record(None, result, source="desired", commit="abc")
    assert (entry["outcome"], entry["succeeded"], entry["complete"]) == ("pending", True, False)
    assert entry["hosts"]["created"] == 2 and entry["hosts_by_pool"]["canary"]["created"] == 2
    assert entry["pending"][0] == {
        "change": "roll",
        "resource": "prod",
        "resumes_at": (T0 + 72 * HOUR).isoformat(),
        "reason_code": "soak",
    }
    timed_out = ApplyResult(result.report, outcome_override=RunOutcome.TIMED_OUT)
    assert history_record(None, timed_out, source="d", commit=None)["succeeded"] is False
    before = history_record(
        None, None, source="d", commit=None, outcome=RunOutcome.INTERRUPTED, finished_at=T0
    )
    assert (before["outcome"], before["succeeded"], before["changes"]) == ("interrupted", False, 0)
