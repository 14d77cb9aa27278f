"""notify_acceptance: a version is announced when its verdict becomes failed or forced, not while it stays so,
and again when it fails anew after a rerun; running and passed verdicts are not news."""

from __future__ import annotations

from reconciler.controller.notify import Notifier, notify_acceptance

V = "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/galleries/g/images/win11/versions/2.0.0"


def row(state: str, reason: str = "", failure: str = "") -> dict[str, dict[str, str]]:
    return {
        V: {
            "definition": "win11",
            "version": "2.0.0",
            "state": state,
            "host": "val-0",
            "reason": reason,
            "failure": failure,
        }
    }


def test_failures_and_force_accepts_are_announced_once_per_transition():
    sent: list[dict] = []
    notifier = Notifier("http://hook.invalid", post=lambda _u, body: sent.append(body), repeat_after=0.0)
    failed = row("failed", "ehr-client-starts: exit 1", "ehr-client-starts: exit 1: license server down")
    states = [{}, row("running"), failed, failed, {}, row("running"), failed, row("forced", "dr.ops: CHG-7")]
    previous: dict = {}
    for current in states:
        notify_acceptance(notifier, previous, current, "abc")
        previous = current
    assert [(b["event"], b["severity"]) for b in sent] == [
        ("acceptance_failed", "error"),
        ("acceptance_failed", "error"),  # after `reconcile accept --rerun` it failed again
        ("acceptance_forced", "warning"),
    ]
    assert sent[0]["text"] == "ehr-client-starts: exit 1: license server down"
    assert sent[0]["fields"] == {
        "definition": "win11",
        "version": "2.0.0",
        "state": "failed",
        "host": "val-0",
        "reason": "ehr-client-starts: exit 1",
    }
    assert (
        sent[2]["title"] == "Image version win11/2.0.0 was force-accepted"
        and sent[2]["text"] == "dr.ops: CHG-7"
    )


def test_a_passed_version_is_not_news_and_no_webhook_means_no_call():
    sent: list[dict] = []
    notifier = Notifier("http://hook.invalid", post=lambda _u, body: sent.append(body))
    assert notify_acceptance(notifier, row("running"), row("passed")) == 0
    assert notify_acceptance(Notifier(None), {}, row("failed", "x")) == 0
    assert sent == []


def test_slack_shape_carries_the_failure():
    sent: list[dict] = []
    notifier = Notifier("http://hook.invalid", shape="slack", post=lambda _u, body: sent.append(body))
    notify_acceptance(notifier, {}, row("failed", "edr: exit 1", "edr-agent-running: exit 1: stopped"))
    assert sent == [
        {"text": "*Image version win11/2.0.0 failed acceptance*\nedr-agent-running: exit 1: stopped"}
    ]
