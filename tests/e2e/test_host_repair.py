"""An established session host a failed tag PATCH left `Failed` is repaired, not counted: ARM shows a VM whose
update failed as provisioningState Failed, exactly like a failed create, but the host runs on. While the pool's
session hosts converge (here: a count up, the old host not part of it), the reconciler sends that VM's tags
again, the VM ends Succeeded, and no host is counted failed.

The production entry point (`reconcile apply --wait none` pass after pass, support.cli.drive) against the
sandbox with one injected failed operation (fault kind "lro")."""

from __future__ import annotations

from support.cli import drive
from support.estate import seed_estate
from support.rollout import hosts_of, pool_doc, pool_id, versions_running, vms_of, write_desired

from reconciler.model.rollout import HOST_STAGE_TAG, POOL_FAILURES_TAG
from reconciler.planner.host_inputs import READY
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def _fail_a_tag_patch(sb, clients, vm: dict) -> None:
    """A tag PATCH of `vm` (an earlier apply's drain mark, or anyone's) whose operation ends Failed."""
    name = vm["name"]
    sb.inject_fault(
        method="PATCH", path=f"virtualMachines/{name}$", kind="lro", code="InternalExecutionError", count=1
    )
    _tag(clients, vm, vm["tags"])
    sb.advance(600)
    assert sb.get(vm["id"])["properties"]["provisioningState"] == "Failed"


def _tag(clients, vm: dict, tags: dict) -> None:
    rg = vm["id"].split("/")[4]
    clients.compute.virtual_machines.begin_update(rg, vm["name"], {"tags": tags}, polling=False)


def _patches(sb, vm_id: str) -> list[dict]:
    return [e for e in sb.audit()["entries"] if e["method"] == "PATCH" and e["id"].lower() == vm_id.lower()]


def test_established_host_left_failed_by_a_tag_patch_is_repaired(frozen, clients, tmp_path):
    sb = frozen
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-r", count=2, rollout={"failureBudget": 0})])
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, "hp-r") == {"1.0.0": 2}
    for vm in vms_of(
        sb, "hp-r"
    ):  # in service for long: the ready mark went out (no health gate, no mark to come)
        _tag(clients, vm, {**vm["tags"], HOST_STAGE_TAG: READY})
    sb.advance(600)
    old = sorted(vms_of(sb, "hp-r"), key=lambda v: v["name"])[0]
    assert old["properties"]["provisioningState"] == "Succeeded"
    _fail_a_tag_patch(sb, clients, old)
    before = len(_patches(sb, old["id"]))
    # Count up: the pool's session hosts converge again; the old host is established, not part of the batch.
    write_desired(root, VERSIONS, [pool_doc("hp-r", count=3, rollout={"failureBudget": 0})])
    _, last = drive(sb, root, max_cycles=120)
    assert last.pool("hp-r").done, last.pools
    assert sb.get(old["id"])["properties"]["provisioningState"] == "Succeeded"
    assert len(_patches(sb, old["id"])) > before, "its tags were sent again"
    assert versions_running(sb, "hp-r") == {"1.0.0": 3}
    assert {v["name"] for v in vms_of(sb, "hp-r")} >= {old["name"]}, "the good host was kept"
    pool = sb.get(pool_id("hp-r"))
    assert not (pool.get("tags") or {}).get(POOL_FAILURES_TAG), "a host was counted failed"
    assert all(h["properties"]["status"] == "Available" for h in hosts_of(sb, "hp-r"))
