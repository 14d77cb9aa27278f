"""A dedicated test VM for acceptance (`acceptance.where: {testVm: ...}`): its name and its record on the version.

The VM is created from the version in the validation pool's resource group, joins no host pool, runs the
suite and is deleted. What lets any replica resume it lives on Azure: the version's TEST_VM_STATE_TAG
(written BEFORE the VM's PUT, so a kill after the PUT still leaves a record of the VM to delete) and the VM's
own TEST_VM_TAG (which version it tests).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

# On the image version: "<VM name>|<state>|<ISO time>".
TEST_VM_STATE_TAG = "avd-reconciler-acceptance-vm"
# On the test VM: the version id it was created from (lower-case).
TEST_VM_TAG = "avd-reconciler-test-vm"
PREFIX = "acc-"
COMPUTER_NAME_MAX = 15  # Windows NetBIOS computer-name limit


class AcceptVmState(StrEnum):
    CREATED = "created"  # its PUT was sent (or is about to be): it may exist
    DELETED = "deleted"  # its delete finished: nothing is left


@dataclass(frozen=True)
class AcceptVmPlan:
    """Where the test VM goes, as the plan carries it: its name, subnet and size (resolved at plan time)."""

    name: str
    subnet_id: str
    vm_size: str

    def to_json(self) -> dict:
        return {"name": self.name, "subnet_id": self.subnet_id, "vm_size": self.vm_size}

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
    vm: str
    state: AcceptVmState
    at: str

    def to_tag(self) -> str:
        return f"{self.vm}|{self.state.value}|{self.at}"

    @classmethod
    def parse(cls, value: str | None) -> AcceptVmRecord | None:
        parts = (value or "").split("|")
        if len(parts) != 3:
            return None
        try:
            return cls(parts[0], AcceptVmState(parts[1]), parts[2])
        except ValueError:
            return None


def accept_vm_record(tags: dict[str, str] | None) -> AcceptVmRecord | None:
    return AcceptVmRecord.parse((tags or {}).get(TEST_VM_STATE_TAG))
