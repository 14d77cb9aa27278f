"""Rolling replacement on the sandbox's frozen clock: surge and delete-first, count up and down.

Every cycle checks the sandbox invariants (no orphan disk/NIC, no ghost, never more than count + surge hosts);
the capacity floor is checked on the sandbox's own timeline of Available-and-accepting hosts."""

from __future__ import annotations

from support.cli import drive
from support.estate import seed_estate
from support.rollout import (
    hosts_of,
    min_available_after,
    pool_doc,
    pool_id,
    versions_running,
    vms_of,
    write_desired,
)

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def _provision(sb, root, pool: str, count: int, cap: int):
    seed_estate(sb, load_desired(root))
    drive(sb, root, max_hosts={pool_id(pool): cap})
    assert versions_running(sb, pool) == {"1.0.0": count}
    return sb.now().isoformat()


def test_surge_rollout_keeps_capacity_and_bound(frozen, tmp_path):
    rollout = {"strategy": "surge", "batchSize": 2, "capacityFloor": 100}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-s", count=4, rollout=rollout)])
    since = _provision(frozen, root, "hp-s", 4, 6)
    old_names = {v["name"] for v in vms_of(frozen, "hp-s")}
    write_desired(root, VERSIONS, [pool_doc("hp-s", count=4, version="2.0.0", rollout=rollout)])
    _, last = drive(frozen, root, max_hosts={pool_id("hp-s"): 6})
    assert last.pool("hp-s").done
    assert versions_running(frozen, "hp-s") == {"2.0.0": 4}
    assert len(hosts_of(frozen, "hp-s")) == 4
    assert min_available_after(frozen, "hp-s", since) >= 4  # surge: never below 100 %
    new_names = {v["name"] for v in vms_of(frozen, "hp-s")}
    # Replacements never took a name still in use: the first two had to avoid all four originals.
    assert {"hps-4", "hps-5"} <= new_names and len(new_names) == 4
    assert old_names == {"hps-0", "hps-1", "hps-2", "hps-3"}


def test_delete_first_rollout_respects_floor_and_count(frozen, tmp_path):
    rollout = {"strategy": "delete-first", "batchSize": 2, "capacityFloor": 50}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-d", count=4, rollout=rollout)])
    since = _provision(frozen, root, "hp-d", 4, 4)
    write_desired(root, VERSIONS, [pool_doc("hp-d", count=4, version="2.0.0", rollout=rollout)])
    drive(frozen, root, max_hosts={pool_id("hp-d"): 4})
    assert versions_running(frozen, "hp-d") == {"2.0.0": 4}
    low = min_available_after(frozen, "hp-d", since)
    assert low == 2  # took two out at a time, never more


def test_count_up_then_down(frozen, tmp_path):
    rollout = {"capacityFloor": 50}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-c", count=2, rollout=rollout)])
    _provision(frozen, root, "hp-c", 2, 3)
    write_desired(root, VERSIONS, [pool_doc("hp-c", count=5, rollout=rollout)])
    drive(frozen, root, max_hosts={pool_id("hp-c"): 6})
    assert versions_running(frozen, "hp-c") == {"1.0.0": 5}
    write_desired(root, VERSIONS, [pool_doc("hp-c", count=2, rollout=rollout)])
    drive(frozen, root)
    assert versions_running(frozen, "hp-c") == {"1.0.0": 2}
    assert len(hosts_of(frozen, "hp-c")) == 2
