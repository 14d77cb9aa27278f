"""Acceptance on a dedicated test VM (where: testVm) in the session-host decision: pure, no I/O."""

from __future__ import annotations

from reconciler.model.acceptance import Acceptance, AcceptanceState, Outcome, Verdict
from reconciler.model.acceptance_vm import (
    TEST_VM_POOL_TAG,
    TEST_VM_TAG,
    AcceptVmRecord,
    AcceptVmState,
    AcceptVmView,
    accept_vm_name,
    accept_vm_views,
    placement_key,
)
from reconciler.model.observed_resources import ObservedVM
from reconciler.planner.acceptance import AcceptanceInputs, AcceptancePlan
from reconciler.planner.host_steps import DecisionMode, StepOp
from reconciler.planner.hosts import decide
from reconciler.planner.timeline import simulate_rollout

from .test_acceptance_decide import TESTS
from .test_hosts_decide import NOW, V1, V2, host, inputs, ops, policy

SUBNET = "/subscriptions/s/resourceGroups/n/providers/Microsoft.Network/virtualNetworks/v/subnets/accept"
PLAN = AcceptancePlan(tests=TESTS, test_vm=(SUBNET, "Standard_D2s_v5"))
VM = accept_vm_name(V2)


WHERE = placement_key(SUBNET, "Standard_D2s_v5")


def found_vm(version=V2, where=WHERE, state="Succeeded", name=None) -> AcceptVmView:
    return AcceptVmView(name or accept_vm_name(version), version.lower(), where, state)


def pool(hosts=None, verdict=None, outcomes=None, record=None, count=4, plan=PLAN, **kw):
    acc = AcceptanceInputs(plan, True, verdict, dict(outcomes or {}), test_vm=record) if plan else None
    hosts = [host(f"avd-{i}") for i in range(4)] if hosts is None else hosts
    return inputs(hosts, policy(batch=1, floor_percent=50, count=count), acceptance=acc, last_good=V1, **kw)


def test_the_name_fits_a_windows_computer_name_and_differs_per_version():
    long = "/x/galleries/g/images/win11-24h2-m365-clinical/versions/2026.1207.1230"
    assert len(VM) <= 15 and len(accept_vm_name(long)) <= 15 and accept_vm_name(V1) != VM
    assert accept_vm_name(V2.upper()) == VM  # ARM ids are case-insensitive


def test_no_pool_host_is_needed_the_suite_runs_on_the_test_vm_and_the_pool_holds():
    d = decide(pool())
    [step] = d.steps
    assert step.op is StepOp.ACCEPT and step.host == VM and step.data.session_host is None
    assert step.data.test_vm.subnet_id == SUBNET and step.data.test_vm.vm_size == "Standard_D2s_v5"
    assert [t.name for t in step.data.tests] == [t.name for t in TESTS]
    assert d.mode is DecisionMode.GATED and any(f"runs on test VM {VM}" in why for _, why in d.waits)


def test_hosts_added_for_count_while_under_test_get_the_last_good_version_not_the_untested_one():
    d = decide(pool(count=6))
    creates = [s for s in d.steps if s.op is StepOp.CREATE]
    assert creates and all(s.data.version == V1 for s in creates)


def test_a_passed_test_is_not_asked_for_again():
    passed = {TESTS[0].name: Outcome(Verdict.PASSED, 0, NOW.isoformat(), VM)}
    [step] = decide(pool(outcomes=passed)).steps
    assert [t.name for t in step.data.tests] == [TESTS[1].name]


def test_after_the_verdict_the_owed_delete_is_planned_until_the_version_records_it_done():
    passed = Acceptance(AcceptanceState.PASSED, NOW.isoformat(), VM)
    created = AcceptVmRecord(VM, AcceptVmState.CREATED, NOW.isoformat())
    d = decide(pool(verdict=passed, record=created))
    assert ("accept", VM) in ops(d) and any(s.op is StepOp.CREATE and s.data.version == V2 for s in d.steps)
    deleted = AcceptVmRecord(VM, AcceptVmState.DELETED, NOW.isoformat())
    assert ("accept", VM) not in ops(decide(pool(verdict=passed, record=deleted)))


def test_a_failed_verdict_quarantines_and_still_deletes_the_test_vm():
    failed = Acceptance(AcceptanceState.FAILED, NOW.isoformat(), VM, "ehr-client-starts: exit 1")
    created = AcceptVmRecord(VM, AcceptVmState.CREATED, NOW.isoformat())
    d = decide(pool(verdict=failed, record=created))
    assert ("accept", VM) in ops(d) and any(s.op is StepOp.QUARANTINE for s in d.steps)
    assert not any(s.op is StepOp.CREATE and s.data.version == V2 for s in d.steps)


