"""Acceptance on a dedicated test VM (where: testVm): create it from the version, run the suite, delete it.

One call per rollout cycle, never blocking, like `Acceptor.advance` which it wraps. Order of writes, for a
kill -9 anywhere:
- the version's TEST_VM_STATE_TAG `created` is written BEFORE the VM's PUT (a kill after the PUT leaves a
  record, so the VM is found and deleted); a VM of that name that already exists is adopted, never re-created;
- the suite runs only once the VM is Succeeded (Acceptor: passed tests are never run twice);
- after the verdict the VM is deleted (NIC and OS disk go with it); `deleted` is tagged on a later cycle,
  once a GET finds it gone (the version's tag PATCH of the verdict is still in flight in the same cycle).
A VM that fails to provision fails acceptance: an image that does not boot has failed its first test.
"""

from __future__ import annotations

from datetime import datetime

from reconciler.azure.acceptance_vm import accept_vm_body, provisioning_state
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
    TEST_VM_STATE_TAG,
    TEST_VM_TAG,
    AcceptVmRecord,
    AcceptVmState,
    accept_vm_record,
)
from reconciler.model.rollout import HOST_CREATED_TAG
from reconciler.planner.host_steps import AcceptData


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
                    self._record(data.version, vm, AcceptVmState.DELETED, stamp, progress)
                    progress.events.append(TestEvent("test-vm", "deleted", vm))
            elif state != "Deleting":
                self.w.delete_vm(vm)
                progress.writes += 1
            return
        if state is None:
            if record is None or record.vm != vm or record.state is not AcceptVmState.CREATED:
                self._record(data.version, vm, AcceptVmState.CREATED, stamp, progress)
            vm_tags = {**self.pool.tags, TEST_VM_TAG: data.version.lower(), HOST_CREATED_TAG: stamp}
            self.w.create_vm(vm, accept_vm_body(self.pool, data.test_vm, data.version, vm_tags))
            progress.writes += 1
            progress.events.append(TestEvent("test-vm", "created", vm))
            return
        if state == "Failed":
            reason = f"test VM {vm} failed to provision from the version"
            failed = Acceptance(AcceptanceState.FAILED, stamp, vm, reason)
            self.acceptor.tags.merge(
                data.version, {ACCEPTANCE_TAG: failed.to_tag(), ACCEPTANCE_FAILURE_TAG: reason}
            )
            progress.writes += 1
            progress.verdict = AcceptanceState.FAILED
            progress.events.append(TestEvent("test-vm", "failed", vm, excerpt=reason))
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

    def _record(
        self, version: str, vm: str, state: AcceptVmState, stamp: str, progress: AcceptProgress
    ) -> None:
        self.acceptor.tags.merge(version, {TEST_VM_STATE_TAG: AcceptVmRecord(vm, state, stamp).to_tag()})
        progress.writes += 1
