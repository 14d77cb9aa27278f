"""Desired documents → the REST bodies the reconciler manages (exactly what apply PUTs, and what diff compares).

Only fields the desired-state language sets appear here, so a diff never reports fields Azure adds on its own
(provisioningState, publishedDate, …). Values are written in the form Azure echoes them: regions as short
names, dates as midnight UTC ISO strings, so an unchanged resource compares equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from reconciler.spec.durations import format_duration


def iso_date(value: dt.date | dt.datetime | None) -> str | None:
    """A date as Azure echoes endOfLifeDate: `2027-01-01T00:00:00+00:00`."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def gallery_body(gallery) -> dict[str, Any]:
    spec = gallery.spec
    return {
        "location": gallery.location,
        "tags": dict(sorted(gallery.tags.items())),
        "properties": _drop_none(
            {
                "description": spec.description,
                "softDeletePolicy": {"isSoftDeleteEnabled": spec.soft_delete.enabled},
            }
        ),
    }


DEFINITION_IMMUTABLE = ("osType", "osState", "hyperVGeneration", "architecture", "identifier")


def definition_body(definition) -> dict[str, Any]:
    spec = definition.spec
    recommended = None
    if spec.recommended is not None:
        recommended = _drop_none(
            {
                "vCPUs": spec.recommended.v_cpus
                and {"min": spec.recommended.v_cpus.min, "max": spec.recommended.v_cpus.max},
                "memory": spec.recommended.memory
                and {"min": spec.recommended.memory.min, "max": spec.recommended.memory.max},
            }
        )
    props = {
        "osType": spec.os_type,
        "osState": spec.os_state,
        "hyperVGeneration": spec.hyper_v_generation,
        "architecture": spec.architecture,
        "identifier": {
            "publisher": spec.identifier.publisher,
            "offer": spec.identifier.offer,
            "sku": spec.identifier.sku,
        },
        "features": [{"name": f.name, "value": f.value} for f in spec.features] or None,
        "recommended": recommended,
        "description": spec.description,
        "endOfLifeDate": iso_date(spec.end_of_life_date),
    }
    return {
        "location": definition.location,
        "tags": dict(sorted(definition.tags.items())),
        "properties": _drop_none(props),
    }


def target_regions(version) -> list[dict[str, Any]]:
    """Compute's TargetRegion list (defaults filled in), sorted by region so order never reads as drift."""
    regions = [
        {
            "name": r.name,
            "regionalReplicaCount": r.replica_count,
            "storageAccountType": r.storage_account_type,
            "excludeFromLatest": r.exclude_from_latest,
        }
        for r in version.target_regions
    ]
    return sorted(regions, key=lambda r: r["name"])


def version_body(version, source_id: str | None) -> dict[str, Any]:
    """`source_id` is None for a version an ImageBuild produces (Image Builder sets the source)."""
    spec = version.spec
    publishing = _drop_none(
        {
            "targetRegions": target_regions(version),
            "replicaCount": spec.replica_count,
            "storageAccountType": spec.storage_account_type,
            "excludeFromLatest": spec.exclude_from_latest,
            "endOfLifeDate": iso_date(spec.end_of_life_date),
            "replicationMode": spec.replication_mode,
        }
    )
    props: dict[str, Any] = {
        "publishingProfile": publishing,
        "safetyProfile": {
            "allowDeletionOfReplicatedLocations": spec.safety_profile.allow_deletion_of_replicated_locations,
            "blockDeletionBeforeEndOfLife": spec.safety_profile.block_deletion_before_end_of_life,
        },
    }
    if source_id is not None:
        # A captured VM goes in `virtualMachineId` (GalleryArtifactVersionFullSource); images and versions in `id`.
        key = (
            "virtualMachineId"
            if "/providers/microsoft.compute/virtualmachines/" in source_id.lower()
            else "id"
        )
        props["storageProfile"] = {"source": {key: source_id}}
    return {"location": version.location, "tags": dict(sorted(version.tags.items())), "properties": props}


def _customizer(step) -> dict[str, Any]:
    data = step.model_dump(by_alias=True, exclude_none=True)
    if "restartTimeout" in data:
        data["restartTimeout"] = format_duration(step.restart_timeout)
    return data


def template_body(build, version, source: dict[str, Any]) -> dict[str, Any]:
    """The Image Builder template that builds exactly `version` (explicit version id: we own the numbers)."""
    spec, version_spec, version_id, tags = build.spec, version.spec, version.arm_id, build.tags
    vm_profile = _drop_none(
        {
            "vmSize": spec.vm_size,
            "osDiskSizeGB": spec.os_disk_size_gb,
            "vnetConfig": {"subnetId": spec.subnet_id} if spec.subnet_id else None,
        }
    )
    distribute = {
        "type": "SharedImage",
        "runOutputName": version_id.rstrip("/").rsplit("/", 1)[-1].replace(".", "-"),
        "galleryImageId": version_id,
        "targetRegions": [
            {
                "name": r["name"],
                "replicaCount": r["regionalReplicaCount"],
                "storageAccountType": r["storageAccountType"],
            }
            for r in target_regions(version)
        ],
        # Immutable on the version once made, so Image Builder must create it with ours (the post-build PATCH
        # cannot change it): the version-level default, besides each region's own.
        "storageAccountType": version_spec.storage_account_type,
        "excludeFromLatest": version_spec.exclude_from_latest,
        "replicationMode": version_spec.replication_mode,
        "artifactTags": dict(sorted(tags.items())),
    }
    props = _drop_none(
        {
            "source": source,
            "customize": [_customizer(s) for s in spec.customize],
            "distribute": [distribute],
            "buildTimeoutInMinutes": int(spec.build_timeout.total_seconds() // 60),
            "vmProfile": vm_profile,
            "stagingResourceGroup": spec.staging_resource_group,
        }
    )
    return {
        "location": build.location,
        "tags": dict(sorted(tags.items())),
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {spec.identity: {}}},
        "properties": props,
    }


def content_hash(body: dict[str, Any], length: int = 10) -> str:
    """Templates are immutable in Azure, so a changed recipe must get a new name: name = build + hash."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:length]


def host_pool_body(pool) -> dict[str, Any]:
    spec = pool.spec
    props = _drop_none(
        {
            "hostPoolType": spec.host_pool_type,
            "loadBalancerType": spec.effective_load_balancer_type,
            "preferredAppGroupType": spec.preferred_app_group_type,
            "maxSessionLimit": spec.max_session_limit,
            "friendlyName": spec.friendly_name,
            "description": spec.description,
            "validationEnvironment": spec.validation_environment,
            "startVMOnConnect": spec.start_vm_on_connect,
            "personalDesktopAssignmentType": spec.personal_desktop_assignment_type,
        }
    )
    return {"location": pool.location, "tags": dict(sorted(pool.tags.items())), "properties": props}
