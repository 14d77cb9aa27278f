"""The fingerprint field tables: configuration counts, runtime facts do not, and every field has a name.

Each ARM type's sample below is what a GET returns, runtime fields included. Moving any field listed in
RUNTIME_FIELDS must leave the fingerprint alone; moving any field listed in FINGERPRINT_FIELDS must change it
and be named by changed_fields (that name is what a stale-plan refusal prints).
"""

from __future__ import annotations

import copy

import pytest

from reconciler.azure import convert
from reconciler.model import observed as obs
from reconciler.model.fingerprint import (
    FIELD_DIGEST_CHARS,
    FIELDS_OF,
    FINGERPRINT_FIELDS,
    GALLERY,
    HOST_POOL,
    IMAGE_DEFINITION,
    IMAGE_TEMPLATE,
    IMAGE_VERSION,
    RUNTIME_FIELDS,
    SESSION_HOST,
    USER_SESSION,
    VIRTUAL_MACHINE,
    changed_fields,
    field_digests,
    fingerprint_fields,
    label_of,
    resource_fingerprint,
)

SUB = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg"
GAL = f"{SUB}/providers/Microsoft.Compute/galleries/gal1"
POOL = f"{SUB}/providers/Microsoft.DesktopVirtualization/hostPools/hp1"
VM_ID = f"{SUB}/providers/Microsoft.Compute/virtualMachines/avd-0"
HOST = f"{POOL}/sessionHosts/avd-0.corp.example"
STAMP = "2026-11-29T12:00:00Z"

SAMPLES: dict[str, dict] = {
    GALLERY: {
        "id": GAL,
        "name": "gal1",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "etag": "1",
        "systemData": {"lastModifiedAt": STAMP},
        "properties": {
            "description": "golden",
            "softDeletePolicy": {"isSoftDeleteEnabled": True},
            "sharingProfile": {"permissions": "Private"},
            "provisioningState": "Succeeded",
            "identifier": {"uniqueName": "abc-gal1"},
        },
    },
    IMAGE_DEFINITION: {
        "id": f"{GAL}/images/win11",
        "name": "win11",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "properties": {
            "osType": "Windows",
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "architecture": "x64",
            "identifier": {"publisher": "P", "offer": "O", "sku": "S"},
            "features": [{"name": "SecurityType", "value": "TrustedLaunch"}],
            "recommended": {"vCPUs": {"min": 2}},
            "disallowed": {"diskTypes": ["Standard_LRS"]},
            "purchasePlan": {"name": "p"},
            "description": "Windows 11",
            "endOfLifeDate": "2027-01-01T00:00:00Z",
            "provisioningState": "Succeeded",
        },
    },
    IMAGE_VERSION: {
        "id": f"{GAL}/images/win11/versions/1.0.0",
        "name": "1.0.0",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "properties": {
            "publishingProfile": {
                "targetRegions": [{"name": "West Europe", "regionalReplicaCount": 1}],
                "replicaCount": 1,
                "storageAccountType": "Standard_LRS",
                "excludeFromLatest": False,
                "endOfLifeDate": "2027-01-01T00:00:00Z",
                "replicationMode": "Full",
                "publishedDate": STAMP,
            },
            "safetyProfile": {"allowDeletionOfReplicatedLocations": True},
            "storageProfile": {"source": {"id": f"{SUB}/providers/Microsoft.Compute/images/src"}},
            "provisioningState": "Updating",
            "replicationStatus": {
                "aggregatedState": "InProgress",
                "summary": [{"region": "West Europe", "state": "Replicating", "progress": 40}],
            },
        },
    },
    IMAGE_TEMPLATE: {
        "id": f"{SUB}/providers/Microsoft.VirtualMachineImages/imageTemplates/t1",
        "name": "t1",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/x/id1": {}}},
        "properties": {
            "source": {"type": "PlatformImage", "version": "latest"},
            "customize": [{"type": "PowerShell", "inline": ["echo"]}],
            "distribute": [{"type": "SharedImage", "galleryImageId": f"{GAL}/images/win11/versions/1.1.0"}],
            "vmProfile": {"vmSize": "Standard_D4s_v5"},
            "buildTimeoutInMinutes": 120,
            "stagingResourceGroup": f"{SUB}-staging",
            "provisioningState": "Succeeded",
            "provisioningError": {"provisioningErrorCode": "None"},
            "lastRunStatus": {"runState": "Running", "runSubState": "Building", "startTime": STAMP},
        },
    },
    HOST_POOL: {
        "id": POOL,
        "name": "hp1",
        "location": "westeurope",
        "tags": {"owner": "us", "avd-pin": "v1"},
        "properties": {
            "hostPoolType": "Pooled",
            "loadBalancerType": "BreadthFirst",
            "preferredAppGroupType": "Desktop",
            "maxSessionLimit": 10,
            "personalDesktopAssignmentType": "Automatic",
            "friendlyName": "HP 1",
            "description": "pool",
            "validationEnvironment": False,
            "startVMOnConnect": True,
            "customRdpProperty": "audiomode:i:0;",
            "ring": 1,
            "registrationInfo": {"expirationTime": STAMP, "registrationTokenOperation": "Update"},
            "agentUpdate": {"type": "Default"},
        },
    },
    SESSION_HOST: {
        "id": HOST,
        "name": "hp1/avd-0.corp.example",
        "properties": {
            "resourceId": VM_ID,
            "virtualMachineId": "vm-uuid-0",
            "allowNewSession": True,
            "assignedUser": "ann@corp.example",
            "friendlyName": "avd-0",
            "sessions": 3,
            "status": "Available",
            "statusTimestamp": STAMP,
            "lastHeartBeat": STAMP,
            "lastUpdateTime": STAMP,
            "updateState": "Succeeded",
            "updateErrorMessage": "",
            "agentVersion": "1.0.1",
            "osVersion": "10.0.1",
            "sxSStackVersion": "rdp-1",
            "sessionHostHealthCheckResults": [
                {"healthCheckName": "DomainJoinedCheck", "healthCheckResult": "HealthCheckSucceeded"}
            ],
        },
    },
    VIRTUAL_MACHINE: {
        "id": VM_ID,
        "name": "avd-0",
        "location": "westeurope",
        "zones": ["1"],
        "tags": {"avd-host-pool": POOL.lower()},
        "properties": {
            "vmId": "vm-uuid-0",
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {"imageReference": {"id": f"{GAL}/images/win11/versions/1.0.0"}},
            "osProfile": {"computerName": "avd-0"},
            "licenseType": "Windows_Client",
            "provisioningState": "Succeeded",
            "timeCreated": STAMP,
            "instanceView": {"statuses": [{"code": "PowerState/running"}]},
        },
    },
    USER_SESSION: {
        "id": f"{HOST}/userSessions/1",
        "name": "hp1/avd-0.corp.example/1",
        "properties": {
            "userPrincipalName": "ann@corp.example",
            "sessionState": "Active",
            "createTime": STAMP,
        },
    },
}