def test_the_simulated_rollout_runs_the_test_vm_first_then_rolls():
    t = simulate_rollout(pool())
    steps = [(c.at, s) for c in t.cycles for s in c.steps]
    first_accept = next(at for at, s in steps if s.op is StepOp.ACCEPT)
    first_create = next(at for at, s in steps if s.op is StepOp.CREATE)
    assert first_accept < first_create and first_create - first_accept >= PLAN.expected


def test_the_plan_json_round_trips_the_test_vm():
    assert AcceptancePlan.from_json(PLAN.to_json()) == PLAN


def deletes(d) -> list[tuple[str, str]]:
    return [(s.host, s.data.reason) for s in d.steps if s.op is StepOp.DELETE_TEST_VM]


def test_the_running_test_vm_is_left_alone_and_one_of_another_version_is_deleted_saying_why():
    old = found_vm(V1)
    d = decide(pool(test_vms=(found_vm(), old)))
    assert deletes(d) == [(old.name, "it tests 1.0.0, no longer the pool's pin (now 2.0.0)")]
    assert ("accept", VM) in ops(d)


def test_a_suite_no_longer_on_a_test_vm_deletes_it():
    d = decide(pool(plan=None, test_vms=(found_vm(),)))
    assert deletes(d) == [(VM, "the pool no longer runs 2.0.0's acceptance suite on a test VM")]
    assert not any(s.op is StepOp.ACCEPT for s in d.steps)


def test_a_test_vm_made_for_another_subnet_is_deleted_first_and_the_suite_waits_for_a_new_one():
    d = decide(pool(test_vms=(found_vm(where=placement_key(SUBNET, "Standard_D4s_v5")),)))
    assert deletes(d) == [(VM, "its subnet or size is no longer the suite's")]
    assert not any(s.op is StepOp.ACCEPT for s in d.steps)  # no test runs on the VM being deleted
    assert any("made again" in why or "replaced" in why for _, why in d.waits)


def test_a_verdict_deletes_the_test_vm_once_whether_or_not_the_version_records_it():
    passed = Acceptance(AcceptanceState.PASSED, NOW.isoformat(), VM)
    created = AcceptVmRecord(VM, AcceptVmState.CREATED, NOW.isoformat())
    d = decide(pool(verdict=passed, record=created, test_vms=(found_vm(),)))
    assert deletes(d) == [] and ops(d).count(("accept", VM)) == 1  # the owed delete, which records it
    deleted = AcceptVmRecord(VM, AcceptVmState.DELETED, NOW.isoformat())
    d = decide(pool(verdict=passed, record=deleted, test_vms=(found_vm(),)))
    assert deletes(d) == [(VM, "the verdict of 2.0.0 is recorded (passed)")]


def test_a_test_vm_being_deleted_takes_no_step_and_is_waited_for():
    d = decide(pool(plan=None, test_vms=(found_vm(state="Deleting"),)))
    assert deletes(d) == [] and any(f"{VM} being deleted" in why for _, why in d.waits)


def test_only_the_pools_own_test_vms_are_found_by_their_tags():
    def vm(name, pool_id):
        tags = {TEST_VM_TAG: V2.upper(), TEST_VM_POOL_TAG: pool_id}
        return ObservedVM(id=f"/vms/{name}", name=name, tags=tags, provisioning_state="Succeeded")

    views = accept_vm_views("/pools/p", [vm("acc-b", "/POOLS/P"), vm("acc-a", "/pools/other")])
    assert [(v.name, v.version) for v in views] == [("acc-b", V2.lower())]


def test_the_simulated_rollout_deletes_a_stale_test_vm_once_and_converges():
    t = simulate_rollout(pool(plan=None, test_vms=(found_vm(V1),)))
    assert sum(s.op is StepOp.DELETE_TEST_VM for c in t.cycles for s in c.steps) == 1


def test_the_simulated_rollout_deletes_the_test_vm_once_after_its_verdict():
    passed = Acceptance(AcceptanceState.PASSED, NOW.isoformat(), VM)
    created = AcceptVmRecord(VM, AcceptVmState.CREATED, NOW.isoformat())
    t = simulate_rollout(pool(verdict=passed, record=created, test_vms=(found_vm(),)))
    steps = [s for c in t.cycles for s in c.steps if s.host == VM]
    assert [s.op for s in steps] == [StepOp.ACCEPT]  # the owed delete, and no second one for the same VM
