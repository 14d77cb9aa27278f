"""stale_reasons over a real plan: users coming and going never make it stale; a configuration change, or a
resource that disappeared, does, in one line naming the resource and the field. Pure: no sandbox."""

from __future__ import annotations

import pytest
from e2e.plan_estate import PoolHosts, converged

from reconciler.engine.stale import stale_reasons
from reconciler.model.plan import Action, Plan, PlanFormatError
from reconciler.planner import plan
from reconciler.planner.limit import limit_plan

from .conftest import NOW, POOL_ID, base_docs, find, observed_from, pool_doc


@pytest.fixture
def estate(load):
    """pool-a rolls 1.0.0 → 1.1.0 with users signed in; pool-b (converged) needs two more hosts."""
    desired = load(base_docs(pools=[pool_doc(), pool_doc(name="pool-b", version="1.1.0", count=3)]))
    hosts = {"pool-a": PoolHosts(4, version="1.0.0", sessions=[2, 1, 0, 3]), "pool-b": PoolHosts(1)}
    resources = converged(desired, NOW, hosts=hosts)
    saved = plan(desired, observed_from(resources), NOW)
    assert {(c.action, c.name) for c in saved.actionable} >= {
        (Action.ROLL, "pool-a"),
        (Action.CREATE, "sessionHosts"),
    }
    return Plan.from_dict(saved.to_dict()), resources


def _hosts(resources, pool="pool-a"):
    return [r for r in resources if r["type"].endswith("/sessionHosts") and f"/hostPools/{pool}/" in r["id"]]


def test_users_coming_and_going_do_not_make_a_plan_stale(estate):
    saved, resources = estate
    assert any("/sessionhosts/" in rid for rid in saved.fingerprints)
    sessions = [r for r in resources if r["type"].endswith("/userSessions")]
    later = [r for r in resources if r not in sessions[:3]]  # three users signed out...
    for host in _hosts(later):
        p = host["properties"]
        p.update(
            sessions=p["sessions"] + 2,
            lastHeartBeat="2026-11-29T12:09:00Z",
            status="Unavailable",
            statusTimestamp="2026-11-29T12:09:00Z",
            agentVersion="1.0.2",
            updateState="Started",
        )
    for vm in (r for r in later if r["type"].endswith("/virtualMachines")):
        vm["properties"]["provisioningState"] = "Updating"
    assert stale_reasons(saved, observed_from(later)) == []


def test_a_changed_max_session_limit_is_named_with_its_value_now(estate):
    saved, resources = estate
    find(resources, "hostPools/pool-a")["properties"]["maxSessionLimit"] = 3
    assert stale_reasons(saved, observed_from(resources)) == [
        f"{POOL_ID.lower()}: changed since the plan was made: maxSessionLimit (now 3)"
    ]


def test_a_host_drained_by_hand_is_named(estate):
    saved, resources = estate
    host = _hosts(resources)[1]
    host["properties"]["allowNewSession"] = False
    assert stale_reasons(saved, observed_from(resources)) == [
        f"{host['id'].lower()}: changed since the plan was made: allowNewSession (now false)"
    ]


def test_a_deleted_vm_makes_its_host_stale_and_says_so_once(estate):
    saved, resources = estate
    host = _hosts(resources)[0]
    vm_id = host["properties"]["resourceId"]
    left = [r for r in resources if r["id"] != vm_id]
    assert stale_reasons(saved, observed_from(left)) == [
        f"{host['id'].lower()}: changed since the plan was made: vm (now absent)"
    ]


def test_a_deleted_host_and_a_host_of_a_pool_that_counts_up(estate):
    saved, resources = estate
    gone = _hosts(resources)[2]
    b_host = _hosts(resources, "pool-b")[0]
    b_host["properties"]["assignedUser"] = "ann@corp.example"
    reasons = stale_reasons(saved, observed_from([r for r in resources if r is not gone]))
    assert reasons == sorted(
        [
            f"{gone['id'].lower()}: deleted since the plan was made",
            f'{b_host["id"].lower()}: changed since the plan was made: assignedUser (now "ann@corp.example")',
        ]
    )


def test_version_replication_in_flight_does_not_count_but_its_target_regions_do(estate):
    saved, resources = estate
    version = find(resources, "versions/1.1.0")
    version["properties"]["provisioningState"] = "Updating"
    version["properties"]["replicationStatus"] = {
        "summary": [{"region": "westeurope", "state": "Replicating"}]
    }
    assert stale_reasons(saved, observed_from(resources)) == []
    version["properties"]["publishingProfile"]["targetRegions"].append({"name": "northeurope"})
    [reason] = stale_reasons(saved, observed_from(resources))
    assert reason.startswith(f"{version['id'].lower()}: changed since the plan was made: ")
    assert "publishingProfile.targetRegions (now [" in reason


def test_limit_keeps_the_fingerprints_of_the_pool_it_keeps(estate):
    saved, _ = estate
    limited = limit_plan(saved, ["host-pool/pool-a"])
    a_hosts = {rid for rid in saved.fingerprints if "/hostpools/pool-a/sessionhosts/" in rid}
    assert len(a_hosts) == 4 and a_hosts <= set(limited.fingerprints)
    assert not any("/hostpools/pool-b/" in rid for rid in limited.fingerprints)
    assert set(limited.fingerprint_fields) <= set(limited.fingerprints)


def test_a_plan_of_format_1_is_refused_with_the_reason(estate):
    saved, _ = estate
    data = saved.to_dict()
    data["format_version"] = 1
    with pytest.raises(PlanFormatError, match="older reconciler.*run `reconcile plan` again"):
        Plan.from_dict(data)
