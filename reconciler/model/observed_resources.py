"""Observed resource types: one frozen dataclass per kind of ARM resource, plus id/region helpers.

See reconciler.model.observed for the snapshot that holds them and the invariants they keep (lower-cased id
keys, last-segment names, normalised regions, no secrets). Slotted: the large estate has 41,000 of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from reconciler.model.acceptance import HealthCheck
from reconciler.model.fingerprint import (
    FIELDS_OF,
    GALLERY,
    HOST_POOL,
    IMAGE_DEFINITION,
    IMAGE_TEMPLATE,
    IMAGE_VERSION,
    SESSION_HOST,
    USER_SESSION,
    VIRTUAL_MACHINE,
    fingerprint,
    host_vm_fields,
)

EMPTY: Mapping[str, Any] = MappingProxyType({})


def id_parts(resource_id: str) -> dict[str, str]:
    """{"subscriptions": s, "resourcegroups": rg, "galleries": g, ...} from an ARM id (keys lower-cased)."""
    parts = resource_id.strip("/").split("/")
    out: dict[str, str] = {}
    for i in range(0, len(parts) - 1, 2):
        if parts[i].lower() != "providers":
            out[parts[i].lower()] = parts[i + 1]
        else:
            out.setdefault("namespace", parts[i + 1])
    return out


def norm_id(resource_id: str | None) -> str:
    """The comparison key of an ARM id: lower-cased, no trailing slash ("" for None). Hot: keep it cheap."""
    if not resource_id:
        return ""
    key = resource_id.lower()
    return key.rstrip("/") if key[-1] == "/" else key


def normalize_region(region: str | None) -> str:
    """Region comparison key: "West Europe" -> "westeurope".

    ARM echoes display names in some places and short names in others."""
    return (region or "").replace(" ", "").lower()


def leaf_name(name_or_id: str | None) -> str:
    return (name_or_id or "").rstrip("/").split("/")[-1]


def parent_id(resource_id: str, levels: int = 1) -> str:
    """Strip `levels` (type, name) pairs from an id: parent_id(version_id) is its definition id (lower-cased)."""
    parts = norm_id(resource_id).split("/")
    return "/".join(parts[: len(parts) - 2 * levels])


@dataclass(frozen=True, slots=True)
class _Resource:
    id: str
    name: str
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY, kw_only=True)
    raw: Mapping[str, Any] = field(default_factory=lambda: EMPTY, kw_only=True, repr=False, compare=False)
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """norm_id(id), computed once: the snapshot's maps and a plan's fingerprints then share one string
        per resource (the large estate's plan held ~8 MB of copies)."""
        if self._key is None:
            object.__setattr__(self, "_key", norm_id(self.id))
        return self._key

    @property
    def subscription_id(self) -> str:
        return self.key.split("/")[2] if self.key.startswith("/subscriptions/") else ""

    @property
    def resource_group(self) -> str:
        parts = self.key.split("/")
        return parts[4] if len(parts) > 4 and parts[3] == "resourcegroups" else ""

    # The ARM type, which picks the fields that count toward the fingerprint (reconciler.model.fingerprint).
    arm_type: ClassVar[str] = ""

    @property
    def fingerprint_fields(self) -> dict[str, Any]:
        """Label → value of the observed fields that count toward the fingerprint (configuration only)."""
        return dict(sorted(self.unsorted_fingerprint_fields.items()))

    @property
    def unsorted_fingerprint_fields(self) -> dict[str, Any]:
        """`fingerprint_fields` in no set order, for what sorts them itself (the hash, the field digests)."""
        return FIELDS_OF[self.arm_type](self.raw)

    @property
    def fingerprint(self) -> str:
        """The hash of `fingerprint_fields` (computed on first use, then kept)."""
        if self._fingerprint is None:
            object.__setattr__(self, "_fingerprint", fingerprint(self.unsorted_fingerprint_fields))
        return self._fingerprint


@dataclass(frozen=True, slots=True)
class ObservedGallery(_Resource):
    arm_type: ClassVar[str] = GALLERY

    location: str = ""
    description: str | None = None
    provisioning_state: str | None = None


@dataclass(frozen=True, slots=True)
class ImageIdentifier:
    publisher: str
    offer: str
    sku: str


@dataclass(frozen=True, slots=True)
class ObservedImageDefinition(_Resource):
    arm_type: ClassVar[str] = IMAGE_DEFINITION

    gallery_id: str = ""
    location: str = ""
    os_type: str | None = None
    os_state: str | None = None
    hyper_v_generation: str | None = None
    architecture: str | None = None
    identifier: ImageIdentifier | None = None
    features: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    description: str | None = None
    end_of_life_date: datetime | None = None
    provisioning_state: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedTargetRegion:
    name: str  # normalised
    regional_replica_count: int | None = None
    storage_account_type: str | None = None
    exclude_from_latest: bool | None = None


@dataclass(frozen=True, slots=True)
class ObservedRegionReplication:
    region: str  # normalised
    state: str  # Unknown | Replicating | Completed | Failed
    progress: int | None = None
    details: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedImageVersion(_Resource):
    """`replication` is the per-region status, read (with $expand=ReplicationStatus) only when the version is
    not Succeeded; a Succeeded version is complete in every target region, because ARM finishes the create /
    update LRO only after the last region replicated."""

    arm_type: ClassVar[str] = IMAGE_VERSION
    definition_id: str = ""
    location: str = ""
    target_regions: tuple[ObservedTargetRegion, ...] = ()
    replica_count: int | None = None
    storage_account_type: str | None = None
    exclude_from_latest: bool = False
    end_of_life_date: datetime | None = None
    published_date: datetime | None = None
    provisioning_state: str | None = None
    # safetyProfile.allowDeletionOfReplicatedLocations: None when Azure sent null, True when it sent nothing
    allow_deletion_of_replicated_locations: bool | None = True
    source_id: str | None = None
    replication: tuple[ObservedRegionReplication, ...] | None = None
    replication_state: str | None = None  # aggregatedState when read

    @property
    def region_names(self) -> frozenset[str]:
        return frozenset(r.name for r in self.target_regions)

    def replication_state_in(self, region: str) -> str:
        """Completed | Replicating | Failed | Unknown | Absent, for one region."""
        region = normalize_region(region)
        if region not in self.region_names:
            return "Absent"
        if self.provisioning_state == "Succeeded":
            return "Completed"
        for r in self.replication or ():
            if r.region == region:
                return r.state
        return "Unknown"

    def is_replicated_to(self, region: str) -> bool:
        return self.replication_state_in(region) == "Completed"


@dataclass(frozen=True, slots=True)
class ObservedImageTemplate(_Resource):
    arm_type: ClassVar[str] = IMAGE_TEMPLATE

    location: str = ""
    provisioning_state: str | None = None
    provisioning_error: str | None = None  # "<code>: <message>"
    last_run_state: str | None = (
        None  # Running | Canceling | Succeeded | PartiallySucceeded | Failed | Canceled
    )
    last_run_sub_state: str | None = None
    last_run_message: str | None = None
    last_run_start: datetime | None = None
    last_run_end: datetime | None = None
    source: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    distribute_image_ids: tuple[str, ...] = ()  # galleryImageId of each SharedImage distribute, as returned

    @property
    def target_version_id(self) -> str | None:
        """The explicit gallery image version this template builds (lower-cased), if it names one."""
        for image_id in self.distribute_image_ids:
            if "/versions/" in image_id.lower():
                return norm_id(image_id)
        return None

    @property
    def is_running(self) -> bool:
        return self.last_run_state in ("Running", "Canceling")

    @property
    def last_run_failed(self) -> bool:
        """The last run ended without a whole output (Image Builder's Failed, Canceled, PartiallySucceeded)."""
        return self.last_run_state in ("Failed", "Canceled", "PartiallySucceeded")


@dataclass(frozen=True, slots=True)
class ObservedHostPool(_Resource):
    """Never holds the registration token: only its expiry."""

    arm_type: ClassVar[str] = HOST_POOL
    location: str = ""
    host_pool_type: str | None = None
    load_balancer_type: str | None = None
    preferred_app_group_type: str | None = None
    max_session_limit: int | None = None
    friendly_name: str | None = None
    description: str | None = None
    start_vm_on_connect: bool | None = None
    validation_environment: bool | None = None
    registration_expires: datetime | None = None


@dataclass(frozen=True, slots=True)
class ObservedSessionHost(_Resource):
    """`name` is the FQDN (last path segment). `vm_id` is the ARM id of the VM behind it (lower-cased);
    `image_version_id` is the gallery image version that VM was created from, joined from the VM list.

    `vm` is that VM as observed (None when it is gone or not joined). A host and its VM are one thing to a
    rollout, so the host's fingerprint covers the VM's counting fields too (`vm.<field>`, or `vm: absent`
    when the host names a VM that no longer exists): a VM deleted, rebuilt or re-tagged makes a plan that
    acts on its host stale, and the refusal names the host."""

    arm_type: ClassVar[str] = SESSION_HOST
    host_pool_id: str = ""
    status: str | None = None
    allow_new_session: bool = True
    sessions: int = 0
    vm_id: str | None = None
    vm_uuid: str | None = None
    image_version_id: str | None = None
    update_state: str | None = None
    last_heartbeat: datetime | None = None
    assigned_user: str | None = None
    agent_version: str | None = None
    health_checks: tuple[HealthCheck, ...] = ()  # sessionHostHealthCheckResults; empty until it reports
    vm: ObservedVM | None = field(default=None, repr=False, compare=False)

    @property
    def unsorted_fingerprint_fields(self) -> dict[str, Any]:
        fields = FIELDS_OF[self.arm_type](self.raw)
        if self.vm is not None:
            fields.update(host_vm_fields(self.vm.raw))
        elif self.vm_id:
            fields["vm"] = "absent"
        return fields


@dataclass(frozen=True, slots=True)
class ObservedVM(_Resource):
    """`image_version_id` is the exact gallery image version (lower-cased id): the imageReference id when it
    names a version, or definition id + exactVersion when the VM was created from "latest". Its `raw` (and
    so its fingerprint) is the subset of the VM's JSON that counts (`reconciler.azure.convert_kept.essentials`):
    identity, placement, image, size, tags. VMs are replaced, never diffed."""

    arm_type: ClassVar[str] = VIRTUAL_MACHINE
    location: str = ""
    vm_uuid: str | None = None
    computer_name: str | None = None
    vm_size: str | None = None
    provisioning_state: str | None = None
    image_reference_id: str | None = None
    image_version_id: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedUserSession(_Resource):
    arm_type: ClassVar[str] = USER_SESSION

    host_pool_id: str = ""
    session_host_name: str = ""
    user_principal_name: str | None = None
    session_state: str | None = None
    application_type: str | None = None
    create_time: datetime | None = None
