"""Settings: subscription aliases, defaults inherited by other documents, ownership tag, controller interval,
whether missing resource groups are created."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from reconciler.spec import defaults as d
from reconciler.spec import naming
from reconciler.spec.durations import duration_between
from reconciler.spec.models.common import (
    Metadata,
    Region,
    ResourceGroupName,
    StrictModel,
    SubscriptionRef,
    Tags,
)


class Inherited(StrictModel):
    """Values used by Gallery, ImageBuild and HostPool documents that do not set their own."""

    subscription: SubscriptionRef | None = Field(None, description="Alias or subscription id.")
    resource_group: ResourceGroupName | None = None  # type: ignore[valid-type]
    location: Region | None = None
    tags: Tags = Field(default_factory=dict, description="Merged under every resource's own tags.")


class OwnershipTag(StrictModel):
    """The tag that marks resources this reconciler owns; it never touches resources without it."""

    name: str = Field(d.OWNERSHIP_TAG_NAME, pattern=r"^[^<>%&\\?/]{1,512}$")
    value: str = Field(d.OWNERSHIP_TAG_VALUE, min_length=1, max_length=256)


class Controller(StrictModel):
    interval: duration_between("1m", "24h") = Field(  # type: ignore[valid-type]
        d.CONTROLLER_INTERVAL, description="Time between reconcile cycles of `reconcile run`."
    )
    suspend: bool = Field(
        False,
        description="Pause every write of `reconcile run`: it keeps observing, planning and reporting drift.",
    )


class ResourceGroupPolicy(StrictModel):
    create: bool = Field(
        True,
        description="Create the resource groups that galleries, image builds and host pools name when they are "
        "missing (tagged with the ownership tag). false: a missing one is a plan error instead.",
    )


class BuildPolicy(StrictModel):
    max_concurrent: int = Field(
        5,
        ge=1,
        le=100,
        description="Image Builder runs at once per subscription (ours and others' counted); the rest queue, "
        "shown in plan as queued builds, and start in a later cycle.",
    )


class SettingsSpec(StrictModel):
    subscriptions: dict[str, str] = Field(
        default_factory=dict, description="Alias → subscription id (GUID). Documents may use either."
    )
    defaults: Inherited = Field(default_factory=Inherited)
    ownership_tag: OwnershipTag = Field(default_factory=OwnershipTag)
    controller: Controller = Field(default_factory=Controller)
    resource_groups: ResourceGroupPolicy = Field(default_factory=ResourceGroupPolicy)
    builds: BuildPolicy = Field(default_factory=BuildPolicy)

    @field_validator("subscriptions")
    @classmethod
    def _aliases(cls, value: dict[str, str]) -> dict[str, str]:
        for alias, guid in value.items():
            naming.SUBSCRIPTION_ALIAS.check(alias)
            try:
                naming.GUID.check(guid)
            except ValueError:
                raise ValueError(f"alias {alias!r}: {guid!r} is not a subscription id (GUID)") from None
        return {alias: guid.lower() for alias, guid in value.items()}


class SettingsDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["Settings"]
    metadata: Metadata
    spec: SettingsSpec = Field(default_factory=SettingsSpec)
