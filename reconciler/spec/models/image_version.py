"""ImageVersion: one `Major.Minor.Patch` version of an image definition, where it comes from and where it goes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from reconciler.spec import defaults as d
from reconciler.spec import naming
from reconciler.spec.models.common import Metadata, Region, StrictModel, Tags

StorageAccountType = Literal["Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS"]


class VersionSource(StrictModel):
    """Exactly one of these."""

    build: str | None = Field(None, description="metadata.name of an ImageBuild that produces this version.")
    managed_image_id: naming.MANAGED_IMAGE_ID.type() | None = None  # type: ignore[valid-type]
    virtual_machine_id: naming.VM_ID.type() | None = None  # type: ignore[valid-type]
    snapshot_id: naming.SNAPSHOT_ID.type() | None = None  # type: ignore[valid-type]
    image_version_id: naming.GALLERY_VERSION_ID.type() | None = None  # type: ignore[valid-type]
    source_version: str | None = Field(
        None,
        pattern=r"^[0-9]+(\.[0-9]+)*$",
        description="With build: the exact source image version Image Builder starts from, in place of the "
        "build's `latest` (`reconcile release` writes it, so a build is reproducible).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> VersionSource:
        given = [
            name
            for name, value in self.model_dump(by_alias=True, exclude={"source_version"}).items()
            if value is not None
        ]
        if len(given) != 1:
            listed = ", ".join(given) if given else "none"
            raise ValueError(
                "give exactly one source: build, managedImageId, virtualMachineId, snapshotId or "
                f"imageVersionId (given: {listed})"
            )
        if self.source_version is not None and self.build is None:
            raise ValueError("sourceVersion only goes with build (the version of the build's source image)")
        return self

    @property
    def kind(self) -> str:
        """Which source was given, by its YAML name (e.g. "build")."""
        dumped = self.model_dump(by_alias=True, exclude={"source_version"})
        return next(k for k, v in dumped.items() if v is not None)


class TargetRegion(StrictModel):
    name: Region
    replica_count: int | None = Field(None, ge=1, le=100, description="Default: spec.replicaCount.")
    storage_account_type: StorageAccountType | None = Field(
        None, description="Default: spec.storageAccountType."
    )
    exclude_from_latest: bool = Field(
        False, description="Hide this version from `latest` in this region only."
    )


class SafetyProfile(StrictModel):
    allow_deletion_of_replicated_locations: bool = d.ALLOW_DELETION_OF_REPLICATED_LOCATIONS
    block_deletion_before_end_of_life: bool = d.BLOCK_DELETION_BEFORE_END_OF_LIFE


class ImageVersionMetadata(Metadata):
    name: naming.VersionName = Field(description="The version, Major.Minor.Patch (each a 32-bit integer).")


class ImageVersionSpec(StrictModel):
    definition: str = Field(description="ImageDefinition name, or `gallery/definition` when ambiguous.")
    source: VersionSource
    target_regions: list[TargetRegion] = Field(
        min_length=1, description="Must include the gallery's location."
    )
    replica_count: int = Field(d.REPLICA_COUNT, ge=1, le=100)
    storage_account_type: StorageAccountType = d.STORAGE_ACCOUNT_TYPE
    exclude_from_latest: bool = False
    end_of_life_date: dt.date | None = None
    replication_mode: Literal["Full", "Shallow"] = d.REPLICATION_MODE
    safety_profile: SafetyProfile = Field(default_factory=SafetyProfile)
    tags: Tags = Field(default_factory=dict)


class ImageVersionDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["ImageVersion"]
    metadata: ImageVersionMetadata
    spec: ImageVersionSpec
