"""ImageBuild: an Azure VM Image Builder recipe (source, ordered customize steps, build VM)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from reconciler.spec import defaults as d
from reconciler.spec import naming
from reconciler.spec.durations import duration_between
from reconciler.spec.models.common import (
    Region,
    ResourceGroupName,
    StrictModel,
    SubscriptionRef,
    Tags,
    metadata_for,
)

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


class ImageBuildDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["ImageBuild"]
    metadata: metadata_for(naming.IMAGE_TEMPLATE, "ImageBuild")  # type: ignore[valid-type]
    spec: ImageBuildSpec
