"""The rollout preview's fast path gives the very timeline of the straightforward one.

The simulation keeps a host index up to date host by host and decide() reads it (planner/hosts_index.py);
the reference here is the simulation as it was written first: every cycle rebuilds the pool's host list and
runs decide() as it was before the index (tests/planner/reference_decide.py, a frozen copy). Pools are drawn
in every state a host can be in (coming up, Available, retiring, deleting, failed, not ours), with users,
replacement tags, names differing only in case, quarantines, gates, replication and maintenance windows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.model.rollout import (
    HOST_CREATED_TAG,
    HOST_DRAIN_TAG,
    HOST_FAILED_TAG,
    HOST_MESSAGED_TAG,
    HOST_POOL_TAG,
    HOST_REGISTERED_TAG,
    HOST_REPLACES_TAG,
    HOST_RETIRE_TAG,
    HOST_STAGE_TAG,
)
from reconciler.planner import timeline
from reconciler.planner.host_inputs import (
    AGENT_EXTENSION,
    JOIN_EXTENSION,
    READY,
    HostView,
    PoolInputs,
    PoolPolicy,
    UserSessionView,
)
from reconciler.planner.hosts import decide
from reconciler.planner.hosts_index import HostIndex

from . import reference_decide

NOW = datetime(2026, 11, 3, 22, 0, tzinfo=UTC)
V1, V2, V3 = "/x/versions/1.0.0", "/x/versions/2.0.0", "/x/versions/3.0.0"
EARLIER = (NOW - timedelta(minutes=50)).isoformat()
RECENT = (NOW - timedelta(minutes=5)).isoformat()

STATES = [
    "quiet",
    "quiet",
    "quiet",
    "creating",
    "provisioned",
    "joining",
    "joined",
    "agent",
    "registered",
    "late",
    "available-new",
    "retiring",
    "retiring-messaged",
    "deleting",
    "failed",
    "provision-failed",
    "extension-failed",
    "drained",
    "unavailable",
]


@st.composite
def host_views(draw, i: int, calm: bool) -> HostView:
    state = draw(
        st.sampled_from(["quiet", "quiet", "drained", "unavailable", *STATES[3:]] if calm else STATES)
    )
    name = draw(st.sampled_from([f"avd-{i}", f"avd-{i}", f"avd-{i}", f"AVD-{i % 3}"]))
    version = draw(st.sampled_from([V1, V1, V2, V3, None]))
    users = draw(st.integers(0, 2))
    sessions = tuple(UserSessionView(f"/s/{name}/{k}", f"u{k}") for k in range(users))
    tags: dict[str, str] = {HOST_POOL_TAG: "/pools/p"}
    if draw(st.booleans()):  # a replacement: mostly on the pin, of a host of the pool
        tags[HOST_REPLACES_TAG] = draw(
            st.sampled_from(["avd-0", "avd-1", "avd-2", "AVD-2", "avd-4", "avd-9"])
        )
        version = draw(st.sampled_from([V2, V2, V2, V1]))
    up = dict(session_host=f"{name}.corp", status="Available", accepting=True, sessions=sessions)
    ext = {JOIN_EXTENSION: "Succeeded", AGENT_EXTENSION: "Succeeded"}
    kw: dict = dict(provisioning="Succeeded", managed=draw(st.booleans()))
    if state == "quiet":
        kw.update(up, extensions=ext)
        tags[HOST_STAGE_TAG] = READY
    elif state == "creating":
        kw.update(provisioning="Creating", managed=True)
        tags[HOST_CREATED_TAG] = RECENT
    elif state in ("provisioned", "joining", "joined", "agent", "registered", "late", "available-new"):
        kw["managed"] = True
        tags[HOST_CREATED_TAG] = EARLIER
        kw["extensions"] = {
            "provisioned": {},
            "joining": {JOIN_EXTENSION: "Creating"},
            "joined": {JOIN_EXTENSION: "Succeeded"},
        }.get(state, {JOIN_EXTENSION: "Succeeded", AGENT_EXTENSION: "Creating"})
        if state in ("agent", "registered", "late", "available-new"):
            tags[HOST_REGISTERED_TAG] = EARLIER if state == "late" else RECENT
        if state == "registered":
            kw.update(session_host=f"{name}.corp", status="Unavailable")
        if state == "available-new":
            kw.update(up)
    elif state.startswith("retiring"):
        kw.update(up, extensions=ext, accepting=draw(st.booleans()))
        tags.update({HOST_STAGE_TAG: READY, HOST_RETIRE_TAG: "replaced", HOST_DRAIN_TAG: EARLIER})
        if state == "retiring-messaged":
            tags[HOST_MESSAGED_TAG] = RECENT
    elif state == "deleting":
        kw["provisioning"] = "Deleting"
    elif state == "failed":
        kw.update(up)
        tags[HOST_FAILED_TAG] = "failed"
    elif state == "provision-failed":
        kw.update(provisioning="Failed", managed=True)
        tags[HOST_CREATED_TAG] = EARLIER
    elif state == "extension-failed":
        kw.update(managed=True, extensions={JOIN_EXTENSION: "Failed"})
        tags[HOST_CREATED_TAG] = EARLIER
    elif state == "drained":
        kw.update(up, extensions=ext, accepting=False)
        tags[HOST_STAGE_TAG] = READY
    elif state == "unavailable":
        kw.update(up, extensions=ext, status="Unavailable")
        tags[HOST_STAGE_TAG] = READY
    return HostView(name=name, vm_id=f"/vms/{name}-{i}", version=version, tags=tags, **kw)


@st.composite
def pools(draw, dedupe: bool = True) -> tuple[PoolInputs, dict]:
    n = draw(st.integers(0, 9))
    calm = draw(st.booleans())  # most hosts settled: the pool mid-rollout, as most simulated cycles see it
    hosts = [draw(host_views(i, calm and draw(st.integers(0, 3)) > 0)) for i in range(n)]
    # Names are unique in a pool's world (the simulation keys hosts by name); case may still differ.
    # One decision may see a name twice (two resource groups): the index must order them as decide would.
    unique = list({h.name: h for h in hosts}.values()) if dedupe else hosts
    personal = draw(st.booleans())
    pol = PoolPolicy(
        count=draw(st.integers(0, 8)),
        strategy=draw(st.sampled_from(["surge", "delete-first"])),
        batch=draw(st.integers(1, 3)),
        floor_percent=draw(st.sampled_from([0, 50, 75, 100])),
        drain_grace=draw(st.sampled_from([timedelta(minutes=5), timedelta(minutes=45)])),
        force_logoff=draw(st.booleans()),
        user_message="bye",
        health_timeout=timedelta(minutes=45),
        failure_budget=draw(st.integers(0, 2)),
        on_failure=draw(st.sampled_from(["halt", "rollback"])),
        personal=personal,
    )
    quarantined = draw(st.sampled_from([None, None, None, None, V2]))
    target_ready = draw(st.sampled_from([True, True, True, False]))
    gate_ok = draw(st.sampled_from([True, True, True, False]))
    p = PoolInputs(
        pool_id="/pools/p",
        pool="p",
        now=NOW,
        policy=pol,
        hosts=tuple(sorted(unique, key=lambda h: h.name)) if dedupe else tuple(unique),
        ghosts=tuple(draw(st.lists(st.sampled_from(["ghost-a", "ghost-b"]), unique=True))),
        target=draw(st.sampled_from([V2, V2, V2, None])),
        target_ready=target_ready,
        last_good=draw(st.sampled_from([None, V1])),
        quarantined=quarantined,
        failures=(1, V2, "x") if quarantined else (0, "", ""),
        gate_ok=gate_ok,
        gate_until=None if gate_ok else draw(st.sampled_from([None, NOW + timedelta(hours=2)])),
        window_open=draw(st.sampled_from([True, True, False])),
        next_window=NOW + timedelta(hours=3),
        used_names=frozenset({"avd-3"}) if draw(st.booleans()) else frozenset(),
    )
    windowed = draw(st.booleans())
    kw = {
        "ready_at": None if target_ready or draw(st.booleans()) else NOW + timedelta(minutes=40),
        "gate_opens_at": None if gate_ok or draw(st.booleans()) else NOW + timedelta(hours=1),
        # Windows open for the first 4 hours of every 6 (a pure function of time, as window_of is).
        "window_at": (lambda at: ((at.hour % 6) < 4, None)) if windowed else None,
    }
    return p, kw


def _straightforward(p: PoolInputs, index: HostIndex | None = None):
    return reference_decide.decide(p)


@settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=pools())
def test_the_indexed_simulation_is_the_straightforward_one(case):
    p, kw = case
    fast = timeline.simulate_rollout(p, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(timeline, "decide", _straightforward)
        slow = timeline.simulate_rollout(p, incremental=False, **kw)
    assert fast == slow


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=pools(dedupe=False))
def test_decide_with_an_index_is_decide_without(case):
    """One decision (apply's case: the index built from the hosts) equals the straightforward decision."""
    p, _ = case
    assert decide(p) == reference_decide.decide(p)
    assert decide(p, HostIndex.of(p.hosts)) == reference_decide.decide(p)


def _settled(name: str, version: str, **kw) -> HostView:
    tags = {HOST_STAGE_TAG: READY, **kw.pop("tags", {})}
    base = dict(session_host=f"{name}.corp", status="Available", managed=True)
    return HostView(name, f"/vms/{name}", version, "Succeeded", tags, **{**base, **kw})


def _policy(**kw) -> PoolPolicy:
    base = dict(
        count=2,
        strategy="surge",
        batch=1,
        floor_percent=100,
        drain_grace=timedelta(minutes=30),
        force_logoff=True,
        user_message="bye",
        health_timeout=timedelta(minutes=45),
        failure_budget=0,
    )
    return PoolPolicy(**{**base, **kw})


@pytest.mark.parametrize(
    "policy, hosts",
    [
        # delete-first at the floor: only a host that takes no sessions may go, and it goes first
        (
            _policy(strategy="delete-first"),
            (_settled("avd-0", V1), _settled("avd-1", V1), _settled("avd-2", V1, accepting=False)),
        ),
        # two replacements of one host: the last in pool order is the one that counts
        (
            _policy(count=1, floor_percent=0),
            (
                _settled("avd-0", V1),
                _settled("avd-1", V2, tags={HOST_REPLACES_TAG: "avd-0"}),
                _settled("avd-2", V2, status="Unavailable", tags={HOST_REPLACES_TAG: "avd-0"}),
            ),
        ),
        # a replacement listed before the host it replaces
        (
            _policy(count=1, floor_percent=0),
            (_settled("avd-0", V2, tags={HOST_REPLACES_TAG: "avd-1"}), _settled("avd-1", V1)),
        ),
    ],
)
def test_cases_the_draws_rarely_reach(policy, hosts):
    p = PoolInputs(pool_id="/pools/p", pool="p", now=NOW, policy=policy, hosts=hosts, target=V2)
    assert decide(p) == reference_decide.decide(p)
    fast = timeline.simulate_rollout(p)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(timeline, "decide", _straightforward)
        assert fast == timeline.simulate_rollout(p, incremental=False)
