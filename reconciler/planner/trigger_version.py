"""A due build's new version: its number (the versioning policy) and the ImageVersion document git gets.

Pure: the number comes from the declared and existing versions (never from Azure's own numbering), the
document from the build's `release` template and the resolved source, so each release is a reviewed line in git.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reconciler.planner.bodies import content_hash
from reconciler.spec.models.image_build import VERSIONING_DATE
from reconciler.spec.naming import version_key
from reconciler.spec.state import ImageBuild, ImageDefinition

RELEASED_TAG = "avd-reconciler-released"
SOURCE_TAG = "avd-reconciler-source"
RECIPE_TAG = "avd-reconciler-recipe"
TRIGGER_TAG = "avd-reconciler-trigger"
_INT32 = 2**31 - 1


def recipe_hash(build: ImageBuild) -> str:
    """What makes a build's output: source, steps, VM, timeouts, identity; not its triggers, release or tags."""
    recipe = build.spec.model_dump(
        by_alias=True,
        mode="json",
        include={
            "source",
            "customize",
            "vm_size",
            "os_disk_size_gb",
            "subnet_id",
            "build_timeout",
            "staging_resource_group",
            "identity",
        },
    )
    return content_hash(recipe)


def next_version(
    desired, observed, definition, scheme: str, now: datetime, zone: ZoneInfo, taken: set[str] = frozenset()
) -> str:
    """The next number: after the newest declared (or existing) version, or year.month.n in `zone`.
    Raises ValueError when a part would pass 32 bits (Azure's limit for each part)."""
    names = {v.name for v in desired.versions_of(definition)} | set(taken)
    names |= {v.name for v in observed.versions_of(definition.arm_id)}
    keys = sorted(version_key(n) for n in names if is_version(n))
    if scheme == VERSIONING_DATE:
        local = now.astimezone(zone)
        same_month = [k[2] for k in keys if k[0] == local.year and k[1] == local.month]
        candidate = (local.year, local.month, max(same_month, default=0) + 1)
    else:
        major, minor, _ = keys[-1] if keys else (1, -1, 0)
        candidate = (major, minor + 1, 0)
    if max(candidate) > _INT32:
        raise ValueError(f"the next version {'.'.join(map(str, candidate))} has a part beyond 32 bits")
    return ".".join(map(str, candidate))


def is_version(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)


def version_document(
    build, number, fired, reasons, resolved, floating_version: str | None, now: datetime
) -> dict[str, Any]:
    """The ImageVersion document `reconcile release` writes (YAML names, as a person would write it).
    `floating_version`: the version a `latest` source resolved to, which the release pins."""
    release = build.spec.release
    spec: dict[str, Any] = {"definition": release.definition, "source": {"build": build.name}}
    if floating_version:
        spec["source"]["sourceVersion"] = floating_version
    spec["targetRegions"] = [
        r.model_dump(by_alias=True, exclude_defaults=True, mode="json") for r in release.target_regions
    ]
    spec["replicaCount"] = release.replica_count
    spec["storageAccountType"] = release.storage_account_type
    spec["excludeFromLatest"] = release.exclude_from_latest
    if release.end_of_life_after is not None:
        spec["endOfLifeDate"] = (now + release.end_of_life_after).date().isoformat()
    spec["tags"] = {
        **release.tags,
        RELEASED_TAG: now.isoformat(),
        SOURCE_TAG: resolved,
        RECIPE_TAG: recipe_hash(build),
        TRIGGER_TAG: ",".join(fired),
    }
    return {
        "apiVersion": "avd.reconciler.io/v1alpha1",
        "kind": "ImageVersion",
        "metadata": {
            "name": number,
            "annotations": {
                "release.avd.reconciler.io/trigger": "; ".join(reasons),
                "release.avd.reconciler.io/source": resolved,
                "release.avd.reconciler.io/released-at": now.isoformat(),
            },
        },
        "spec": spec,
    }


def release_folder(definition: ImageDefinition) -> str:
    """Where released versions live under desired/: versions/<definition>/ (the loader reads it recursively)."""
    return f"versions/{definition.name}"
