"""The Reporter: conditions reach /status, the metrics and the webhook, and a pool that turns Stalled is
announced once, with its reason code, not every cycle it stays Stalled."""

from __future__ import annotations

from datetime import UTC, datetime

from support.image_estate import version, write_desired

from reconciler.controller.cycle import CycleResult
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.notify import Notifier
from reconciler.controller.source import DirSource
from reconciler.model.conditions import (
    Condition,
    ConditionStatus,
    ConditionType,
    ObjectConditions,
    ObjectKind,
    Reason,
)

from .fakes import FakeClock, RecordingCycle

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def pool(stalled: bool) -> tuple[ObjectConditions, ...]:
    s, r = (
        (ConditionStatus.TRUE, Reason.VERSION_QUARANTINED)
        if stalled
        else (ConditionStatus.FALSE, Reason.NOT_STALLED)
    )
    ready = ConditionStatus.FALSE if stalled else ConditionStatus.TRUE
    conditions = (
        Condition(ConditionType.READY, ready, r if stalled else Reason.CONVERGED, "", T0),
        Condition(ConditionType.STALLED, s, r, "version 1.1.0 quarantined" if stalled else "", T0),
    )
    return (ObjectConditions(ObjectKind.HOST_POOL, "hp-a", conditions),)


def test_a_pool_turning_stalled_is_announced_once_and_previous_conditions_reach_the_next_cycle(tmp_path):
    desired = write_desired(tmp_path / "desired", [version("1.0.0")], pin="1.0.0")
    sent: list[dict] = []
    notifier = Notifier("http://hook.invalid", post=lambda _url, body: sent.append(body), repeat_after=0.0)
    sets = [pool(False), pool(True), pool(True), pool(False), pool(True)]
    cycle = RecordingCycle([CycleResult(ok=True, conditions=c) for c in sets])
    controller = Controller(
        DirSource(desired),
        cycle,
        elector=AlwaysLeader(),
        notifier=notifier,
        settings=LoopSettings(interval=60, jitter=0.0),
        clock=FakeClock(),
    )
    assert controller.sync()
    for _ in sets:
        controller.reconcile()

    stalled = [b for b in sent if b["event"] == "stalled"]
    assert [b["fields"]["reason"] for b in stalled] == ["VersionQuarantined", "VersionQuarantined"]
    assert cycle.inputs[0].previous_conditions == ()
    assert cycle.inputs[2].previous_conditions == pool(True)  # what the cycle before reported
    served = controller.status()["last_cycle"]["conditions"]
    assert served[0]["name"] == "hp-a"
    assert {c["type"]: c["status"] for c in served[0]["conditions"]} == {"Ready": "False", "Stalled": "True"}
    metrics = controller.metrics.exposition().decode()
    assert (
        'reconcile_condition{kind="host-pool",name="hp-a",reason="VersionQuarantined",status="True",'
        'type="Stalled"} 1.0'
    ) in metrics
