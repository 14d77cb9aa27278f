"""The rules a gallery image version's PUT and PATCH must pass, as Compute enforces them: the version name, the
immutable storage source and storage type (409 PropertyChangeNotAllowed), target regions and replica counts
(400 InvalidParameter), the source existing at create, and the safety profile's region removal."""

from __future__ import annotations

import re
from typing import Any

from ..errors import bad_request, conflict, not_found
from ..routing import norm_region
from .base import norm_value
from .sources import absent, vm_source_problem

VERSION_RE = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,10}$")
INT32_MAX = 2**31 - 1
# The REST spec's galleryImageVersionName: "Needs to follow semantic version name pattern: The allowed characters
# are digit and period. Digits must be within the range of a 32-bit integer. Format: <MajorVersion>.<MinorVersion>.
# <Patch>" (specification/compute/.../GalleryRP/.../galleryImageVersion.json; the Azure CLI's help repeats it).
VERSION_NAME_RULE = (
    "Needs to follow semantic version name pattern: The allowed characters are digit and period. Digits must be "
    "within the range of a 32-bit integer. Format: <MajorVersion>.<MinorVersion>.<Patch>"
)
REPLICA_COUNT_RANGE = (1, 100)  # [inf] packer-plugin-azure#337: "Replica count must be between 1 and 100"


class VersionName:
    """`name_re` for versions: the pattern, and each part a 32-bit signed integer."""

    def match(self, name: str) -> bool:
        return bool(VERSION_RE.match(name)) and all(int(p) <= INT32_MAX for p in name.split("."))


def source_ids(sp: dict[str, Any]) -> list[str]:
    """Every resource a version's storageProfile is made from: the image, version or VM, and disk snapshots."""
    source = sp.get("source") or {}
    disks = [sp.get("osDiskImage") or {}, *(sp.get("dataDiskImages") or [])]
    ids = [source.get("id"), source.get("virtualMachineId")]
    ids += [(d.get("source") or {}).get("id") for d in disks]
    return [i for i in ids if i]


def check_immutable(existing: dict[str, Any], props: dict[str, Any]) -> None:
    old_sp = existing.get("properties", {}).get("storageProfile") or {}
    new_sp = props.get("storageProfile")
    if new_sp is not None:
        for key in ("source", "osDiskImage"):
            old_src = (
                (old_sp.get(key) or {}).get("id")
                if key == "source"
                else (old_sp.get(key) or {}).get("source")
            )
            new_src = (
                (new_sp.get(key) or {}).get("id")
                if key == "source"
                else (new_sp.get(key) or {}).get("source")
            )
            if new_src and old_src and norm_value(new_src) != norm_value(old_src):
                raise conflict(
                    "PropertyChangeNotAllowed",
                    f"Changing property 'galleryImageVersion.properties.storageProfile.{key}' is not allowed.",
                    f"galleryImageVersion.properties.storageProfile.{key}",
                )
    old_pp = existing.get("properties", {}).get("publishingProfile") or {}
    new_pp = props.get("publishingProfile") or {}
    if (
        new_pp.get("storageAccountType")
        and old_pp.get("storageAccountType")
        and (new_pp["storageAccountType"].lower() != old_pp["storageAccountType"].lower())
    ):
        raise conflict(
            "PropertyChangeNotAllowed",
            "Changing property 'galleryImageVersion.properties."
            "publishingProfile.storageAccountType' is not allowed.",
        )


def check_publishing(pp: dict[str, Any]) -> None:
    """Each region once, and every replica count in range: Azure refuses both (400 InvalidParameter)
    instead of deduplicating or defaulting as the sandbox once did."""
    seen: dict[str, int] = {}
    low, high = REPLICA_COUNT_RANGE
    if "replicaCount" in pp and pp["replicaCount"] is not None and not low <= pp["replicaCount"] <= high:
        raise bad_request(
            f"The replica count {pp['replicaCount']} is invalid. Replica count must be between {low} and {high}.",
            "InvalidParameter",
            "galleryImageVersion.properties.publishingProfile.replicaCount",
        )
    for i, tr in enumerate(pp.get("targetRegions") or []):
        region = norm_region(tr.get("name"))
        if region in seen:
            raise bad_request(
                f"The target region '{tr.get('name')}' is specified more than once in the request "
                f"(targetRegions[{seen[region]}] and targetRegions[{i}]).",
                "InvalidParameter",
                f"galleryImageVersion.properties.publishingProfile.targetRegions[{i}].name",
            )
        seen[region] = i
        count = tr.get("regionalReplicaCount")
        if count is not None and not low <= count <= high:
            raise bad_request(
                f"The regional replica count {count} for region '{tr.get('name')}' is invalid. Replica count "
                f"must be between {low} and {high}.",
                "InvalidParameter",
                f"galleryImageVersion.properties.publishingProfile.targetRegions[{i}].regionalReplicaCount",
            )


def check_source(app: Any, rid: str, sp: dict[str, Any]) -> None:
    """The image the version is made from must exist when it is created: Compute reads it to replicate, so
    a create naming a deleted image fails at once (404 ResourceNotFound on the source, ARM's text) instead of
    starting a replication. Only on create: Azure keeps a version whose source was deleted afterwards.
    Shape and sources: tests/fixtures/refusals.json "VersionSourceNotFound"."""
    for sid in source_ids(sp):
        if absent(app, sid):
            raise not_found(sid)
    vm_id = (sp.get("source") or {}).get("virtualMachineId")
    problem = vm_id and vm_source_problem(app, rid, vm_id)
    if problem:
        raise problem


def check_region_removal(existing: dict[str, Any], props: dict[str, Any], replicated: list[str]) -> None:
    safety = existing.get("properties", {}).get("safetyProfile") or {}
    new_trs = (props.get("publishingProfile") or {}).get("targetRegions")
    if new_trs is None or safety.get("allowDeletionOfReplicatedLocations", True):
        return
    removed = set(replicated) - {norm_region(t.get("name")) for t in new_trs}
    if removed:
        raise conflict(
            "OperationNotAllowed",
            f"Removing replicated regions {sorted(removed)} is not allowed "
            "because safetyProfile.allowDeletionOfReplicatedLocations is false.",
        )
