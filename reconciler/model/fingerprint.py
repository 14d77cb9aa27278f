"""Fingerprints of observed resources: the configuration a plan's decisions rest on, never runtime facts.

A saved plan records, for every resource a change depends on, a fingerprint of that resource; `reconcile
apply PLANFILE` observes again and refuses the plan if one moved (reconciler.engine.stale). What counts is an
explicit allow-list per ARM type (`FINGERPRINT_FIELDS`, quoted in README.md): desired-state-managed
properties, tags (they carry our pins and rollout progress), identity and placement. Anything else, and in
particular everything that moves while users work, does not count (`RUNTIME_FIELDS` names the notable ones):

- session counts, heartbeats, status and its timestamp, agent/OS versions, health checks, update state:
  they change by the minute in business hours. Apply never acts on the plan's copy of them: a `roll` or a
  session-host change re-runs decide() on a fresh observation every cycle (reconciler.engine.rollout), so a
  host that became Unavailable or gained users since the plan is handled with the capacity floor and drain
  rules applied to what is true then. Drain state (`allowNewSession`) and `assignedUser` *do* count: they
  are set by people (or by us), and a host drained by hand is a decision someone made.
- `provisioningState`, replication status and progress, Image Builder run status, VM power state, creation
  and update timestamps, etag, systemData: the state of operations in flight. The actions that depend on
  them re-read them right before writing (a pin waits until the version is replicated to the pool's region,
  replicate and build poll the version and the template), so a plan made while a version replicated still
  applies once it finished.
- a host pool's `registrationInfo`: apply renews the registration token itself when it needs one.

A session host's fingerprint also covers its VM's fields (`vm.<field>`, or `vm` = absent once the VM is
gone; reconciler.model.observed_resources.ObservedSessionHost): to a rollout a host and its VM are one thing.
A resource that disappeared (or appeared where the plan expected none) always counts: its fingerprint is
"absent". Fields are labelled by their REST path without the leading `properties.`; each tag is a field of
its own (`tags.<name>`), so a refusal names the tag. A null value counts as absent (ARM omits and nulls
fields interchangeably). Plan and apply compute fingerprints with this one module, so they cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

GALLERY = "Microsoft.Compute/galleries"
IMAGE_DEFINITION = "Microsoft.Compute/galleries/images"
IMAGE_VERSION = "Microsoft.Compute/galleries/images/versions"
IMAGE_TEMPLATE = "Microsoft.VirtualMachineImages/imageTemplates"
HOST_POOL = "Microsoft.DesktopVirtualization/hostPools"
SESSION_HOST = "Microsoft.DesktopVirtualization/hostPools/sessionHosts"
VIRTUAL_MACHINE = "Microsoft.Compute/virtualMachines"
USER_SESSION = "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions"

# ARM type → the REST paths whose values count ("tags" stands for one field per tag). The README quotes it.
FINGERPRINT_FIELDS: Mapping[str, tuple[str, ...]] = {
    GALLERY: (
        "location",
        "tags",
        "properties.description",
        "properties.softDeletePolicy",
        "properties.sharingProfile",
    ),
    IMAGE_DEFINITION: (
        "location",
        "tags",
        "properties.osType",
        "properties.osState",
        "properties.hyperVGeneration",
        "properties.architecture",
        "properties.identifier",
        "properties.features",
        "properties.recommended",
        "properties.disallowed",
        "properties.purchasePlan",
        "properties.description",
        "properties.endOfLifeDate",
    ),
    IMAGE_VERSION: (
        "location",
        "tags",
        "properties.publishingProfile.targetRegions",
        "properties.publishingProfile.replicaCount",
        "properties.publishingProfile.storageAccountType",
        "properties.publishingProfile.excludeFromLatest",
        "properties.publishingProfile.endOfLifeDate",
        "properties.publishingProfile.replicationMode",
        "properties.safetyProfile",
        "properties.storageProfile.source",
    ),
    IMAGE_TEMPLATE: (
        "location",
        "tags",
        "identity",
        "properties.source",
        "properties.customize",
        "properties.distribute",
        "properties.vmProfile",
        "properties.buildTimeoutInMinutes",
        "properties.stagingResourceGroup",
    ),
    HOST_POOL: (
        "location",
        "tags",
        "properties.hostPoolType",
        "properties.loadBalancerType",
        "properties.preferredAppGroupType",
        "properties.maxSessionLimit",
        "properties.personalDesktopAssignmentType",
        "properties.friendlyName",
        "properties.description",
        "properties.validationEnvironment",
        "properties.startVMOnConnect",
        "properties.customRdpProperty",
        "properties.ring",
    ),
    SESSION_HOST: (
        "properties.resourceId",
        "properties.virtualMachineId",
        "properties.allowNewSession",
        "properties.assignedUser",
        "properties.friendlyName",
    ),
    VIRTUAL_MACHINE: (
        "location",
        "zones",
        "tags",
        "properties.vmId",
        "properties.hardwareProfile.vmSize",
        "properties.storageProfile.imageReference",
        "properties.osProfile.computerName",
        "properties.licenseType",
    ),
    # Sessions are users coming and going: nothing about them counts (no plan depends on one).
    USER_SESSION: (),
}

# Notable fields that do NOT count, per ARM type, and why (documentation and tests; not used to decide).
RUNTIME_FIELDS: Mapping[str, tuple[str, ...]] = {
    GALLERY: ("etag", "systemData", "properties.provisioningState"),
    IMAGE_DEFINITION: ("etag", "systemData", "properties.provisioningState"),
    IMAGE_VERSION: (
        "etag",
        "systemData",
        "properties.provisioningState",
        "properties.replicationStatus",
        "properties.publishingProfile.publishedDate",
    ),
    IMAGE_TEMPLATE: (
        "etag",
        "systemData",
        "properties.provisioningState",
        "properties.provisioningError",
        "properties.lastRunStatus",
    ),
    HOST_POOL: ("etag", "systemData", "properties.registrationInfo"),
    SESSION_HOST: (
        "properties.sessions",
        "properties.status",
        "properties.statusTimestamp",
        "properties.lastHeartBeat",
        "properties.lastUpdateTime",
        "properties.updateState",
        "properties.updateErrorMessage",
        "properties.agentVersion",
        "properties.osVersion",
        "properties.sxSStackVersion",
        "properties.sessionHostHealthCheckResults",
    ),
    VIRTUAL_MACHINE: (
        "properties.provisioningState",
        "properties.instanceView",
        "properties.timeCreated",
    ),
    USER_SESSION: (
        "properties.sessionState",
        "properties.userPrincipalName",
        "properties.createTime",
    ),
}


def label_of(path: str) -> str:
    """The name a refusal uses for a field: its REST path without `properties.`."""
    return path.removeprefix("properties.")


_MAPS = (dict, MappingProxyType)  # what REST JSON and Observed.raw are (an ABC check costs more)


def _compile(paths: tuple[str, ...], prefix: str = "") -> tuple:
    """Per first part of `paths`, in order, its fields' (`prefix` + label, other parts, is tags)."""
    groups: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}
    for path in paths:
        first, *rest = path.split(".")
        label = label_of(path)
        groups.setdefault(first, []).append((prefix + label, tuple(rest), label == "tags"))
    return tuple((first, tuple(entries)) for first, entries in groups.items())


