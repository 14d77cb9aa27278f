"""Acceptance on a dedicated test VM (where: testVm): create it from the version, run the suite, delete it.

One call per rollout cycle, never blocking, like `Acceptor.advance` which it wraps. Order of writes, for a
kill -9 anywhere:
- the version's TEST_VM_STATE_TAG `created` is written BEFORE the VM's PUT (a kill after the PUT leaves a
  record, so the VM is found and deleted); a VM of that name that already exists is adopted, never re-created;
- the suite runs only once the VM is Succeeded (Acceptor: passed tests are never run twice);
- after the verdict the VM is deleted (NIC and OS disk go with it); `deleted` is tagged on a later cycle,
  once a GET finds it gone (the version's tag PATCH of the verdict is still in flight in the same cycle).

A VM that fails to provision is judged by its failure code (model.acceptance_vm.is_transient): a transient
one (no capacity, a timeout, an internal error) says nothing about the image, so the VM is deleted and made
again, `retry` then `created` with the next attempt recorded on the version BEFORE each write, up to ATTEMPTS
creates. Any other code, or the last attempt failing too, fails acceptance with a reason that names the test
VM: the image's tests never ran.
"""

from __future__ import annotations

from datetime import datetime

from reconciler.azure.acceptance_vm import accept_vm_body, provisioning_error, provisioning_state
from reconciler.azure.hosts_write import PoolWriter
from reconciler.engine.actions.acceptance import FINAL, Acceptor, AcceptProgress, TestEvent
from reconciler.model.acceptance import (
    ACCEPTANCE_FAILURE_TAG,
    ACCEPTANCE_TAG,
    Acceptance,
    AcceptanceState,
    acceptance_of,
)
from reconciler.model.acceptance_vm import (
    ATTEMPTS,
    TEST_VM_POOL_TAG,
    TEST_VM_STATE_TAG,
    TEST_VM_TAG,
    TEST_VM_WHERE_TAG,
    AcceptVmDelete,
    AcceptVmRecord,
    AcceptVmState,
    accept_vm_record,
    is_transient,
)
from reconciler.model.rollout import HOST_CREATED_TAG
from reconciler.planner.host_steps import AcceptData


def delete_accept_vm(w: PoolWriter, vm: str, data: AcceptVmDelete) -> list[TestEvent]:
    """delete-test-vm: the planner found a test VM that tests nothing current (its reason is in the event)."""
    w.delete_vm(vm)
    return [TestEvent("test-vm", "deleted", vm, excerpt=data.reason[:240])]


