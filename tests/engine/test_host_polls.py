"""Where apply looks again at a pool's hosts (engine/host_polls.py): at what is in flight, pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reconciler.engine.host_polls import POLL_CAP, POLL_FLOOR, REGISTRATION, VM_CREATE, backoff_at, next_look
from reconciler.model.rollout import HOST_CREATED_TAG, HOST_DRAIN_TAG, HOST_REGISTERED_TAG
from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy
from reconciler.planner.host_steps import POLL, CreateData, Decision, Step, StepOp, may_enable_more

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HEALTH = timedelta(minutes=30)


def _inputs(*hosts: HostView) -> PoolInputs:
    policy = PoolPolicy(
        count=2,
        strategy="surge",
        batch=1,
        floor_percent=50,
        drain_grace=timedelta(minutes=30),
        force_logoff=True,
        user_message="bye",
        health_timeout=HEALTH,
        failure_budget=0,
        prefix="avd",
    )
    return PoolInputs(pool_id="/pools/p", pool="p", now=NOW, policy=policy, hosts=hosts, target="/v/2")


def _host(name: str, provisioning: str = "Succeeded", **tags: datetime) -> HostView:
    return HostView(
        name=name,
        vm_id=f"/vms/{name}",
        version="/v/2",
        provisioning=provisioning,
        tags={k: v.isoformat() for k, v in tags.items()},
        status=None,
    )


def _polling() -> Decision:
    d = Decision()
    d.poll(NOW + POLL, "coming up")
    return d


def test_backoff_looks_at_the_expected_end_then_an_eighth_of_the_time_taken():
    assert backoff_at(NOW, NOW - MIN, 3 * MIN) == NOW + 2 * MIN
    assert backoff_at(NOW, NOW - 16 * MIN, 3 * MIN) == NOW + 2 * MIN  # 16 min / 8
    assert backoff_at(NOW, NOW - MIN, MIN) == NOW + POLL_FLOOR  # due, 1 min / 8 = 7.5 s: the floor
    assert backoff_at(NOW, NOW - 10 * 60 * MIN, 3 * MIN) == NOW + POLL_CAP
    assert backoff_at(NOW, NOW - 40 * MIN, 3 * MIN, deadline=NOW + MIN) == NOW + MIN


def test_a_vm_being_created_is_looked_at_when_its_create_should_be_done():
    vm = _host("avd-2", "Creating", **{HOST_CREATED_TAG: NOW - MIN})
    assert next_look(_polling(), _inputs(vm), wrote=False) == NOW - MIN + VM_CREATE


def test_a_registering_host_backs_off_but_is_judged_at_its_health_deadline():
    sent = NOW - HEALTH + timedelta(seconds=20)  # its deadline is 20 s away
    vm = _host("avd-2", **{HOST_CREATED_TAG: sent - 5 * MIN, HOST_REGISTERED_TAG: sent})
    assert next_look(_polling(), _inputs(vm), wrote=False) == sent + HEALTH
    fresh = _host("avd-3", **{HOST_CREATED_TAG: NOW - 5 * MIN, HOST_REGISTERED_TAG: NOW - MIN})
    assert next_look(_polling(), _inputs(fresh), wrote=False) == NOW - MIN + REGISTRATION


def test_the_earliest_thing_in_flight_or_named_wait_wins():
    creating = _host("avd-2", "Creating", **{HOST_CREATED_TAG: NOW - MIN})
    registering = _host("avd-3", **{HOST_CREATED_TAG: NOW - 9 * MIN, HOST_REGISTERED_TAG: NOW - 4 * MIN})
    assert next_look(_polling(), _inputs(creating, registering), wrote=False) == NOW + MIN
    d = _polling()
    d.wait(NOW + timedelta(seconds=50), "a window opens")  # a wait the decision named
    assert next_look(d, _inputs(creating), wrote=False) == NOW + timedelta(seconds=50)
    on_poll = _polling()
    on_poll.wait(NOW + POLL, "drain grace ends")  # a named time that falls on the plain poll is kept
    assert next_look(on_poll, _inputs(creating), wrote=False) == NOW + POLL


def test_the_plain_poll_stays_when_a_start_is_unknown_or_the_cycle_wrote():
    creating = _host("avd-2", "Creating", **{HOST_CREATED_TAG: NOW - MIN})
    deleting = _host("avd-0", "Deleting")
    draining = _host("avd-1", **{HOST_DRAIN_TAG: NOW - MIN})
    joining = replace(_host("avd-4"), extensions={"join": "Creating"})
    for other in (deleting, draining, joining):
        assert next_look(_polling(), _inputs(creating, other), wrote=False) is None, other.name
    assert next_look(_polling(), _inputs(creating), wrote=True) is None
    named = Decision()
    named.wait(NOW + 10 * MIN, "a soak ends")  # not a plain poll: the decision knew when
    assert next_look(named, _inputs(creating), wrote=False) is None


def test_a_cycle_that_only_created_looks_when_the_create_should_be_done():
    # The new VM is not among the cycle's observed hosts: its create, sent now, is counted all the same, and
    # a create enables nothing before Azure finishes it, so it is no reason to keep the plain poll.
    d = _polling()
    d.steps.append(Step(StepOp.CREATE, "avd-9", CreateData("/v/2")))
    assert not may_enable_more(d.steps)
    assert next_look(d, _inputs(), wrote=may_enable_more(d.steps)) == NOW + VM_CREATE
    registering = _host("avd-3", **{HOST_CREATED_TAG: NOW - 9 * MIN, HOST_REGISTERED_TAG: NOW - 4 * MIN})
    assert next_look(d, _inputs(registering), wrote=False) == NOW + MIN  # whichever is due first