def _set(raw: dict, path: str, value) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        raw = raw.setdefault(part, {})
    raw[parts[-1]] = value


def _get(raw: dict, path: str):
    for part in path.split("."):
        raw = raw.get(part) if isinstance(raw, dict) else None
    return raw


def _moved(arm_type: str, path: str) -> dict:
    raw = copy.deepcopy(SAMPLES[arm_type])
    now = _get(raw, path)
    _set(raw, path, (not now) if isinstance(now, bool) else {"moved": path})
    return raw


OBSERVED_CLASSES = [
    obs.ObservedGallery,
    obs.ObservedImageDefinition,
    obs.ObservedImageVersion,
    obs.ObservedImageTemplate,
    obs.ObservedHostPool,
    obs.ObservedSessionHost,
    obs.ObservedVM,
    obs.ObservedUserSession,
]


def test_every_observed_type_has_a_field_table_and_a_function():
    assert {cls.arm_type for cls in OBSERVED_CLASSES} == set(FINGERPRINT_FIELDS) == set(FIELDS_OF)
    assert set(RUNTIME_FIELDS) == set(FINGERPRINT_FIELDS)
    for arm_type, paths in FINGERPRINT_FIELDS.items():
        assert not set(paths) & set(RUNTIME_FIELDS[arm_type]), arm_type


RUNTIME_CASES = [(t, p) for t, paths in RUNTIME_FIELDS.items() for p in paths]
CONFIG_CASES = [(t, p) for t, paths in FINGERPRINT_FIELDS.items() for p in paths if p != "tags"]


