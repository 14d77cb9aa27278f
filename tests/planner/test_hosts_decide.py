"""The session-host decision (reconciler.planner.hosts.decide) as tables of cases and properties: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.rollout import (
    HOST_CREATED_TAG,
    HOST_DRAIN_TAG,
    HOST_MESSAGED_TAG,
    HOST_REGISTERED_TAG,
    HOST_REPLACES_TAG,
    HOST_RETIRE_TAG,
    HOST_STAGE_TAG,
)
from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy, UserSessionView
from reconciler.planner.host_names import next_name
from reconciler.planner.host_retirement import message_due
from reconciler.planner.host_steps import CreateData
from reconciler.planner.hosts import decide

NOW = datetime(2026, 11, 3, 22, 0, tzinfo=UTC)
V1, V2 = "/x/versions/1.0.0", "/x/versions/2.0.0"


def policy(**kw) -> PoolPolicy:
    base = dict(
        count=4,
        strategy="surge",
        batch=2,
        floor_percent=75,
        drain_grace=timedelta(minutes=30),
        force_logoff=True,
        user_message="bye",
        health_timeout=timedelta(minutes=45),
        failure_budget=0,
        prefix="avd",
    )
    return PoolPolicy(**{**base, **kw})


def host(name, version=V1, status="Available", sessions=0, managed=False, **tags) -> HostView:
    return HostView(
        name=name,
        vm_id=f"/vms/{name}",
        version=version,
        provisioning="Succeeded",
        tags={k.replace("_", "-"): v for k, v in tags.items()},
        session_host=f"{name}.corp",
        status=status,
        sessions=tuple(UserSessionView(f"/s/{name}/{i}", f"u{i}") for i in range(sessions)),
        managed=managed,
    )


def inputs(hosts, pol=None, **kw) -> PoolInputs:
    return PoolInputs(
        pool_id="/pools/p", pool="p", now=NOW, policy=pol or policy(), hosts=tuple(hosts), target=V2, **kw
    )


def ops(decision) -> list[tuple[str, str | None]]:
    return [(s.op, s.host) for s in decision.steps]


def test_provisioning_from_nothing_creates_count_hosts_named_by_index():
    d = decide(inputs([], policy(count=3)))
    assert ops(d) == [("create", "avd-0"), ("create", "avd-1"), ("create", "avd-2")]
    assert all(s.data.version == V2 for s in d.steps)
    assert d.mode == "provisioning" and d.state == "progressing"


def test_surge_creates_one_batch_of_replacements_first():
    hosts = [host(f"avd-{i}", sessions=i) for i in range(4)]
    d = decide(inputs(hosts))
    assert ops(d) == [("create", "avd-4"), ("create", "avd-5")]
    assert [s.data.replaces for s in d.steps] == ["avd-0", "avd-1"]  # fewest sessions first


def test_surge_retires_an_original_once_its_replacement_is_available():
    ready = {HOST_STAGE_TAG: "ready", HOST_REPLACES_TAG: "avd-0", HOST_CREATED_TAG: NOW.isoformat()}
    hosts = [host(f"avd-{i}") for i in range(4)] + [
        HostView("avd-4", "/vms/avd-4", V2, "Succeeded", ready, "avd-4.corp", "Available", managed=True)
    ]
    d = decide(inputs(hosts))
    assert ("retire", "avd-0") in ops(d) and ("remove", "avd-0") in ops(d)  # empty: removed at once
    creates = [s.data.replaces for s in d.steps if s.op == "create"]
    assert creates == ["avd-1"]  # avd-0 still exists until deleted: 5 VMs + 1 = count + surge, no more


def test_delete_first_takes_out_no_more_than_the_floor_allows():
    hosts = [host(f"avd-{i}", sessions=3 - i) for i in range(4)]
    d = decide(inputs(hosts, policy(strategy="delete-first", batch=2, floor_percent=75)))
    assert [h for op, h in ops(d) if op == "retire"] == ["avd-3"]  # 4 Available, floor 3: one at a time
    assert not [s for s in d.steps if s.op == "create"]  # no room until it is gone


def test_outside_the_window_nothing_is_drained():
    opens = NOW + timedelta(hours=3)
    d = decide(inputs([host(f"avd-{i}") for i in range(4)], window_open=False, next_window=opens))
    assert not [s for s in d.steps if s.op in ("retire", "drain", "logoff", "create")]
    assert (opens, f"next maintenance window opens {opens.isoformat()}") in d.waits


def test_logoff_only_after_grace_and_only_with_force_logoff():
    drained = (NOW - timedelta(minutes=29)).isoformat()
    h = host(
        "avd-0",
        sessions=2,
        **{HOST_DRAIN_TAG: drained, HOST_RETIRE_TAG: "replaced", HOST_MESSAGED_TAG: drained},
    )
    h = HostView(
        **{
            **h.__dict__,
            "tags": {HOST_DRAIN_TAG: drained, HOST_RETIRE_TAG: "replaced", HOST_MESSAGED_TAG: drained},
            "accepting": False,
        }
    )
    others = [host(f"avd-{i}", version=V2) for i in range(1, 5)]
    assert "logoff" not in [op for op, _ in ops(decide(inputs([h, *others])))]
    later = PoolInputs(**{**inputs([h, *others]).__dict__, "now": NOW + timedelta(minutes=1)})
    assert ("logoff", "avd-0") in ops(decide(later))
    polite = PoolInputs(**{**later.__dict__, "policy": policy(force_logoff=False)})
    assert "logoff" not in [op for op, _ in ops(decide(polite))]


def test_messages_repeat_as_the_deadline_nears():
    deadline = NOW + timedelta(minutes=60)
    h = host("avd-0")
    assert message_due(h, deadline, timedelta(minutes=60), NOW) == NOW  # at drain
    sent = HostView(**{**h.__dict__, "tags": {HOST_MESSAGED_TAG: NOW.isoformat()}})
    assert message_due(sent, deadline, timedelta(minutes=60), NOW) == deadline - timedelta(minutes=30)


def test_a_new_host_past_the_health_timeout_is_counted_removed_and_quarantines_past_budget():
    old = (NOW - timedelta(minutes=50)).isoformat()
    tags = {HOST_CREATED_TAG: old, HOST_REGISTERED_TAG: old, HOST_REPLACES_TAG: "avd-0"}
    new = HostView("avd-4", "/vms/avd-4", V2, "Succeeded", tags, "avd-4.corp", "Unavailable", managed=True)
    d = decide(inputs([host(f"avd-{i}") for i in range(4)] + [new]))
    assert ops(d)[:4] == [
        ("count-failure", "avd-4"),
        ("mark-failed", "avd-4"),
        ("quarantine", None),
        ("remove", "avd-4"),
    ]
    marked = d.steps[1].data
    assert marked.check == "timeout" and marked.text == (
        "not Available within the health timeout (45m) after the AVD agent was sent"
    )
    assert not [s for s in d.steps if s.op == "create"]  # halted: no new tries
    again = decide(inputs([host(f"avd-{i}") for i in range(4)], quarantined=V2, failures=(1, V2, "x")))
    assert again.state == "halted" and not again.steps


def test_the_health_timeout_waits_for_the_reconcilers_part():
    """A VM created long ago whose join/agent the reconciler never sent (apply killed, slow, not running) is
    not failed: the next cycle does its part. The clock starts when the agent is sent."""
    long_ago = (NOW - timedelta(hours=6)).isoformat()
    bare = HostView("avd-4", "/vms/avd-4", V2, "Succeeded", {HOST_CREATED_TAG: long_ago}, managed=True)
    d = decide(inputs([host(f"avd-{i}", version=V2) for i in range(4)] + [bare], policy(count=5)))
    assert ops(d) == [("join", "avd-4")]
    joined = HostView(**{**bare.__dict__, "extensions": {"join": "Succeeded"}})
    assert ops(
        decide(inputs([host(f"avd-{i}", version=V2) for i in range(4)] + [joined], policy(count=5)))
    ) == [("register", "avd-4")]
    # Agent sent, its stamp lost with a killed apply: stamped now (late, never early), not failed.
    sent = HostView(**{**joined.__dict__, "extensions": {"join": "Succeeded", "avd-agent": "Creating"}})
    assert ops(
        decide(inputs([host(f"avd-{i}", version=V2) for i in range(4)] + [sent], policy(count=5)))
    ) == [("stamp-registered", "avd-4")]


def test_a_failed_extension_names_the_extension_and_its_error():
    ext = HostView(
        "avd-4",
        "/vms/avd-4",
        V2,
        "Succeeded",
        {HOST_CREATED_TAG: NOW.isoformat()},
        managed=True,
        extensions={"join": "Failed"},
        extension_errors={"join": ("VMExtensionProvisioningError", "domain unreachable")},
    )
    d = decide(inputs([host(f"avd-{i}") for i in range(4)] + [ext]))
    [marked] = [s.data for s in d.steps if s.op == "mark-failed"]
    assert marked.check == "extension" and marked.extension == "join"
    assert marked.text == "extension join failed (VMExtensionProvisioningError: domain unreachable)"


def test_a_name_in_use_is_never_reused():
    assert next_name("avd", {"avd-0", "avd-1", "avd-3"}) == "avd-2"


@settings(max_examples=200, deadline=None)
@given(
    n_old=st.integers(0, 8),
    n_new=st.integers(0, 4),
    count=st.integers(1, 8),
    batch=st.integers(1, 4),
    floor=st.integers(0, 100),
    strategy=st.sampled_from(["surge", "delete-first"]),
    sessions=st.lists(st.integers(0, 3), min_size=12, max_size=12),
)
def test_never_above_count_plus_surge_and_never_below_floor(
    n_old, n_new, count, batch, floor, strategy, sessions
):
    pol = policy(count=count, batch=batch, floor_percent=floor, strategy=strategy)
    hosts = [host(f"avd-{i}", sessions=sessions[i]) for i in range(n_old)]
    hosts += [host(f"avd-{n_old + i}", version=V2, sessions=sessions[n_old + i]) for i in range(n_new)]
    d = decide(inputs(hosts, pol))
    creates = sum(1 for s in d.steps if s.op == "create")
    assert len(hosts) + creates <= max(len(hosts), count + pol.surge)
    retired = {s.host for s in d.steps if s.op == "retire"}
    available = sum(1 for h in hosts if h.accepting_available)
    if retired:
        assert available - len(retired) >= pol.floor_hosts


def test_count_up_24_hosts_while_pin_moves():
    """6 hosts on 1.0.0, `count: 24`, pin moved to 2.0.0: the 18 added hosts are built on 2.0.0 at once (never
    on 1.0.0 to be replaced later), alongside the first surge batch of replacements, within count + surge."""
    hosts = [host(f"avd-{i}", sessions=1) for i in range(6)]
    pol = policy(count=24, batch=2, floor_percent=75)
    d = decide(inputs(hosts, pol))
    creates = [s for s in d.steps if s.op == "create"]
    assert all(s.data.version == V2 for s in creates)
    assert len([s for s in creates if not s.data.replaces]) == 18
    assert [s.data.replaces for s in creates if s.data.replaces] == ["avd-0", "avd-1"]
    assert len(hosts) + len(creates) == pol.count + pol.surge
    assert not [s for s in d.steps if s.op == "retire"]  # capacity first: nothing drained yet
    # Gated (the ring before has not soaked): added capacity still goes on the pin, replacements wait.
    gated = decide(inputs(hosts, pol, gate_ok=False, gate_why="waits for ring 0"))
    assert [s.data for s in gated.steps if s.op == "create"] == [CreateData(V2)] * 18
    assert gated.mode == "gated"
    # Not replicated to the region yet: nothing is built on the old version; the hosts wait for the pin.
    waiting = decide(inputs(hosts, pol, target_ready=False))
    assert not [s for s in waiting.steps if s.op == "create"] and waiting.mode == "waiting-replication"
    # Delete-first: no surge, so the 18 come first and the old hosts go only once capacity allows.
    delete_first = decide(inputs(hosts, policy(count=24, batch=2, floor_percent=75, strategy="delete-first")))
    assert [s.data for s in delete_first.steps if s.op == "create"] == [CreateData(V2)] * 18
    assert not [s for s in delete_first.steps if s.op == "retire"]


def test_a_vm_left_failed_by_a_tag_patch_is_not_a_failed_host():
    """ARM shows a VM whose PATCH failed as Failed, like a failed create. Once the agent was sent (the create
    had succeeded), that is not the host failing: nothing is counted or removed, and the ready mark (a PATCH
    that succeeds) goes out when the host is Available. A VM Failed before that is a failed create."""
    sent = (NOW - timedelta(minutes=5)).isoformat()
    tags = {HOST_CREATED_TAG: sent, HOST_REGISTERED_TAG: sent}
    patched = HostView("avd-4", "/vms/avd-4", V2, "Failed", tags, managed=True)
    peers = [host(f"avd-{i}", version=V2) for i in range(4)]
    d = decide(inputs([*peers, patched], policy(count=5)))
    assert ops(d) == []  # waits for it to register: no join sent again, nothing counted
    up = HostView(**{**patched.__dict__, "session_host": "avd-4.corp", "status": "Available"})
    assert ops(decide(inputs([*peers, up], policy(count=5)))) == [("ready", "avd-4")]
    created = HostView("avd-4", "/vms/avd-4", V2, "Failed", {HOST_CREATED_TAG: sent}, managed=True)
    assert ops(decide(inputs([*peers, created], policy(count=5))))[:2] == [
        ("count-failure", "avd-4"),
        ("mark-failed", "avd-4"),
    ]
