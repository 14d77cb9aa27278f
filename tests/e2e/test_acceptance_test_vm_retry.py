"""A test VM that fails to provision (where: testVm), end to end on the frozen sandbox: a transient failure
(no capacity, a timeout, an internal error) is the VM's, not the image's, so the VM is deleted and made again
within a budget; a deterministic one, or the budget spent, fails the version with a reason that names the test
VM (the image's tests never ran). Faults: the sandbox's `lro` rules fail the VM's create with the given code,
which the VM's instance view then names (`ProvisioningState/failed/<Code>`), as ARM's does.
"""

from __future__ import annotations

from support.cli import drive
from support.rollout import versions_running

from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, AcceptanceState, acceptance_of, outcomes_of
from reconciler.model.acceptance_vm import ATTEMPTS, AcceptVmState, accept_vm_record

from .test_acceptance_test_vm import TEST_VM, TESTS, provisioned, run_commands_on, version_tags, vm_writes


def create_fails(sb, code: str, count: int | None, message: str = "") -> dict:
    return sb.inject_fault(
        kind="lro",
        method="PUT",
        path=f"/virtualMachines/{TEST_VM}$",
        code=code,
        message=message or f"{code} (sandbox fault)",
        count=count,
    )


def until_deleted(sb):
    def settled(result) -> bool:
        record = accept_vm_record(version_tags(sb))
        return record is not None and record.state is AcceptVmState.DELETED

    return settled


def test_a_transient_failure_of_the_test_vm_is_retried_and_the_version_passes(frozen, tmp_path):
    create_fails(frozen, "AllocationFailed", count=1, message="Allocation failed. No capacity for the size.")
    root = provisioned(frozen, tmp_path)
    events: list[str] = []

    def watch(cycle, result):
        events.extend(f"{a['test']} {a['what']}" for a in result.recap.get("acceptance") or ())

    drive(frozen, root, on_cycle=watch)
    tags = version_tags(frozen)
    assert acceptance_of(tags).state is AcceptanceState.PASSED
    assert {n: o.verdict.value for n, o in outcomes_of(tags).items()} == dict.fromkeys(TESTS, "passed")
    # the failed VM deleted, a second one made, tested once and deleted after the verdict
    assert vm_writes(frozen, TEST_VM) == ["PUT", "DELETE", "PUT", "DELETE"]
    assert run_commands_on(frozen, TEST_VM) == dict.fromkeys(TESTS, 1)
    assert events[:3] == ["test-vm created", "test-vm retried", "test-vm recreated"]
    record = accept_vm_record(tags)
    assert record.state is AcceptVmState.DELETED
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}


def test_a_deterministic_failure_of_the_test_vm_fails_the_version_at_once_naming_the_test_vm(
    frozen, tmp_path
):
    create_fails(frozen, "OSProvisioningClientError", count=None, message="The image is not generalized.")
    root = provisioned(frozen, tmp_path)
    drive(frozen, root, settled=until_deleted(frozen), max_cycles=80, stop_on_failed=False)
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.FAILED and verdict.host == TEST_VM
    assert (
        verdict.reason
        == tags[ACCEPTANCE_FAILURE_TAG]
        == (
            f"test VM {TEST_VM} failed to provision from the version (OSProvisioningClientError: The image is not "
            "generalized.); the image's acceptance tests did not run"
        )
    )
    assert run_commands_on(frozen, TEST_VM) == {}
    assert vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"]  # no retry: it would fail the same way
    assert versions_running(frozen, "hp-val") == {"1.0.0": 1}


def test_a_transient_failure_that_outlasts_the_budget_fails_the_version_naming_the_test_vm(frozen, tmp_path):
    create_fails(frozen, "OSProvisioningTimedOut", count=None)
    root = provisioned(frozen, tmp_path)
    drive(frozen, root, settled=until_deleted(frozen), max_cycles=120, stop_on_failed=False)
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.FAILED
    assert verdict.reason.startswith(f"test VM {TEST_VM} failed to provision {ATTEMPTS} times (last: ")
    assert "OSProvisioningTimedOut" in verdict.reason
    assert verdict.reason.endswith("the image's acceptance tests did not run")
    assert vm_writes(frozen, TEST_VM) == ["PUT", "DELETE"] * ATTEMPTS
    assert run_commands_on(frozen, TEST_VM) == {}
    assert accept_vm_record(tags).attempt == ATTEMPTS
    assert versions_running(frozen, "hp-val") == {"1.0.0": 1}
    assert versions_running(frozen, "hp-prod") == {"1.0.0": 2}
