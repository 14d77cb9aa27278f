"""The desired-state language: YAML under `desired/` → a validated, resolved, read-only `DesiredState`.

Documents look like Kubernetes objects::

    apiVersion: avd.reconciler.io/v1alpha1
    kind: Settings | Gallery | ImageDefinition | ImageVersion | ImageBuild | HostPool
    metadata: {name: ..., labels: {...}, annotations: {...}}
    spec: {...}

Public API (everything downstream code should use; it does no I/O beyond reading the YAML files)::

    load_desired(path: str | Path = "desired") -> DesiredState      # raises DesiredStateError
    DesiredStateError.errors -> list[SpecError]                      # all problems, sorted
    SpecError(file, line, col, field, message); str(e) == "file:LINE:COL: field.path: message"

    DesiredState
      .settings: Settings          (.subscriptions {alias: guid}, .ownership_tag (name, value), .interval, .spec)
      .galleries: tuple[Gallery]   .image_definitions: tuple[ImageDefinition]
      .image_versions: tuple[ImageVersion]   .image_builds: tuple[ImageBuild]   .host_pools: tuple[HostPool]
      .files: tuple[str]
      .gallery(name) / .image_build(name) / .host_pool(name) / .image_definition(ref)  -> object | None
      .find_definitions(ref) -> list          # ref = "definition" or "gallery/definition"
      .versions_of(definition) -> list[ImageVersion]          # lowest first, semantic-version order
      .latest_version(definition, region=None) -> ImageVersion | None
      .resolve_pin(pool) -> ImageVersion | None               # "latest" resolved in the pool's region
      .retained_versions(definition) -> list[ImageVersion]    # the keepNewest highest (validation only)
      .versions_built_by(build) -> list[ImageVersion]
      .ring_order() -> list[HostPool]; .rings() -> list[list[HostPool]]; .gated_by(pool) -> list[HostPool]
      .counts() -> dict[kind, int]; .summary() -> str

    Every resolved object (Gallery, ImageDefinition, ImageVersion, ImageBuild, HostPool) has
      .name, .arm_id, .tags (Settings default tags ∪ own tags ∪ ownership tag), .spec (the pydantic model,
      snake_case attributes, defaults applied), .file, and .origin("spec.rollout.batchSize") -> "file:line"
      (the closest written ancestor when the field was defaulted).
      Gallery/ImageBuild/HostPool: .subscription_id (GUID), .resource_group, .location (normalised).
      ImageDefinition: .gallery, .key ("gallery/def"); ImageVersion: .definition, .build (ImageBuild|None),
      .target_regions (EffectiveTargetRegion: name, replica_count, storage_account_type, exclude_from_latest),
      .sort_key, .key; HostPool: .definition, .pinned ("x.y.z"|"latest"), .gate_after.
      HostPool.spec.rollout.batch_hosts(pool_size) -> int; MaintenanceWindow.is_open(now) -> bool.

    schema() -> dict                       # JSON Schema (draft 2020-12) of every kind, for editors
    parse_duration("1h30m") -> timedelta; format_duration(td) -> "1h30m"; normalise_region("West Europe")
"""

from __future__ import annotations

from pathlib import Path

from reconciler.spec.crossref import cross_check
from reconciler.spec.defaults import API_VERSION
from reconciler.spec.desired import DesiredState
from reconciler.spec.durations import format_duration, parse_duration
from reconciler.spec.errors import DesiredStateError, SpecError
from reconciler.spec.loader import load_tree
from reconciler.spec.regions import normalise_region
from reconciler.spec.resolve import Resolver
from reconciler.spec.schema import schema
from reconciler.spec.state import (
    EffectiveTargetRegion,
    Gallery,
    HostPool,
    ImageBuild,
    ImageDefinition,
    ImageVersion,
    Settings,
)
from reconciler.spec.validate import validate_documents


def load_desired(path: str | Path = "desired") -> DesiredState:
    """Load, validate and resolve every YAML file under `path` (a directory, or a single file).

    Raises `DesiredStateError` with every problem found; never anything else for bad input.
    """
    root = Path(path)
    raws, errors = load_tree(root, str(path))
    validated = validate_documents(raws)
    errors += validated.errors
    resolver = Resolver(validated)
    state = resolver.resolve()
    errors += resolver.errors
    errors += cross_check(state, validated.broken_names.get("HostPool", set()))
    if errors:
        raise DesiredStateError(errors)
    return state


__all__ = [
    "API_VERSION",
    "DesiredState",
    "DesiredStateError",
    "EffectiveTargetRegion",
    "Gallery",
    "HostPool",
    "ImageBuild",
    "ImageDefinition",
    "ImageVersion",
    "Settings",
    "SpecError",
    "format_duration",
    "load_desired",
    "normalise_region",
    "parse_duration",
    "schema",
]
