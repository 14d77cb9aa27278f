"""The resolved, read-only desired state that the planner and the observer consume.

Every object here has Settings defaults applied (subscription alias → GUID, resource group, location, tags),
knows its ARM id (a string, built without I/O) and where it was written (`origin("spec.x")` →
`"desired/pools.yaml:42"`), so a plan can say which line of which file asked for a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from reconciler.spec.loader import RawDocument
from reconciler.spec.models.gallery import GallerySpec
from reconciler.spec.models.host_pool import HostPoolSpec
from reconciler.spec.models.image_build import ImageBuildSpec
from reconciler.spec.models.image_definition import ImageDefinitionSpec
from reconciler.spec.models.image_version import ImageVersionSpec
from reconciler.spec.models.settings import SettingsSpec
from reconciler.spec.naming import version_key

COMPUTE = "Microsoft.Compute"


@lru_cache(maxsize=1024)  # a plan asks for the same few field paths 10,000s of times
def parse_field_path(text: str) -> tuple[str | int, ...]:
    """`"spec.targetRegions[1].name"` → `("spec", "targetRegions", 1, "name")`."""
    parts: list[str | int] = []
    for chunk in text.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        if name:
            parts.append(name)
        parts += [int(i) for i in indexes]
    return tuple(parts)


@dataclass(frozen=True, eq=False, slots=True)
class _Located:
    """Mixin: where the document was written."""

    raw: RawDocument = field(repr=False, compare=False)

    @property
    def file(self) -> str:
        return self.raw.file

    def origin(self, field_path: str = "") -> str:
        """`"file:line"` of `field_path` (YAML names, e.g. `spec.rollout.batchSize`), or of the closest
        enclosing part that is written in the file when the field was left to its default."""
        return self.raw.origin(parse_field_path(field_path))


def rg_prefix(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


@dataclass(frozen=True, eq=False, slots=True)
class Settings:
    spec: SettingsSpec
    raw: RawDocument | None = field(default=None, repr=False)

    @property
    def subscriptions(self) -> dict[str, str]:
        return dict(self.spec.subscriptions)

    @property
    def ownership_tag(self) -> tuple[str, str]:
        return self.spec.ownership_tag.name, self.spec.ownership_tag.value

    @property
    def interval(self) -> timedelta:
        return self.spec.controller.interval

    def origin(self, field_path: str = "") -> str:
        return self.raw.origin(parse_field_path(field_path)) if self.raw else "(built-in defaults)"


@dataclass(frozen=True, eq=False, slots=True)
class Gallery(_Located):
    name: str = ""
    subscription_id: str = ""
    resource_group: str = ""
    location: str = ""
    tags: dict[str, str] = field(default_factory=dict)  # defaults ∪ own ∪ ownership tag
    spec: GallerySpec = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def arm_id(self) -> str:
        return f"{rg_prefix(self.subscription_id, self.resource_group)}/providers/{COMPUTE}/galleries/{self.name}"


@dataclass(frozen=True, eq=False, slots=True)
class ImageDefinition(_Located):
    name: str = ""
    gallery: Gallery = None  # type: ignore[assignment]
    tags: dict[str, str] = field(default_factory=dict)
    spec: ImageDefinitionSpec = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def key(self) -> str:
        """`gallery/definition`: unique across the desired state."""
        return f"{self.gallery.name}/{self.name}"

    @property
    def subscription_id(self) -> str:
        return self.gallery.subscription_id

    @property
    def resource_group(self) -> str:
        return self.gallery.resource_group

    @property
    def location(self) -> str:
        return self.gallery.location

    @property
    def arm_id(self) -> str:
        return f"{self.gallery.arm_id}/images/{self.name}"


@dataclass(frozen=True, slots=True)
class EffectiveTargetRegion:
    """A target region with the version-wide defaults filled in (equal ones are one object: resolve.py)."""

    name: str
    replica_count: int
    storage_account_type: str
    exclude_from_latest: bool


@dataclass(frozen=True, eq=False, slots=True)
class ImageBuild(_Located):
    name: str = ""
    subscription_id: str = ""
    resource_group: str = ""
    location: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    spec: ImageBuildSpec = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def arm_id(self) -> str:
        rg = rg_prefix(self.subscription_id, self.resource_group)
        return f"{rg}/providers/Microsoft.VirtualMachineImages/imageTemplates/{self.name}"


@dataclass(frozen=True, eq=False, slots=True)
class ImageVersion(_Located):
    name: str = ""  # Major.Minor.Patch
    definition: ImageDefinition = None  # type: ignore[assignment]
    build: ImageBuild | None = None  # set when spec.source.build names an ImageBuild
    target_regions: tuple[EffectiveTargetRegion, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    spec: ImageVersionSpec = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def key(self) -> str:
        return f"{self.definition.key}/{self.name}"

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return version_key(self.name)

    @property
    def location(self) -> str:
        return self.definition.location

    @property
    def arm_id(self) -> str:
        return f"{self.definition.arm_id}/versions/{self.name}"


@dataclass(frozen=True, eq=False, slots=True)
class HostPool(_Located):
    name: str = ""
    subscription_id: str = ""
    resource_group: str = ""
    location: str = ""
    definition: ImageDefinition = None  # type: ignore[assignment]
    tags: dict[str, str] = field(default_factory=dict)
    spec: HostPoolSpec = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def pinned(self) -> str:
        """`x.y.z` or `latest`, as written."""
        return self.spec.image.version

    @property
    def gate_after(self) -> str | None:
        return self.spec.rollout.gate.after if self.spec.rollout.gate else None

    @property
    def arm_id(self) -> str:
        rg = rg_prefix(self.subscription_id, self.resource_group)
        return f"{rg}/providers/Microsoft.DesktopVirtualization/hostPools/{self.name}"


def describe(obj: Any) -> str:
    return f"{type(obj).__name__} {getattr(obj, 'key', getattr(obj, 'name', '?'))}"