# Split once per ARM type (a plan fingerprints thousands of resources; grouped so `properties` is looked up
# once), and for the VM fields a host's fingerprint counts as `vm.<label>` (observed_resources).
_COMPILED = {t: _compile(paths) for t, paths in FINGERPRINT_FIELDS.items()}
_HOST_VM = _compile(FINGERPRINT_FIELDS[VIRTUAL_MACHINE], "vm.")


def _pick(raw: Mapping[str, Any], compiled: tuple) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(raw, _MAPS):
        return out
    for first, entries in compiled:
        top = raw.get(first)
        if top is None:
            continue
        for label, rest, tags in entries:
            value: Any = top
            for part in rest:
                value = value.get(part) if isinstance(value, _MAPS) else None
                if value is None:
                    break
            if value is None:
                continue
            if tags:
                out.update({f"{label}.{k}": v for k, v in value.items() if v is not None})
            else:
                out[label] = value
    return out


def gallery_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(raw, _COMPILED[GALLERY])


def image_definition_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(raw, _COMPILED[IMAGE_DEFINITION])


def image_version_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(raw, _COMPILED[IMAGE_VERSION])


def image_template_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(raw, _COMPILED[IMAGE_TEMPLATE])


def host_pool_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(raw, _COMPILED[HOST_POOL])


def session_host_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`allowNewSession` defaults to true in AVD: an absent value and `true` are the same drain state."""
    out = _pick(raw, _COMPILED[SESSION_HOST])
    out["allowNewSession"] = out.get("allowNewSession", True) is not False
    return out


def vm_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(raw, _COMPILED[VIRTUAL_MACHINE])


def host_vm_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`vm_fields`, each labelled `vm.<label>`."""
    return _pick(raw, _HOST_VM)


def user_session_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {}


FIELDS_OF = {
    GALLERY: gallery_fields,
    IMAGE_DEFINITION: image_definition_fields,
    IMAGE_VERSION: image_version_fields,
    IMAGE_TEMPLATE: image_template_fields,
    HOST_POOL: host_pool_fields,
    SESSION_HOST: session_host_fields,
    VIRTUAL_MACHINE: vm_fields,
    USER_SESSION: user_session_fields,
}


def fingerprint_fields(arm_type: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Label → value of every field of `raw` (an ARM resource of `arm_type`) that counts, sorted by label."""
    return dict(sorted(FIELDS_OF[arm_type](raw).items()))


# What json.dumps(..., sort_keys=True, separators=(",", ":"), default=str) builds on every call (constructing
# the encoder costs as much as encoding a resource); encode() keeps no state between calls.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> str:
    return _ENCODER.encode(value)


def fingerprint(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON (sorted keys, no whitespace) of any JSON-able value."""
    return "sha256:" + hashlib.sha256(canonical_json(value).encode()).hexdigest()


def resource_fingerprint(arm_type: str, raw: Mapping[str, Any]) -> str:
    """The fingerprint of an observed resource: `fingerprint` of its counting fields."""
    return fingerprint(FIELDS_OF[arm_type](raw))  # canonical JSON sorts the keys


# Per-field digests only name what changed (the resource fingerprint decides), so 40 bits are plenty and keep
# a saved plan of a 1,000-host rollout small.
FIELD_DIGEST_CHARS = 10


def short_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:FIELD_DIGEST_CHARS]


def field_digests(fields: Mapping[str, Any]) -> dict[str, str]:
    """Label → short hex digest of each field's value, stored in a saved plan to name what changed."""
    return {label: short_digest(canonical_json(value)) for label, value in sorted(fields.items())}


def changed_fields(planned: Mapping[str, str], now: Mapping[str, Any]) -> list[str]:
    """Labels whose digest in `planned` differs from the current `now` fields (added and removed included)."""
    current = field_digests(now)
    return sorted(k for k in planned.keys() | current.keys() if planned.get(k) != current.get(k))
