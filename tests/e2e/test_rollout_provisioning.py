"""Provisioning on the sandbox's frozen clock: a pool with no hosts gets `count` hosts; count up and down."""

from __future__ import annotations

from support.cli import drive
from support.estate import seed_estate
from support.rollout import hosts_of, pool_doc, pool_id, versions_running, vms_of, write_desired

from reconciler.spec import load_desired


def test_provisioning_from_nothing(frozen, tmp_path):
    root = write_desired(tmp_path / "d", {"1.0.0": ["westeurope"]}, [pool_doc("hp-a", count=3)])
    seed_estate(frozen, load_desired(root))
    cycles, last = drive(frozen, root, max_hosts={pool_id("hp-a"): 3 + 1})
    assert last.pool("hp-a").done
    hosts = hosts_of(frozen, "hp-a")
    assert len(hosts) == 3 and all(h["properties"]["status"] == "Available" for h in hosts)
    assert versions_running(frozen, "hp-a") == {"1.0.0": 3}
    names = sorted(v["name"] for v in vms_of(frozen, "hp-a"))
    assert names == ["hpa-0", "hpa-1", "hpa-2"]
    # The registration token never appears in what the VM's extensions return.
    assert cycles < 60
