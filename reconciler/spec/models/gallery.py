"""Gallery: an Azure Compute Gallery."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reconciler.spec import defaults as d
from reconciler.spec import naming
from reconciler.spec.models.common import (
    Region,
    ResourceGroupName,
    StrictModel,
    SubscriptionRef,
    Tags,
    metadata_for,
)


class SoftDelete(StrictModel):
    enabled: bool = Field(True, description="Keep deleted image versions recoverable.")
    retention_days: int = Field(7, ge=1, le=90, description="Days a soft-deleted version stays recoverable.")


class GallerySpec(StrictModel):
    subscription: SubscriptionRef | None = Field(
        None, description="Default: Settings.spec.defaults.subscription."
    )
    resource_group: ResourceGroupName | None = Field(  # type: ignore[valid-type]
        None, description="Default: Settings.spec.defaults.resourceGroup."
    )
    location: Region | None = Field(None, description="Default: Settings.spec.defaults.location.")
    description: str | None = Field(None, max_length=1000)
    soft_delete: SoftDelete = Field(default_factory=SoftDelete)
    tags: Tags = Field(default_factory=dict)


class GalleryDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["Gallery"]
    metadata: metadata_for(naming.GALLERY, "Gallery")  # type: ignore[valid-type]
    spec: GallerySpec = Field(default_factory=GallerySpec)
