"""ImageDefinition: an image definition in a gallery, with its retention policy."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from reconciler.spec import defaults as d
from reconciler.spec import naming
from reconciler.spec.durations import duration_between
from reconciler.spec.models.acceptance import Acceptance
from reconciler.spec.models.common import StrictModel, Tags, metadata_for


class Identifier(StrictModel):
    publisher: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    offer: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


class Feature(StrictModel):
    name: str = Field(min_length=1, description="e.g. SecurityType, IsAcceleratedNetworkSupported")
    value: str = Field(min_length=1, description="e.g. TrustedLaunch, True")


class Range(StrictModel):
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class Recommended(StrictModel):
    v_cpus: Range | None = Field(None, alias="vCPUs")
    memory: Range | None = Field(None, description="GiB")


class Retention(StrictModel):
    """What happens to older versions. A version still used by a host pool or a host is never deleted."""

    keep_newest: int = Field(d.RETENTION_KEEP_NEWEST, ge=1, le=1000, description="Versions kept as they are.")
    exclude_older_from_latest: bool = Field(
        d.RETENTION_EXCLUDE_OLDER_FROM_LATEST,
        description="Set excludeFromLatest on versions beyond keepNewest.",
    )
    end_of_life_after: duration_between("0s", "3650d") = Field(  # type: ignore[valid-type]
        d.RETENTION_END_OF_LIFE_AFTER,
        description="Stamp endOfLifeDate this long after a version is superseded.",
    )
    delete_after_end_of_life: bool = Field(
        d.RETENTION_DELETE_AFTER_END_OF_LIFE, description="Opt-in: delete versions past end-of-life."
    )


class ImageDefinitionSpec(StrictModel):
    gallery: str = Field(description="metadata.name of a Gallery document.")
    os_type: Literal["Windows", "Linux"] = d.OS_TYPE
    os_state: Literal["Generalized", "Specialized"] = d.OS_STATE
    hyper_v_generation: Literal["V1", "V2"] = d.HYPER_V_GENERATION
    architecture: Literal["x64", "Arm64"] = d.ARCHITECTURE
    identifier: Identifier
    features: list[Feature] = Field(default_factory=list)
    recommended: Recommended | None = None
    description: str | None = Field(None, max_length=1000)
    end_of_life_date: dt.date | None = None
    retention: Retention = Field(default_factory=Retention)
    acceptance: Acceptance | None = Field(
        None, description="Tests a new version must pass on a validation pool's first hosts before promotion."
    )
    tags: Tags = Field(default_factory=dict)

    @field_validator("features")
    @classmethod
    def _unique_features(cls, value: list[Feature]) -> list[Feature]:
        names = [f.name.lower() for f in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"feature {dupes[0]!r} is listed more than once")
        return value

    def feature(self, name: str) -> str | None:
        return next((f.value for f in self.features if f.name.lower() == name.lower()), None)


class ImageDefinitionDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["ImageDefinition"]
    metadata: metadata_for(naming.IMAGE_DEFINITION, "ImageDefinition")  # type: ignore[valid-type]
    spec: ImageDefinitionSpec
