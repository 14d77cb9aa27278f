"""Failed operations are repaired, never waited on forever: a failed VM delete is sent again, a failed VM
create is cleaned up and built again within the failure budget, a version a failed PATCH left `Failed` is
repaired before a pool is pinned to it, and a build still running when an apply died is waited for.

Each scenario runs the production entry point (`reconcile apply`, support.cli.drive) against the sandbox with
one injected failed operation (fault kind "lro": the request is accepted, the operation ends Failed and the
resource shows provisioningState Failed, as ARM does)."""

from __future__ import annotations

from support.cli import drive
from support.estate import seed_estate
from support.rollout import pool_doc, pool_id, versions_running, vms_of, write_desired

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def _vm_writes(sb, method: str) -> list[dict]:
    return [
        e
        for e in sb.audit()["entries"]
        if e["method"] == method
        and "/virtualmachines/" in e["id"].lower()
        and "/extensions/" not in e["id"].lower()
    ]


def _rolled_pool(sb, root, name: str, count: int) -> None:
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, name) == {"1.0.0": count}


def test_failed_vm_delete_is_sent_again_and_the_pool_converges(frozen, tmp_path):
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-d", count=2)])
    _rolled_pool(frozen, root, "hp-d", 2)
    old = {v["name"].lower() for v in vms_of(frozen, "hp-d")}
    first = sorted(old)[0]
    frozen.inject_fault(
        method="DELETE", path=f"virtualMachines/{first}$", kind="lro", code="InternalExecutionError", count=1
    )
    write_desired(root, VERSIONS, [pool_doc("hp-d", count=2, version="2.0.0")])
    passes, last = drive(frozen, root, max_hosts={pool_id("hp-d"): 3}, max_cycles=120)
    assert last.pool("hp-d").done
    assert versions_running(frozen, "hp-d") == {"2.0.0": 2}
    deletes = [e for e in _vm_writes(frozen, "DELETE") if e["id"].lower().endswith("/" + first)]
    assert len(deletes) == 2, deletes  # the failed one, then the one sent again
    assert all(e["status"] == 202 for e in deletes)


def test_failed_vm_create_is_cleaned_and_built_again(frozen, tmp_path):
    rollout = {"failureBudget": 2}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-c", count=2, rollout=rollout)])
    _rolled_pool(frozen, root, "hp-c", 2)
    before = len(_vm_writes(frozen, "PUT"))
    frozen.inject_fault(
        method="PUT", path="virtualMachines/hpc-[0-9]+$", kind="lro", code="AllocationFailed", count=1
    )
    write_desired(root, VERSIONS, [pool_doc("hp-c", count=2, version="2.0.0", rollout=rollout)])
    _, last = drive(frozen, root, max_hosts={pool_id("hp-c"): 3}, max_cycles=120)
    assert last.pool("hp-c").done
    assert versions_running(frozen, "hp-c") == {"2.0.0": 2}
    assert len(vms_of(frozen, "hp-c")) == 2
    creates = _vm_writes(frozen, "PUT")[before:]
    assert len(creates) == 2 + 1  # two replacements and the one built again after the failed create
