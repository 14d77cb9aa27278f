"""What a rollout waits for: a ring gate with soak, a version not yet replicated to the pool's region; and a
personal pool whose replacements keep each host's assigned user."""

from __future__ import annotations

from datetime import datetime, timedelta

from support.cli import apply_pass, drive
from support.estate import seed_estate
from support.rollout import (
    SUB,
    VERSION_PREFIX,
    hosts_of,
    pool_doc,
    pool_id,
    versions_running,
    vms_of,
    write_desired,
)

from reconciler.model.tags import ROLLED_OUT_TAG, parse_rolled_out
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def test_ring_waits_for_soak(frozen, tmp_path):
    ring = {"batchSize": 1, "capacityFloor": 50}
    gated = {**ring, "gate": {"after": "hp-canary", "soak": "6h"}}

    def docs(version):
        return [
            pool_doc("hp-canary", count=2, version=version, rollout=ring, prefix="canary"),
            pool_doc("hp-prod", count=2, version=version, rollout=gated, prefix="prod"),
        ]

    root = write_desired(tmp_path / "d", VERSIONS, docs("1.0.0"))
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    write_desired(root, VERSIONS, docs("2.0.0"))
    prod_started = []
    prod_waits = set()

    def watch(cycle, result):
        if "2.0.0" in versions_running(frozen, "hp-prod") and not prod_started:
            prod_started.append(frozen.now())
        if not prod_started and result.pool("hp-prod").waiting:
            prod_waits.add(result.pool("hp-prod").reason_code)

    drive(frozen, root, on_cycle=watch)
    stamp = parse_rolled_out(frozen.get(pool_id("hp-canary"))["tags"][ROLLED_OUT_TAG])
    assert stamp[0] == (VERSION_PREFIX + "2.0.0").lower()
    assert "soak" in prod_waits, prod_waits  # the recap named the wait for what it was
    soaked = datetime.fromisoformat(stamp[1]) + timedelta(hours=6)
    assert prod_started and prod_started[0] >= soaked
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}


def test_unreplicated_version_delays_instead_of_failing(frozen, tmp_path):
    rollout = {"batchSize": 1, "capacityFloor": 50}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-x", count=2, rollout=rollout)])
    frozen.configure(replication_seconds=4 * 3600)
    seed_estate(frozen, load_desired(root), replicating={"2.0.0": ["westeurope"]})
    drive(frozen, root)
    write_desired(root, VERSIONS, [pool_doc("hp-x", count=2, version="2.0.0", rollout=rollout)])
    for _ in range(5):
        result = apply_pass(frozen, root).pool("hp-x")
        # The pin waits for the region (the roll after it): a wait named for what it is, not a failure.
        assert result.waiting and result.reason_code == "replication", result
        assert "westeurope" in result.why
        frozen.advance(600)
    assert versions_running(frozen, "hp-x") == {"1.0.0": 2}
    # A fresh apply polls the region again 5 s on (it has no backoff history), so rather than thousands of
    # passes the clock moves past the replication's end; then the rollout runs.
    frozen.advance(4 * 3600)
    _, last = drive(frozen, root)
    assert last.pool("hp-x").done
    assert versions_running(frozen, "hp-x") == {"2.0.0": 2}


def test_personal_pool_keeps_assigned_users(frozen, conn, tmp_path):
    rollout = {"strategy": "delete-first", "batchSize": 1, "capacityFloor": 0}
    root = write_desired(
        tmp_path / "d", VERSIONS, [pool_doc("hp-p", count=2, rollout=rollout, type_="Personal")]
    )
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    avd = conn.desktop(SUB)  # a person assigns each host to its user, with the SDK as the portal would
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
    drive(frozen, root, max_hosts={pool_id("hp-p"): 3})
    assert versions_running(frozen, "hp-p") == {"2.0.0": 2}
    after = {h["properties"]["assignedUser"] for h in hosts_of(frozen, "hp-p")}
    assert after == set(users)
    replaced = {v["tags"].get("avd-reconciler-replaces") for v in vms_of(frozen, "hp-p")}
    assert replaced == {"hpp-0", "hpp-1"}  # each new host names the host whose user it took over
