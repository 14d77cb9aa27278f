"""What a rollout waits for: a ring gate with soak, a version not yet replicated to the pool's region; and a
personal pool whose replacements keep each host's assigned user."""

from __future__ import annotations

from datetime import timedelta

from e2e.rollout_support import (
    SUB,
    VERSION_PREFIX,
    connect,  # noqa: F401
    drive,
    hosts_of,
    pool_doc,
    pool_id,
    seed_estate,
    versions_running,
    vms_of,
    write_desired,
)
from reconciler.engine.outcome import Done, WaitUntil
from reconciler.engine.rollout import converge_pools
from reconciler.model.tags import ROLLED_OUT_TAG, parse_rolled_out
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def test_ring_waits_for_soak(frozen, conn, tmp_path):
    ring = {"batchSize": 1, "capacityFloor": 50}
    gated = {**ring, "gate": {"after": "hp-canary", "soak": "6h"}}

    def docs(version):
        return [
            pool_doc("hp-canary", count=2, version=version, rollout=ring, prefix="canary"),
            pool_doc("hp-prod", count=2, version=version, rollout=gated, prefix="prod"),
        ]

    root = write_desired(tmp_path / "d", VERSIONS, docs("1.0.0"))
    seed_estate(frozen, load_desired(root))
    drive(frozen, root, conn)
    write_desired(root, VERSIONS, docs("2.0.0"))
    prod_started = []

    def watch(cycle, results):
        if "2.0.0" in versions_running(frozen, "hp-prod") and not prod_started:
            prod_started.append(frozen.now())

    drive(frozen, root, conn, on_cycle=watch)
    stamp = parse_rolled_out(frozen.get(pool_id("hp-canary"))["tags"][ROLLED_OUT_TAG])
    assert stamp[0] == (VERSION_PREFIX + "2.0.0").lower()
    from datetime import datetime

    soaked = datetime.fromisoformat(stamp[1]) + timedelta(hours=6)
    assert prod_started and prod_started[0] >= soaked
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}


def test_unreplicated_version_delays_instead_of_failing(frozen, conn, tmp_path):
    rollout = {"batchSize": 1, "capacityFloor": 50}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-x", count=2, rollout=rollout)])
    frozen.configure(replication_seconds=4 * 3600)
    seed_estate(frozen, load_desired(root), replicating={"2.0.0": ["westeurope"]})
    drive(frozen, root, conn)
    write_desired(root, VERSIONS, [pool_doc("hp-x", count=2, version="2.0.0", rollout=rollout)])
    desired = load_desired(root)
    for _ in range(5):
        result = converge_pools(desired, desired.host_pools, conn)[0]
        assert isinstance(result.outcome, WaitUntil) and "not replicated" in result.outcome.why
        assert result.decision.mode == "waiting-replication"
        frozen.advance(600)
    assert versions_running(frozen, "hp-x") == {"1.0.0": 2}
    _, results = drive(frozen, root, conn)  # replication completes meanwhile; then the rollout runs
    assert isinstance(results[0].outcome, Done)
    assert versions_running(frozen, "hp-x") == {"2.0.0": 2}


def test_personal_pool_keeps_assigned_users(frozen, conn, tmp_path):
    rollout = {"strategy": "delete-first", "batchSize": 1, "capacityFloor": 0}
    root = write_desired(
        tmp_path / "d", VERSIONS, [pool_doc("hp-p", count=2, rollout=rollout, type_="Personal")]
    )
    seed_estate(frozen, load_desired(root))
    drive(frozen, root, conn)
    avd = conn.desktop(SUB)
    from azure.mgmt.desktopvirtualization.models import SessionHostPatch

    users = {}
    for i, host in enumerate(sorted(hosts_of(frozen, "hp-p"), key=lambda h: h["name"])):
        name = host["name"].split("/")[-1]
        user = f"doctor{i}@corp.example"
        avd.session_hosts.update("rg-pools", "hp-p", name, session_host=SessionHostPatch(assigned_user=user))
        users[user] = name
    write_desired(
        root, VERSIONS, [pool_doc("hp-p", count=2, version="2.0.0", rollout=rollout, type_="Personal")]
    )
    drive(frozen, root, conn, max_hosts={pool_id("hp-p"): 3})
    assert versions_running(frozen, "hp-p") == {"2.0.0": 2}
    after = {h["properties"]["assignedUser"] for h in hosts_of(frozen, "hp-p")}
    assert after == set(users)
    replaced = {v["tags"].get("avd-reconciler-replaces") for v in vms_of(frozen, "hp-p")}
    assert replaced == {"hpp-0", "hpp-1"}  # each new host names the host whose user it took over
