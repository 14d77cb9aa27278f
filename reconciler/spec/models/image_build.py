"""ImageBuild: an Azure VM Image Builder recipe (source, ordered customize steps, build VM)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from reconciler.spec import cron, naming
from reconciler.spec import defaults as d
from reconciler.spec.durations import duration_between
from reconciler.spec.models.common import (
    Region,
    ResourceGroupName,
    StrictModel,
    SubscriptionRef,
    Tags,
    metadata_for,
)
from reconciler.spec.models.host_pool import _check_zone
from reconciler.spec.models.image_version import StorageAccountType, TargetRegion

HttpsUri = naming.HTTPS_URI.type()
Sha256 = naming.SHA256.type()


class PlatformImage(StrictModel):
    publisher: str = Field(min_length=1)
    offer: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    version: str = Field(d.PLATFORM_IMAGE_VERSION, pattern=r"^(latest|[0-9]+(\.[0-9]+)*)$")


class GalleryImageSource(StrictModel):
    definition: str = Field(
        description="ImageDefinition name (or gallery/definition) declared in desired state."
    )
    version: naming.VersionPin = "latest"


class BuildSource(StrictModel):
    """Exactly one of these."""

    platform_image: PlatformImage | None = None
    image_version: GalleryImageSource | None = None
    image_version_id: naming.GALLERY_VERSION_ID.type() | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _exactly_one(self) -> BuildSource:
        given = [k for k, v in self.model_dump(by_alias=True).items() if v is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one source: platformImage, imageVersion or imageVersionId "
                f"(given: {', '.join(given) or 'none'})"
            )
        return self


def _script_source(step: _ScriptStep) -> None:
    if (step.inline is None) == (step.script_uri is None):
        raise ValueError("give exactly one of inline or scriptUri")
    if step.script_uri is not None and step.sha256_checksum is None:
        raise ValueError("a step that downloads from scriptUri needs sha256Checksum")
    if step.inline is not None and step.sha256_checksum is not None:
        raise ValueError("sha256Checksum only applies to scriptUri")


class _ScriptStep(StrictModel):
    name: str = Field(min_length=1)
    inline: list[str] | None = Field(None, min_length=1, description="Commands run in order.")
    script_uri: HttpsUri | None = None  # type: ignore[valid-type]
    sha256_checksum: Sha256 | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _source(self):
        _script_source(self)
        return self


class PowerShellStep(_ScriptStep):
    type: Literal["PowerShell"]
    run_elevated: bool = False
    run_as_system: bool = False
    valid_exit_codes: list[int] = Field(default_factory=lambda: [0])


class ShellStep(_ScriptStep):
    type: Literal["Shell"]


class FileStep(StrictModel):
    type: Literal["File"]
    name: str = Field(min_length=1)
    source_uri: HttpsUri  # type: ignore[valid-type]
    sha256_checksum: Sha256 = Field(description="Required: every download is pinned.")  # type: ignore[valid-type]
    destination: str = Field(min_length=1)


class WindowsUpdateStep(StrictModel):
    type: Literal["WindowsUpdate"]
    name: str = Field(min_length=1)
    search_criteria: str = d.WINDOWS_UPDATE_SEARCH
    filters: list[str] = Field(default_factory=lambda: list(d.WINDOWS_UPDATE_FILTERS))
    update_limit: int = Field(d.WINDOWS_UPDATE_LIMIT, ge=1, le=10000)


class WindowsRestartStep(StrictModel):
    type: Literal["WindowsRestart"]
    name: str = Field(min_length=1)
    restart_command: str | None = None
    restart_check_command: str | None = None
    restart_timeout: duration_between("1m", "2h") = d.RESTART_TIMEOUT  # type: ignore[valid-type]


Step = Annotated[
    PowerShellStep | ShellStep | FileStep | WindowsUpdateStep | WindowsRestartStep,
    Field(discriminator="type"),
]


def _check_schedule(value: str) -> str:
    cron.parse_schedule(value)
    return value


class Schedule(StrictModel):
    cron: Annotated[str, BeforeValidator(_check_schedule)] = Field(
        description="5-field cron with nth weekday (`0 4 * * 3#2`: second Wednesday 04:00) or "
        "`@patch-tuesday+1d 04:00` (exactly the day after the second Tuesday)."
    )
    time_zone: Annotated[str, BeforeValidator(_check_zone)] = Field("UTC", description="IANA")


class Triggers(StrictModel):
    """When `reconcile release` writes a new ImageVersion for this build (any that fires)."""

    schedule: Schedule | None = None
    source_image_update: bool = Field(
        False, description="A newer source image appeared (platform image or gallery image on `latest`)."
    )
    recipe_change: bool = Field(
        True, description="The recipe changed since the newest version built from it."
    )


VERSIONING_MINOR = "{major}.{minor+1}.0"
VERSIONING_DATE = "{yyyy}.{mm}.{n}"


class Release(StrictModel):
    """The ImageVersion `reconcile release` writes: where it goes, its number, its fields."""

    definition: str = Field(description="ImageDefinition name (or gallery/definition) the versions go into.")
    versioning: Literal["{major}.{minor+1}.0", "{yyyy}.{mm}.{n}"] = Field(
        VERSIONING_MINOR,
        description="Next after the newest declared version, or year.month.n (n counts up within a month).",
    )
    target_regions: list[TargetRegion] = Field(min_length=1)
    replica_count: int = Field(d.REPLICA_COUNT, ge=1, le=100)
    storage_account_type: StorageAccountType = d.STORAGE_ACCOUNT_TYPE
    exclude_from_latest: bool = Field(False, description="Hide new versions from `latest` (until accepted).")
    end_of_life_after: duration_between("1d", "3650d") | None = None  # type: ignore[valid-type]
    tags: Tags = Field(default_factory=dict)


class ImageBuildSpec(StrictModel):
    subscription: SubscriptionRef | None = Field(
        None, description="Default: Settings.spec.defaults.subscription."
    )
    resource_group: ResourceGroupName | None = None  # type: ignore[valid-type]
    location: Region | None = Field(None, description="Where the build VM runs. Default: Settings location.")
    identity: naming.IDENTITY_ID.type()  # type: ignore[valid-type]
    source: BuildSource
    customize: list[Step] = Field(min_length=1, description="Run in order.")
    vm_size: str = Field(d.BUILD_VM_SIZE, pattern=r"^(Standard|Basic)_[A-Za-z0-9_-]+$")
    os_disk_size_gb: int | None = Field(None, ge=30, le=4095, alias="osDiskSizeGB")
    subnet_id: naming.SUBNET_ID.type() | None = None  # type: ignore[valid-type]
    build_timeout: duration_between("6m", "16h") = d.BUILD_TIMEOUT  # type: ignore[valid-type]
    staging_resource_group: naming.RESOURCE_GROUP_ID.type() | None = None  # type: ignore[valid-type]
    tags: Tags = Field(default_factory=dict)
    triggers: Triggers | None = Field(
        None, description="Needs `release`. Default with release: recipeChange."
    )
    release: Release | None = None

    @model_validator(mode="after")
    def _triggers(self) -> ImageBuildSpec:
        if self.triggers is not None and self.release is None:
            raise ValueError(
                "triggers need spec.release: the ImageVersion template new versions are made from"
            )
        if self.triggers is not None and self.triggers.source_image_update:
            pinned = (
                self.source.image_version_id is not None
                or (self.source.platform_image or self.source.image_version).version != "latest"
            )
            if pinned:
                raise ValueError(
                    "sourceImageUpdate needs a source on version `latest`: a pinned one never moves"
                )
        return self

    @property
    def effective_triggers(self) -> Triggers | None:
        """None without a release template (nothing to write); else the triggers, recipeChange by default."""
        if self.release is None:
            return None
        return self.triggers or Triggers()


class ImageBuildDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["ImageBuild"]
    metadata: metadata_for(naming.IMAGE_TEMPLATE, "ImageBuild")  # type: ignore[valid-type]
    spec: ImageBuildSpec
