"""A dedicated test VM for acceptance (`acceptance.where: {testVm: ...}`): its name and its record on the version.

The VM is created from the version in the validation pool's resource group, joins no host pool, runs the
suite and is deleted. What lets any replica resume it lives on Azure: the version's TEST_VM_STATE_TAG
(written BEFORE the VM's PUT, so a kill after the PUT still leaves a record of the VM to delete) and the VM's
own tags: TEST_VM_TAG (which version it tests), TEST_VM_POOL_TAG (the pool whose decision owns it: it carries
no HOST_POOL_TAG, so no pool counts it as a host) and TEST_VM_WHERE_TAG (the subnet and size it was made for).
Those let the planner find any test VM left behind (a pin moved, a suite removed, a crash) and delete it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from reconciler.model.observed_resources import norm_id
from reconciler.model.rollout import HOST_CREATED_TAG

# On the image version: "<VM name>|<state>|<ISO time>".
TEST_VM_STATE_TAG = "avd-reconciler-acceptance-vm"
# On the test VM: the version id it was created from (lower-case).
TEST_VM_TAG = "avd-reconciler-test-vm"
# On the test VM: the lower-cased id of the host pool whose decision created it (and deletes it).
TEST_VM_POOL_TAG = "avd-reconciler-test-vm-pool"
# On the test VM: `placement_key` of the subnet and size it was created in.
TEST_VM_WHERE_TAG = "avd-reconciler-test-vm-where"
PREFIX = "acc-"
COMPUTER_NAME_MAX = 15  # Windows NetBIOS computer-name limit


class AcceptVmState(StrEnum):
    CREATED = "created"  # its PUT was sent (or is about to be): it may exist
    DELETED = "deleted"  # its delete finished: nothing is left
    RETRY = "retry"  # its create failed transiently: it is deleted and made again (`attempt` + 1)


# Provisioning failures that say nothing about the image: Azure ran out of capacity or failed inside. A VM
# that fails with one is deleted and created again, up to ATTEMPTS in all; any other code (the image cannot
# boot or is refused) fails acceptance at once. No code at all (an instance view that names none) is read
# as transient: a retry costs one VM, a wrong verdict quarantines a good image.
TRANSIENT_CODES = frozenset(
    c.lower()
    for c in (
        "AllocationFailed",
        "ZonalAllocationFailed",
        "OverconstrainedAllocationRequest",
        "OverconstrainedZonalAllocationRequest",
        "AllocationTimedout",
        "OSProvisioningTimedOut",
        "VMStartTimedOut",
        "InternalServerError",
        "InternalOperationError",
        "InternalExecutionError",
        "InternalError",
        "NetworkingInternalOperationError",
        "RetryableError",
        "ServiceUnavailable",
    )
)
ATTEMPTS = 3  # creates of one version's test VM before a transient failure blocks the version


def is_transient(code: str | None) -> bool:
    return not code or code.lower() in TRANSIENT_CODES


def placement_key(subnet_id: str, vm_size: str) -> str:
    """Short and case-insensitive (ARM ids are): a subnet id alone can pass a tag value's 256 characters."""
    return hashlib.sha256(f"{subnet_id.lower()}|{vm_size.lower()}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AcceptVmPlan:
    """Where the test VM goes, as the plan carries it: its name, subnet and size (resolved at plan time)."""

    name: str
    subnet_id: str
    vm_size: str

    def to_json(self) -> dict:
        return {"name": self.name, "subnet_id": self.subnet_id, "vm_size": self.vm_size}

    @property
    def where(self) -> str:
        return placement_key(self.subnet_id, self.vm_size)

    @classmethod
    def from_json(cls, data: dict | None) -> AcceptVmPlan | None:
        return cls(data["name"], data["subnet_id"], data["vm_size"]) if data else None


def accept_vm_name(version_id: str) -> str:
    """A name per version that fits a Windows computer name (<= 15) and never collides with a pool's
    `<prefix>-<n>` hosts: a hash of the version id, since a long version (2026.1207.1230) does not fit."""
    digest = hashlib.sha256(version_id.lower().encode()).hexdigest()
    return PREFIX + digest[: COMPUTER_NAME_MAX - len(PREFIX)]


@dataclass(frozen=True)
class AcceptVmRecord:
    """`attempt`: which create of the VM this is (1 = the first); `code`: the transient failure that made
    a RETRY. Tag: `<vm>|<state>|<time>|<attempt>|<code>` (the first form, three fields, is attempt 1)."""

    vm: str
    state: AcceptVmState
    at: str
    attempt: int = 1
    code: str = ""

    def to_tag(self) -> str:
        return f"{self.vm}|{self.state.value}|{self.at}|{self.attempt}|{self.code}"[:256]

    @classmethod
    def parse(cls, value: str | None) -> AcceptVmRecord | None:
        parts = (value or "").split("|")
        if len(parts) not in (3, 5):
            return None
        try:
            attempt = int(parts[3]) if len(parts) == 5 else 1
            return cls(
                parts[0], AcceptVmState(parts[1]), parts[2], attempt, parts[4] if len(parts) == 5 else ""
            )
        except ValueError:
            return None


def accept_vm_record(tags: dict[str, str] | None) -> AcceptVmRecord | None:
    return AcceptVmRecord.parse((tags or {}).get(TEST_VM_STATE_TAG))


@dataclass(frozen=True)
class AcceptVmView:
    """A test VM as the planner sees it (found by its TEST_VM_TAG): what it tests, where, and its state."""

    name: str
    version: str  # lower-cased version id it was made from
    where: str  # placement_key it was made for ("" when untagged)
    provisioning: str
    created: str = ""  # HOST_CREATED_TAG: when the runner sent its PUT


def accept_vm_views(pool_key: str, vms) -> tuple[AcceptVmView, ...]:
    """The test VMs among `vms` (ObservedVMs of the pool's resource group) that `pool_key`'s decision owns."""
    out = []
    for vm in vms:
        tags = vm.tags or {}
        if TEST_VM_TAG in tags and norm_id(tags.get(TEST_VM_POOL_TAG)) == pool_key:
            where, state = tags.get(TEST_VM_WHERE_TAG, ""), vm.provisioning_state or ""
            created = tags.get(HOST_CREATED_TAG, "")
            out.append(AcceptVmView(vm.name, norm_id(tags[TEST_VM_TAG]), where, state, created))
    return tuple(sorted(out, key=lambda v: v.name.lower()))


@dataclass(frozen=True)
class AcceptVmDelete:
    """delete-test-vm: delete a test VM that tests nothing current any more (`reason` says why)."""

    version: str
    reason: str
