"""A failed session host spends its pool's failure budget once, even when its delete fails after another host's
failure was counted (found by the fault campaign, seed 2026: hp-corp-general halted at "3 failed host(s),
budget 2" with two failed creates; its last failure named avdcorp-41 a second time).

Two replacement VMs fail to allocate; the first one's delete then fails too (Azure shows the VM Failed and the
DELETE is sent again). The production entry point (`reconcile apply --wait none` passes, support.cli.drive) on
the frozen sandbox clock."""

from __future__ import annotations

from collections import Counter

from support.cli import drive
from support.estate import seed_estate
from support.rollout import pool_doc, pool_id, versions_running, vms_of, write_desired
from support.sandbox import stored

from reconciler.model.rollout import POOL_FAILURES_TAG, parse_failures
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
ROLLOUT = {"failureBudget": 2, "batchSize": 2, "capacityFloor": 50}


def _vm_deletes(sb) -> Counter:
    """VM id -> DELETEs sent (extensions and disks apart)."""
    return Counter(
        e["id"].lower()
        for e in sb.audit()["entries"]
        if e["method"] == "DELETE"
        and "/virtualmachines/" in e["id"].lower()
        and "/extensions/" not in e["id"].lower()
    )


def test_a_failed_host_whose_delete_fails_is_not_counted_again(frozen, tmp_path):
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-f", count=2, rollout=ROLLOUT)])
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    assert versions_running(frozen, "hp-f") == {"1.0.0": 2}
    old = {v["name"].lower() for v in vms_of(frozen, "hp-f")}
    before = _vm_deletes(frozen)
    # Both replacements fail to allocate; the first VM delete of the rollout (the first failed host's) fails.
    frozen.inject_fault(
        method="PUT", path=r"virtualMachines/hpf-[0-9]+$", kind="lro", code="AllocationFailed", count=2
    )
    frozen.inject_fault(
        method="DELETE",
        path=r"virtualMachines/hpf-[0-9]+$",
        kind="lro",
        code="InternalExecutionError",
        count=1,
    )
    write_desired(root, VERSIONS, [pool_doc("hp-f", count=2, version="2.0.0", rollout=ROLLOUT)])
    _, last = drive(frozen, root, max_hosts={pool_id("hp-f"): 4}, max_cycles=120)

    failed_delete = [r for r in frozen._app().faults.rules if r["method"] == "DELETE"][0]
    assert failed_delete["hits"] == 1, "the failed delete this test is about did not happen"
    pool = next(p for p in stored(frozen, "Microsoft.DesktopVirtualization/hostPools") if p["name"] == "hp-f")
    count, _version, _last = parse_failures(pool["tags"].get(POOL_FAILURES_TAG))
    assert count == 2, pool["tags"]
    sent = _vm_deletes(frozen) - before
    assert sorted(sent.values()) == [1, 1, 1, 2], sent  # two failed hosts (one twice), two replaced ones
    assert last.pool("hp-f").done, last.pool("hp-f")
    assert versions_running(frozen, "hp-f") == {"2.0.0": 2}
    assert not old & {v["name"].lower() for v in vms_of(frozen, "hp-f")}
