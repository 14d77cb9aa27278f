"""Acceptance on a dedicated test VM (`acceptance.where: {testVm: ...}`), as the validation pool's decision
sees it — pure.

The suite does not wait for the pool to build hosts from the version: one ACCEPT step names the test VM
(the engine creates it from the version, runs the tests, deletes it), and the whole pool holds until the
verdict, so a version that fails never reaches a session host. After the verdict the version's record of
its test VM says whether the delete is done; until it does, the same step asks the engine for the delete
(a kill between the verdict and the delete leaves the VM; the record, written before its PUT, finds it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.model.acceptance import Verdict
from reconciler.model.acceptance_vm import AcceptVmPlan, AcceptVmState, accept_vm_name
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
    remaining = tuple(
        t
        for t in acc.plan.tests
        if (o := acc.outcomes.get(t.name)) is None or o.verdict is not Verdict.PASSED
    )
    d.steps.append(Step(StepOp.ACCEPT, name, AcceptData(p.target, remaining, None, _plan(p, name))))
    d.wait(p.now + POLL, f"acceptance running on test VM {name}")
    version = p.target.rsplit("/", 1)[-1]
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
