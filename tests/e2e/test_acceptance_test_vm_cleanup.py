"""No test VM is left behind (where: testVm), end to end on the frozen sandbox: while the suite runs on its
test VM, the pin moves back or the suite is removed from the definition; the plan lists a `delete-test-vm`
step with its reason (found by the VM's tags, not the version's record), the first apply pass deletes exactly
that VM, and once it is gone the plan has nothing left to do for it.
"""

from __future__ import annotations

import contextlib
import io

from support.acceptance import SUITE, version_id, write
from support.cli import apply_pass, drive, plan_json
from support.rollout import SUB, versions_running
from support.sandbox import sandbox_environ

from reconciler.cli import main
from reconciler.model.acceptance import AcceptanceState, acceptance_of
from reconciler.model.acceptance_vm import TEST_VM_POOL_TAG, TEST_VM_TAG

from .test_acceptance_test_vm import (
    TEST_VM,
    accept_steps,
    on_test_vm,
    provisioned,
    run_commands_on,
    vm_writes,
)

VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg-pools/providers/Microsoft.Compute/virtualMachines/{TEST_VM}"


def all_steps(node, op: str):
    if isinstance(node, dict):
        if node.get("op") == op:
            yield node
        for v in node.values():
            yield from all_steps(v, op)
    elif isinstance(node, list):
        for v in node:
            yield from all_steps(v, op)


def mid_suite(sb, tmp_path):
    """The estate with 2.0.0's suite running on its test VM: the first test has started and hangs."""
    sb.inject_fault(kind="run_command", name="avd-accept-ehr-client-starts", duration=7200)
    root = provisioned(sb, tmp_path)
    drive(sb, root, settled=lambda r: "ehr-client-starts" in run_commands_on(sb, TEST_VM), max_cycles=40)
    vm = sb.get(VM_ID)
    assert vm["properties"]["provisioningState"] == "Succeeded"
    assert vm["tags"][TEST_VM_TAG] == version_id("2.0.0").lower() and TEST_VM_POOL_TAG in vm["tags"]
    assert acceptance_of(dict(sb.get(version_id("2.0.0"))["tags"])).state is AcceptanceState.RUNNING
    return root


def deletes_of(sb, since: int) -> list[str]:
    return [
        e["id"].rsplit("/", 1)[-1]
        for e in sb.audit()["entries"][since:]
        if e["method"] == "DELETE" and "/virtualmachines/" in e["id"].lower()
    ]


def test_a_pin_moved_back_while_the_suite_runs_deletes_the_test_vm_and_the_plan_says_why(frozen, tmp_path):
    root = mid_suite(frozen, tmp_path)
    props = frozen.get(VM_ID)["properties"]
    parts = [
        props["networkProfile"]["networkInterfaces"][0]["id"],
        props["storageProfile"]["osDisk"]["managedDisk"]["id"],
    ]
    assert all(frozen.get(rid) is not None for rid in parts)
    on_test_vm(write(root, "1.0.0"))  # every host already runs 1.0.0: no rollout would touch the pool
    plan = plan_json(frozen, root)
    [step] = list(all_steps(plan["changes"], "delete-test-vm"))
    assert step == {
        "op": "delete-test-vm",
        "host": TEST_VM,
        "version": "2.0.0",
        "reason": "it tests 2.0.0, no longer the pool's pin (now 1.0.0)",
    }
    [change] = [c for c in plan["changes"] if c.get("reason_code") == "test-vm"]
    assert change["resource_id"].lower().endswith("/hostpools/hp-val/sessionhosts")
    assert f"delete test VM {TEST_VM}: it tests 2.0.0" in change["reason"]
    before = len(frozen.audit()["entries"])
    apply_pass(frozen, root)
    assert deletes_of(frozen, before) == [TEST_VM]  # what the plan listed, nothing else
    # Deleting: sent, nothing more to do for it (the plan lists no step for a VM being deleted)
    assert frozen.get(VM_ID)["properties"]["provisioningState"] == "Deleting"
    assert [c for c in plan_json(frozen, root)["changes"] if c.get("reason_code") == "test-vm"] == []
    drive(frozen, root)
    frozen.advance(600)
    assert frozen.get(VM_ID) is None and vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"]
    assert [rid for rid in parts if frozen.get(rid) is not None] == []  # its NIC and OS disk went with it
    assert list(all_steps(plan_json(frozen, root), "delete-test-vm")) == []
    assert versions_running(frozen, "hp-val") == {"1.0.0": 1}


def test_a_suite_removed_while_it_runs_deletes_the_test_vm_and_the_pools_roll(frozen, tmp_path):
    root = mid_suite(frozen, tmp_path)
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(SUITE.splitlines()[0] + "\n")
    last = SUITE.splitlines()[-1] + "\n"
    end = text.index(last, start) + len(last)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert "acceptance:" not in path.read_text(encoding="utf-8")
    plan = plan_json(frozen, root)
    [step] = list(all_steps(plan["changes"], "delete-test-vm"))  # hp-val's roll; its preview says it too
    assert step["host"] == TEST_VM
    assert step["reason"] == "the pool no longer runs 2.0.0's acceptance suite on a test VM"
    assert list(accept_steps(plan)) == []
    out = io.StringIO()
    with sandbox_environ(frozen), contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["plan", "--desired", str(root)]) == 0
    assert f"delete-test-vm {TEST_VM} ({step['reason']})" in out.getvalue()
    before = len(frozen.audit()["entries"])
    apply_pass(frozen, root)
    assert TEST_VM in deletes_of(frozen, before)
    drive(frozen, root)
    frozen.advance(600)
    assert frozen.get(VM_ID) is None and vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"]
    assert versions_running(frozen, "hp-val") == {"2.0.0": 1}
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}