class AcceptanceVmRunner:
    __test__ = False  # not a pytest class

    def __init__(self, acceptor: Acceptor, writer: PoolWriter, pool):
        self.acceptor, self.w, self.pool = acceptor, writer, pool

    def advance(self, vm: str, data: AcceptData, now: datetime) -> AcceptProgress:
        progress = AcceptProgress()
        try:
            self._advance(vm, data, now, progress)
        except LookupError as exc:  # VersionNotFound
            progress.events.append(TestEvent("-", "blocked", vm, excerpt=str(exc)[:240]))
        return progress

    def _advance(self, vm: str, data: AcceptData, now: datetime, progress: AcceptProgress) -> None:
        tags = self.acceptor.tags.read(data.version)
        verdict = acceptance_of(tags)
        record = accept_vm_record(tags)
        state = provisioning_state(self.w, vm)
        stamp = now.isoformat()
        if verdict is not None and verdict.state in FINAL:
            progress.verdict = verdict.state
            if state is None:
                if record is None or record.state is not AcceptVmState.DELETED:
                    attempt = record.attempt if record is not None else 1  # kept: how many VMs it took
                    done = AcceptVmRecord(vm, AcceptVmState.DELETED, stamp, attempt)
                    self._record(data.version, done, progress)
                    progress.events.append(TestEvent("test-vm", "deleted", vm))
            elif state != "Deleting":
                self.w.delete_vm(vm)
                progress.writes += 1
            return
        ours = record if record is not None and record.vm == vm else None
        if state is None:
            self._create(vm, data, ours, stamp, progress)
            return
        if state == "Deleting":
            return  # a retry's delete: the create follows once it is gone
        if ours is not None and ours.state is AcceptVmState.RETRY:
            self.w.delete_vm(vm)  # the retry's delete was lost (a kill, a refusal): send it again
            progress.writes += 1
            return
        if state == "Failed":
            self._failed(vm, data, ours, stamp, progress)
            return
        if state != "Succeeded":
            return  # creating: look again next cycle
        got = self.acceptor.advance(vm, data, now)
        progress.writes += got.writes
        progress.events.extend(got.events)
        progress.verdict = got.verdict
        if got.verdict in FINAL:
            self.w.delete_vm(vm)
            progress.writes += 1

    def _create(
        self, vm: str, data: AcceptData, ours: AcceptVmRecord | None, stamp: str, progress: AcceptProgress
    ) -> None:
        attempt = 1
        if ours is not None:
            # RETRY: the failed one is gone, this is the next attempt. CREATED: a kill between the record
            # and the PUT (or a VM deleted by hand): the same attempt again.
            attempt = ours.attempt + 1 if ours.state is AcceptVmState.RETRY else ours.attempt
        if ours is None or ours.state is not AcceptVmState.CREATED or ours.attempt != attempt:
            self._record(data.version, AcceptVmRecord(vm, AcceptVmState.CREATED, stamp, attempt), progress)
        vm_tags = {
            **self.pool.tags,
            TEST_VM_TAG: data.version.lower(),
            TEST_VM_POOL_TAG: self.pool.arm_id.lower(),
            TEST_VM_WHERE_TAG: data.test_vm.where,
            HOST_CREATED_TAG: stamp,
        }
        self.w.create_vm(vm, accept_vm_body(self.pool, data.test_vm, data.version, vm_tags))
        progress.writes += 1
        what = "created" if attempt == 1 else "recreated"
        note = None if attempt == 1 else f"attempt {attempt} of {ATTEMPTS} (last: {ours.code or 'no code'})"
        progress.events.append(TestEvent("test-vm", what, vm, excerpt=note))

    def _failed(
        self, vm: str, data: AcceptData, ours: AcceptVmRecord | None, stamp: str, progress: AcceptProgress
    ) -> None:
        code, message = provisioning_error(self.w, vm)
        attempt = ours.attempt if ours is not None else 1
        cause = f"{code}: {message}" if code and message else (code or message or "no error code")
        if is_transient(code) and attempt < ATTEMPTS:
            retry = AcceptVmRecord(vm, AcceptVmState.RETRY, stamp, attempt, code or "")
            self._record(data.version, retry, progress)  # before the delete: a kill resumes the retry
            self.w.delete_vm(vm)
            progress.writes += 1
            progress.events.append(
                TestEvent("test-vm", "retried", vm, excerpt=f"attempt {attempt}: {cause}"[:240])
            )
            return
        if is_transient(code):
            why = f"failed to provision {attempt} times (last: {cause})"
        else:
            why = f"failed to provision from the version ({cause})"
        reason = f"test VM {vm} {why}; the image's acceptance tests did not run"[:240]
        failed = Acceptance(AcceptanceState.FAILED, stamp, vm, reason)
        self.acceptor.tags.merge(
            data.version, {ACCEPTANCE_TAG: failed.to_tag(), ACCEPTANCE_FAILURE_TAG: reason}
        )
        progress.writes += 1
        progress.verdict = AcceptanceState.FAILED
        progress.events.append(TestEvent("test-vm", "failed", vm, excerpt=reason))

    def _record(self, version: str, record: AcceptVmRecord, progress: AcceptProgress) -> None:
        self.acceptor.tags.merge(version, {TEST_VM_STATE_TAG: record.to_tag()})
        progress.writes += 1