@pytest.mark.parametrize(
    ("arm_type", "path"), RUNTIME_CASES, ids=[f"{t.rsplit('/', 1)[-1]}:{p}" for t, p in RUNTIME_CASES]
)
def test_runtime_fields_do_not_count(arm_type, path):
    before = resource_fingerprint(arm_type, SAMPLES[arm_type])
    assert resource_fingerprint(arm_type, _moved(arm_type, path)) == before


@pytest.mark.parametrize(
    ("arm_type", "path"), CONFIG_CASES, ids=[f"{t.rsplit('/', 1)[-1]}:{p}" for t, p in CONFIG_CASES]
)
def test_configuration_fields_count_and_are_named(arm_type, path):
    planned = field_digests(fingerprint_fields(arm_type, SAMPLES[arm_type]))
    moved = _moved(arm_type, path)
    assert resource_fingerprint(arm_type, moved) != resource_fingerprint(arm_type, SAMPLES[arm_type])
    assert changed_fields(planned, fingerprint_fields(arm_type, moved)) == [label_of(path)]


@pytest.mark.parametrize("arm_type", [t for t, paths in FINGERPRINT_FIELDS.items() if "tags" in paths])
def test_each_tag_is_a_field_of_its_own(arm_type):
    planned = field_digests(fingerprint_fields(arm_type, SAMPLES[arm_type]))
    raw = copy.deepcopy(SAMPLES[arm_type])
    raw["tags"]["avd-retire"] = "2026-11-29T12:00:00+00:00"
    assert changed_fields(planned, fingerprint_fields(arm_type, raw)) == ["tags.avd-retire"]
    tags = raw.pop("tags")
    assert changed_fields(planned, fingerprint_fields(arm_type, raw)) == sorted(
        f"tags.{k}" for k in tags if k != "avd-retire"
    )


def test_user_sessions_count_for_nothing():
    assert fingerprint_fields(USER_SESSION, SAMPLES[USER_SESSION]) == {}


def test_a_missing_or_null_field_is_the_same_and_allow_new_session_defaults_to_true():
    raw = copy.deepcopy(SAMPLES[SESSION_HOST])
    raw["properties"]["assignedUser"] = None
    without = copy.deepcopy(raw)
    del without["properties"]["assignedUser"], without["properties"]["allowNewSession"]
    assert resource_fingerprint(SESSION_HOST, raw) == resource_fingerprint(SESSION_HOST, without)
    raw["properties"]["allowNewSession"] = False
    assert fingerprint_fields(SESSION_HOST, raw)["allowNewSession"] is False


def test_field_digests_are_short_and_stable():
    digests = field_digests(fingerprint_fields(HOST_POOL, SAMPLES[HOST_POOL]))
    assert all(len(d) == FIELD_DIGEST_CHARS for d in digests.values())
    assert digests == field_digests(fingerprint_fields(HOST_POOL, copy.deepcopy(SAMPLES[HOST_POOL])))
    assert "maxSessionLimit" in digests and "registrationInfo" not in digests


def _host(vms: dict) -> obs.ObservedSessionHost:
    return convert.session_host(copy.deepcopy(SAMPLES[SESSION_HOST]), vms)


def test_a_session_host_fingerprint_covers_its_vm():
    vm = convert.vm(copy.deepcopy(SAMPLES[VIRTUAL_MACHINE]))
    host = _host({vm.key: vm})
    fields = host.fingerprint_fields
    assert fields["vm.vmId"] == "vm-uuid-0" and fields["vm.tags.avd-host-pool"] == POOL.lower()
    assert "sessions" not in fields and "status" not in fields and "lastHeartBeat" not in fields
    # The VM re-tagged (rollout progress), rebuilt (new vmId) or deleted: the host's fingerprint moves.
    retagged = copy.deepcopy(SAMPLES[VIRTUAL_MACHINE])
    retagged["tags"]["avd-retire"] = STAMP
    again = convert.vm(retagged)
    assert changed_fields(field_digests(fields), _host({again.key: again}).fingerprint_fields) == [
        "vm.tags.avd-retire"
    ]
    gone = _host({})
    assert gone.fingerprint != host.fingerprint and gone.fingerprint_fields["vm"] == "absent"
    # ...but not the VM's power or provisioning state.
    running = copy.deepcopy(SAMPLES[VIRTUAL_MACHINE])
    running["properties"]["provisioningState"] = "Updating"
    moved = convert.vm(running)
    assert _host({moved.key: moved}).fingerprint == host.fingerprint
