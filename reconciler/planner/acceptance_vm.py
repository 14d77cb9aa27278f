"""Acceptance on a dedicated test VM (`acceptance.where: {testVm: ...}`), as the validation pool's decision
sees it — pure.

The suite does not wait for the pool to build hosts from the version: one ACCEPT step names the test VM
(the engine creates it from the version, runs the tests, deletes it), and the whole pool holds until the
verdict, so a version that fails never reaches a session host. After the verdict the version's record of
its test VM says whether the delete is done; until it does, the same step asks the engine for the delete
(a kill between the verdict and the delete leaves the VM; the record, written before its PUT, finds it).

Any other test VM the pool's decision made (found by its tags, `PoolInputs.test_vms`) that tests nothing
current is deleted with a `delete-test-vm` step that says why: the pin moved on, the suite no longer runs on a
test VM (removed from the definition, `where` changed, the version predates it), its subnet or size changed,
or a verdict is in and the version's record does not name it. Plan and apply decide this from the same
inputs, so what the plan lists is what apply deletes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.model.acceptance import Verdict
from reconciler.model.acceptance_vm import (
    AcceptVmDelete,
    AcceptVmPlan,
    AcceptVmState,
    AcceptVmView,
    accept_vm_name,
)
from reconciler.model.observed_resources import norm_id
from reconciler.planner.host_steps import POLL, AcceptData, Decision, Step, StepOp

if TYPE_CHECKING:
    from reconciler.planner.host_inputs import PoolInputs


def _plan(p: PoolInputs, name: str) -> AcceptVmPlan:
    subnet, size = p.acceptance.plan.test_vm
    return AcceptVmPlan(name, subnet, size)


def on_test_vm(p: PoolInputs, d: Decision) -> str:
    """The ACCEPT step on the version's test VM (no verdict yet); returns why the pool's rollout waits."""
    acc = p.acceptance
    name = accept_vm_name(p.target)
    version = p.target.rsplit("/", 1)[-1]
    if any(v.name.lower() == name.lower() for v, _ in stale_test_vms(p)):
        # Made for another subnet or size: the delete goes first, the suite runs on the VM made after it.
        d.poll(p.now + POLL, f"test VM {name} is replaced (its subnet or size changed)")
        return f"acceptance of {version} waits for test VM {name} to be made again in the suite's subnet and size"
    remaining = tuple(
        t
        for t in acc.plan.tests
        if (o := acc.outcomes.get(t.name)) is None or o.verdict is not Verdict.PASSED
    )
    d.steps.append(Step(StepOp.ACCEPT, name, AcceptData(p.target, remaining, None, _plan(p, name))))
    d.poll(p.now + POLL, f"acceptance running on test VM {name}")
    tests = ", ".join(t.name for t in remaining) or "verdict"
    return f"acceptance of {version} runs on test VM {name} ({tests}); the pool waits for its verdict"


def leftover_test_vm(p: PoolInputs) -> list[Step]:
    """The delete still owed after a verdict: the version records a test VM that was created, not deleted."""
    acc = p.acceptance
    if acc is None or not acc.runs_here or not p.target or acc.plan.test_vm is None or not acc.settled:
        return []
    record = acc.test_vm
    if record is None or record.state is not AcceptVmState.CREATED:
        return []
    return [Step(StepOp.ACCEPT, record.vm, AcceptData(p.target, (), None, _plan(p, record.vm)))]


def _leaf(version_id: str) -> str:
    return version_id.rsplit("/", 1)[-1]


def _why_stale(p: PoolInputs, vm: AcceptVmView) -> str | None:
    """Why the pool's decision no longer needs this test VM, or None while it tests the current suite."""
    acc = p.acceptance
    target = norm_id(p.target)
    if not target or vm.version != target:
        now = f" (now {_leaf(target)})" if target else ""
        return f"it tests {_leaf(vm.version)}, no longer the pool's pin{now}"
    if acc is None or not acc.runs_here or acc.plan.test_vm is None:
        return f"the pool no longer runs {_leaf(target)}'s acceptance suite on a test VM"
    if vm.name.lower() != accept_vm_name(target).lower():
        return f"it is not {_leaf(target)}'s test VM ({accept_vm_name(target)})"
    if acc.settled:
        record = acc.test_vm
        if record is not None and record.vm == vm.name and record.state is AcceptVmState.CREATED:
            return None  # leftover_test_vm's delete, which also records it done on the version
        return f"the verdict of {_leaf(target)} is recorded ({acc.state})"
    if vm.where != _plan(p, vm.name).where:
        return "its subnet or size is no longer the suite's"
    return None


def stale_test_vms(p: PoolInputs) -> list[tuple[AcceptVmView, str]]:
    """The pool's test VMs that test nothing current, each with why (Deleting ones included)."""
    return [(vm, why) for vm in p.test_vms if (why := _why_stale(p, vm)) is not None]


def delete_stale_test_vms(p: PoolInputs, d: Decision) -> list[Step]:
    """One delete-test-vm step per stale test VM not already being deleted (a Deleting one is waited for)."""
    steps = []
    for vm, why in stale_test_vms(p):
        if vm.provisioning == "Deleting":
            d.poll(p.now + POLL, f"test VM {vm.name} being deleted")
        else:
            steps.append(Step(StepOp.DELETE_TEST_VM, vm.name, AcceptVmDelete(vm.version, why)))
    return steps


def accept_vm_status(p: PoolInputs) -> list[dict]:
    """`reconcile status`: each of the pool's test VMs, the one running the suite in progress first."""
    stale = {v.name: why for v, why in stale_test_vms(p)}
    rows = [
        {
            "name": v.name,
            "version": _leaf(v.version),
            "since": v.created or None,
            "provisioning": v.provisioning,
            "state": "deleting"
            if v.provisioning == "Deleting"
            else ("stale" if v.name in stale else "running"),
            "reason": stale.get(v.name),
        }
        for v in p.test_vms
    ]
    return sorted(rows, key=lambda r: (r["state"] != "running", r["name"]))
