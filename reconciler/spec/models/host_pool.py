"""HostPool: an AVD host pool, the image it pins, its session-host template and its rollout policy."""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from reconciler.spec import cron, naming
from reconciler.spec import defaults as d
from reconciler.spec.durations import duration_between
from reconciler.spec.models.common import (
    Region,
    ResourceGroupName,
    SecretReference,
    StrictModel,
    SubscriptionRef,
    Tags,
    metadata_for,
)


class ImagePin(StrictModel):
    definition: str = Field(description="ImageDefinition name, or `gallery/definition` when ambiguous.")
    version: naming.VersionPin = Field(
        description="`x.y.z`, or `latest` = the highest declared version not excluded from latest.",
    )


class LocalAdmin(StrictModel):
    username: str = Field(d.LOCAL_ADMIN_USERNAME, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")
    password: SecretReference


class EntraJoin(StrictModel):
    type: Literal["entra"]
    intune: bool = Field(False, description="Enrol hosts in Intune.")


class DomainJoin(StrictModel):
    type: Literal["activeDirectory"]
    domain: str = Field(pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", description="e.g. corp.contoso.com")
    ou_path: str | None = Field(None, description="e.g. OU=AVD,DC=corp,DC=contoso,DC=com")
    username: str = Field(min_length=1, description="Account allowed to join computers to the domain.")
    password: SecretReference


Join = Annotated[EntraJoin | DomainJoin, Field(discriminator="type")]
Zone = Annotated[
    Literal["1", "2", "3"],
    BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
    WithJsonSchema({"enum": ["1", "2", "3", 1, 2, 3], "description": "availability zone"}),
]


class SessionHosts(StrictModel):
    count: int = Field(ge=0, le=1000, description="Session hosts the pool should have.")
    vm_size: str = Field(pattern=r"^(Standard|Basic)_[A-Za-z0-9_-]+$", description="e.g. Standard_D8s_v5")
    name_prefix: naming.VM_NAME_PREFIX.type() = Field(  # type: ignore[valid-type]
        description="Hosts are named `<prefix>-<n>`; on Windows the whole name must fit in 15 characters."
    )
    subnet_id: naming.SUBNET_ID.type()  # type: ignore[valid-type]
    zones: list[Zone] = Field(default_factory=list, description="Spread hosts over these availability zones.")
    os_disk_type: Literal[
        "Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"
    ] = d.VM_OS_DISK_TYPE
    os_disk_size_gb: int | None = Field(None, ge=30, le=4095, alias="osDiskSizeGB")
    security_type: Literal["TrustedLaunch", "ConfidentialVM", "Standard"] = d.VM_SECURITY_TYPE
    license_type: Literal["Windows_Client", "Windows_Server", "None"] = d.VM_LICENSE_TYPE
    local_admin: LocalAdmin
    join: Join

    @field_validator("zones")
    @classmethod
    def _unique_zones(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a zone is listed more than once")
        return value


def _check_cron(value: str) -> str:
    cron.parse_cron(value)
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Amsterdam") from None
    return value


class MaintenanceWindow(StrictModel):
    cron: Annotated[str, BeforeValidator(_check_cron)] = Field(
        description="5-field cron: when the window opens, e.g. `0 22 * * 2-4`."
    )
    duration: duration_between("15m", "7d")  # type: ignore[valid-type]
    time_zone: Annotated[str, BeforeValidator(_check_zone)] = Field(
        d.MAINTENANCE_TIME_ZONE, description="IANA"
    )

    def is_open(self, now) -> bool:
        """True if the timezone-aware `now` is inside this window."""
        return cron.is_open(self.cron, self.duration, self.time_zone, now)


class Gate(StrictModel):
    after: str = Field(description="metadata.name of the HostPool that must finish a version first.")
    soak: duration_between("0s", "30d") = Field(  # type: ignore[valid-type]
        d.ROLLOUT_SOAK, description="How long that pool must have run the version before this one starts."
    )


def _batch(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*%\s*", value):
        percent = int(value.strip().rstrip("%"))
        if not 1 <= percent <= 100:
            raise ValueError("a percentage batch size must be between 1% and 100%")
        return f"{percent}%"
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError("batch size must be at least 1 host")
        return value
    raise ValueError(f'batch size must be a host count (e.g. 2) or a percentage (e.g. "25%"), got {value!r}')


BatchSize = Annotated[
    int | str,
    BeforeValidator(_batch),
    Field(
        json_schema_extra={
            "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]+%$"}]
        }
    ),
]


class Rollout(StrictModel):
    strategy: Literal["surge", "delete-first"] = Field(
        d.ROLLOUT_STRATEGY, description="surge: add new hosts, then remove old; delete-first: the reverse."
    )
    batch_size: BatchSize = Field(
        d.ROLLOUT_BATCH_SIZE, description="Hosts replaced at once: a count or `N%`."
    )
    capacity_floor: int = Field(
        d.ROLLOUT_CAPACITY_FLOOR, ge=0, le=100, description="Percent of `count` that must stay available."
    )
    drain_grace: duration_between("0s", "7d") = Field(  # type: ignore[valid-type]
        d.ROLLOUT_DRAIN_GRACE, description="Time users get after the message before logoff/removal."
    )
    user_message: str = Field(d.ROLLOUT_USER_MESSAGE, min_length=1, max_length=1000)
    force_logoff: bool = Field(d.ROLLOUT_FORCE_LOGOFF, description="Sign users out when the grace ends.")
    health_timeout: duration_between("1m", "24h") = Field(  # type: ignore[valid-type]
        d.ROLLOUT_HEALTH_TIMEOUT, description="A new host that is not Available by then counts as failed."
    )
    failure_budget: int = Field(
        d.ROLLOUT_FAILURE_BUDGET,
        ge=0,
        le=1000,
        description="Failed hosts tolerated before the rollout halts.",
    )
    on_failure: Literal["halt", "rollback"] = Field(
        d.ROLLOUT_ON_FAILURE,
        description="Past the failure budget: halt the pool, or roll it back to the last version it ran fully.",
    )
    maintenance_windows: list[MaintenanceWindow] = Field(
        default_factory=list, description="When hosts may be replaced; empty = any time."
    )
    gate: Gate | None = Field(None, description="Ring gate: wait for another pool to run the version first.")

    def batch_hosts(self, pool_size: int) -> int:
        """The batch size in hosts for a pool of `pool_size` (a percentage rounds up, at least 1)."""
        if isinstance(self.batch_size, int):
            return self.batch_size
        return max(1, math.ceil(pool_size * int(self.batch_size.rstrip("%")) / 100))


class HostPoolSpec(StrictModel):
    subscription: SubscriptionRef | None = Field(
        None, description="Default: Settings.spec.defaults.subscription."
    )
    resource_group: ResourceGroupName | None = None  # type: ignore[valid-type]
    location: Region | None = Field(None, description="Where the host pool metadata and session hosts live.")
    host_pool_type: Literal["Pooled", "Personal"] = d.HOST_POOL_TYPE
    load_balancer_type: Literal["BreadthFirst", "DepthFirst", "Persistent"] | None = Field(
        None, description="Default: BreadthFirst for Pooled, Persistent for Personal."
    )
    personal_desktop_assignment_type: Literal["Automatic", "Direct"] | None = None
    preferred_app_group_type: Literal["Desktop", "RailApplications"] = d.PREFERRED_APP_GROUP_TYPE
    max_session_limit: int = Field(d.MAX_SESSION_LIMIT, ge=1, le=999999)
    suspend: bool = Field(
        False,
        description="Pause `reconcile run`'s writes to this pool and its session hosts (rollouts wait).",
    )
    friendly_name: str | None = Field(None, max_length=256)
    description: str | None = Field(None, max_length=512)
    validation_environment: bool = False
    start_vm_on_connect: bool = Field(False, alias="startVMOnConnect")
    image: ImagePin
    session_hosts: SessionHosts
    rollout: Rollout = Field(default_factory=Rollout)
    tags: Tags = Field(default_factory=dict)

    @property
    def effective_load_balancer_type(self) -> str:
        if self.load_balancer_type:
            return self.load_balancer_type
        return "Persistent" if self.host_pool_type == "Personal" else "BreadthFirst"


class HostPoolDoc(StrictModel):
    api_version: Literal[d.API_VERSION]
    kind: Literal["HostPool"]
    metadata: metadata_for(naming.HOST_POOL, "HostPool")  # type: ignore[valid-type]
    spec: HostPoolSpec
