"""derive_conditions: one pure derivation of Ready / Reconciling / Stalled (and a version's Replicated and
Accepted) from observation, the plan and the cycle's outcomes; transition times carry while status holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.model.conditions import ConditionStatus, ConditionType, ObjectKind, Reason
from reconciler.model.observed import Observed, ObserveScope
from reconciler.model.observed_resources import ObservedHostPool, ObservedImageVersion
from reconciler.model.plan import Action, Change, Plan
from reconciler.model.rollout import POOL_QUARANTINE_TAG
from reconciler.planner.conditions import derive_conditions

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RG = "/subscriptions/s1/resourcegroups/rg"
POOL = f"{RG}/providers/microsoft.desktopvirtualization/hostpools/hp-a"
VERSION = f"{RG}/providers/microsoft.compute/galleries/gal/images/win11/versions/1.1.0"


def observed(*, pool_tags=None, pool=True, version_state="Succeeded") -> Observed:
    pools = {POOL: ObservedHostPool(POOL, "hp-a", tags=pool_tags or {})} if pool else {}
    versions = {VERSION: ObservedImageVersion(VERSION, "1.1.0", provisioning_state=version_state)}
    return Observed(ObserveScope(("s1",)), T0, host_pools=pools, image_versions=versions)


def plan(*changes: Change) -> Plan:
    return Plan(changes=changes, generated_at=T0.isoformat())


def roll(batches: int) -> Change:
    return Change(Action.ROLL, "session-hosts", POOL, "pin moved", details={"batches": batches})


def of(conditions, kind, name):
    obj = next(o for o in conditions if o.kind is kind and o.name == name)
    return {c.type: (c.status, c.reason) for c in obj.conditions}, obj


def derive(obs, p=None, **kw):
    return derive_conditions(obs, p, pool_names={POOL: "hp-a"}, now=kw.pop("now", T0), **kw)


def test_a_converged_pool_is_ready_and_a_rolling_one_is_reconciling():
    ready, _ = of(derive(observed(), plan()), ObjectKind.HOST_POOL, "hp-a")
    assert ready[ConditionType.READY] == (ConditionStatus.TRUE, Reason.CONVERGED)
    assert ready[ConditionType.STALLED][0] is ConditionStatus.FALSE
    rolling, obj = of(derive(observed(), plan(roll(3))), ObjectKind.HOST_POOL, "hp-a")
    assert rolling[ConditionType.READY] == (ConditionStatus.FALSE, Reason.ROLLOUT_IN_PROGRESS)
    assert rolling[ConditionType.RECONCILING] == (ConditionStatus.TRUE, Reason.ROLLOUT_IN_PROGRESS)
    assert "3 rollout batch" in obj.get(ConditionType.RECONCILING).message


def test_a_rollout_whose_batch_is_under_way_never_says_zero_batches_to_go():
    """The simulation cannot time a host coming up, so it ends there with no waves: the message says what
    runs instead of "0 rollout batch(es) to go" beside the dashboard's "batch 1 of 2"."""
    change = Change(
        Action.ROLL,
        "session-hosts",
        POOL,
        "pin moved",
        details={"batches": 0, "simulation": {"end": "blocked", "why": "canary-2 coming up"}},
    )
    _, obj = of(derive(observed(), plan(change)), ObjectKind.HOST_POOL, "hp-a")
    message = obj.get(ConditionType.RECONCILING).message
    assert message == "rollout under way: canary-2 coming up" and "0 rollout" not in message


def test_a_quarantine_tag_or_a_halt_stalls_the_pool_with_its_own_reason():
    tags = {POOL_QUARANTINE_TAG: f"{VERSION}|{T0.isoformat()}"}
    quarantined, _ = of(derive(observed(pool_tags=tags), plan(roll(2))), ObjectKind.HOST_POOL, "hp-a")
    assert quarantined[ConditionType.STALLED] == (ConditionStatus.TRUE, Reason.VERSION_QUARANTINED)
    assert quarantined[ConditionType.RECONCILING][0] is ConditionStatus.FALSE
    halted, _ = of(derive(observed(), plan(roll(2)), halted_pools={"hp-a"}), ObjectKind.HOST_POOL, "hp-a")
    assert halted[ConditionType.STALLED] == (ConditionStatus.TRUE, Reason.ROLLOUT_HALTED)


def test_a_missing_pool_is_not_ready_because_it_is_not_found():
    missing, _ = of(derive(observed(pool=False)), ObjectKind.HOST_POOL, "hp-a")
    assert missing[ConditionType.READY] == (ConditionStatus.FALSE, Reason.NOT_FOUND)


def test_a_replicating_version_is_not_replicated_and_acceptance_is_unknown_with_a_reason():
    replicating, _ = of(derive(observed(version_state="Updating")), ObjectKind.IMAGE_VERSION, "win11/1.1.0")
    assert replicating[ConditionType.REPLICATED] == (ConditionStatus.FALSE, Reason.REPLICATION_PENDING)
    assert replicating[ConditionType.RECONCILING][0] is ConditionStatus.TRUE
    assert replicating[ConditionType.ACCEPTED] == (ConditionStatus.UNKNOWN, Reason.ACCEPTANCE_NOT_OBSERVABLE)
    done, _ = of(derive(observed()), ObjectKind.IMAGE_VERSION, "win11/1.1.0")
    assert done[ConditionType.REPLICATED] == (ConditionStatus.TRUE, Reason.REPLICATED)


def test_last_transition_carries_while_status_holds_and_moves_when_it_changes():
    first = derive(observed(), plan(roll(3)))
    later = T0 + timedelta(minutes=20)
    same = derive(observed(), plan(roll(1)), previous=first, now=later)
    _, obj = of(same, ObjectKind.HOST_POOL, "hp-a")
    assert obj.get(ConditionType.READY).last_transition == T0  # still not ready: the time it became so
    done = derive(observed(), plan(), previous=same, now=later + timedelta(minutes=5))
    _, obj = of(done, ObjectKind.HOST_POOL, "hp-a")
    assert obj.get(ConditionType.READY).last_transition == later + timedelta(minutes=5)
    assert obj.get(ConditionType.STALLED).last_transition == T0  # False throughout
