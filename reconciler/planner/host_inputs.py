"""What the session-host decision reads: one pool's hosts as observed, its policy, and the facts around it.

Pure data. `reconciler.planner.pool_inputs` (from the Observed snapshot) and the engine (from one pool's
fresh reads) build it from one pool's VMs (tagged with the pool), session hosts, user
sessions and extensions; `reconciler.planner.hosts.decide` turns it into the next steps. Every time here is the
server's clock (the sandbox runs a simulated one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from reconciler.model.acceptance import HealthCheck
from reconciler.model.rollout import (
    HOST_ASSIGN_TAG,
    HOST_CREATED_TAG,
    HOST_DRAIN_TAG,
    HOST_FAILED_TAG,
    HOST_MESSAGED_TAG,
    HOST_REGISTERED_TAG,
    HOST_REPLACES_TAG,
    HOST_RETIRE_TAG,
    HOST_STAGE_TAG,
)

if TYPE_CHECKING:
    from reconciler.model.acceptance_vm import AcceptVmView
    from reconciler.planner.acceptance import AcceptanceInputs

JOIN_EXTENSION = "join"
AGENT_EXTENSION = "avd-agent"
READY = "ready"


@lru_cache(maxsize=8192)  # the same tag stamps are read again every decision (and simulated cycle)
def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


@dataclass(frozen=True)
class UserSessionView:
    id: str  # the user session's ARM id
    user: str | None


@dataclass(frozen=True)
class HostView:
    """One VM of the pool and the session host registered from it (if any)."""

    name: str  # VM name
    vm_id: str
    version: str | None  # lower-cased gallery image version id
    provisioning: str  # VM provisioningState
    tags: Mapping[str, str] = field(default_factory=dict)
    session_host: str | None = None  # session host name (the FQDN)
    status: str | None = None
    accepting: bool = True
    sessions: tuple[UserSessionView, ...] = ()
    assigned_user: str | None = None
    extensions: Mapping[str, str] = field(default_factory=dict)  # extension name -> provisioningState
    managed: bool = True  # carries our pool tag (False: a host someone else created, adopted as-is)
    # Why a Failed VM create or extension failed, when observable: (code, message) and name -> (code, message).
    provisioning_error: tuple[str | None, str | None] | None = None
    extension_errors: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    agent_version: str | None = None  # the session host's agentVersion
    health_checks: tuple[HealthCheck, ...] = ()  # sessionHostHealthCheckResults (empty until it reports)

    def tag_time(self, tag: str) -> datetime | None:
        return parse_time(self.tags.get(tag))

    @property
    def created_at(self) -> datetime | None:
        return self.tag_time(HOST_CREATED_TAG)

    @property
    def registered_at(self) -> datetime | None:
        """When the reconciler sent the AVD agent: the start of the health timeout (None: not sent yet)."""
        return self.tag_time(HOST_REGISTERED_TAG)

    @property
    def drain_at(self) -> datetime | None:
        return self.tag_time(HOST_DRAIN_TAG)

    @property
    def messaged_at(self) -> datetime | None:
        return self.tag_time(HOST_MESSAGED_TAG)

    @property
    def retiring(self) -> bool:
        return HOST_RETIRE_TAG in self.tags

    @property
    def failed(self) -> bool:
        return HOST_FAILED_TAG in self.tags

    @property
    def replaces(self) -> str | None:
        return self.tags.get(HOST_REPLACES_TAG) or None

    @property
    def assign(self) -> str | None:
        return self.tags.get(HOST_ASSIGN_TAG) or None

    @property
    def available(self) -> bool:
        return self.status == "Available"

    @property
    def accepting_available(self) -> bool:
        return self.status == "Available" and self.accepting  # `available`, inlined: read every cycle

    @property
    def established(self) -> bool:
        """Has been Available once (or is a host we did not create): no longer judged by the health gate."""
        return (
            not self.managed
            or self.tags.get(HOST_STAGE_TAG) == READY
            or (self.status == "Available" and self.created_at is None)
        )

    @property
    def deleting(self) -> bool:
        return self.provisioning == "Deleting"


@dataclass(frozen=True)
class PoolPolicy:
    count: int
    strategy: str  # surge | delete-first
    batch: int
    floor_percent: int
    drain_grace: timedelta
    force_logoff: bool
    user_message: str
    health_timeout: timedelta
    failure_budget: int
    on_failure: str = "halt"  # halt | rollback
    personal: bool = False
    prefix: str = "avd"

    # Cached (the policy is frozen): every simulated cycle reads both.
    @cached_property
    def surge(self) -> int:
        # Personal pools always build the replacement first: it must exist to take over the assignment.
        return self.batch if self.strategy == "surge" or self.personal else 0

    @cached_property
    def floor_hosts(self) -> int:
        return math.ceil(self.count * self.floor_percent / 100)


@dataclass(frozen=True)
class PoolInputs:
    """Everything one decision for one pool reads.

    `target`: the desired version id (None: unresolvable). `target_ready`: replicated to the pool's region.
    `last_good`: the version the pool last ran fully (ROLLED_OUT_TAG), the rollback target.
    `failures`: (count, version id, last failed VM) from the pool tag; `quarantined`: the quarantined version.
    `window`: (open now, next opening or None). `gate`: (satisfied, waits until or None, why).
    `used_names`: lower-cased computer/VM names in use, so a name is never reused while it exists.
    """

    pool_id: str
    pool: str
    now: datetime
    policy: PoolPolicy
    hosts: tuple[HostView, ...]
    ghosts: tuple[str, ...] = ()
    target: str | None = None
    target_ready: bool = True
    target_why: str = ""
    last_good: str | None = None
    rolled_out: str | None = None  # the version id in ROLLED_OUT_TAG (== last_good)
    failures: tuple[int, str, str] = (0, "", "")
    quarantined: str | None = None
    window_open: bool = True
    next_window: datetime | None = None
    gate_ok: bool = True
    gate_until: datetime | None = None
    gate_why: str = ""
    used_names: frozenset[str] = frozenset()
    last_failure: str = ""  # readable "<VM>: <why>" of the last counted failure (POOL_LAST_FAILURE_TAG)
    # The target version's acceptance (None: its definition declares none, or it predates the suite).
    acceptance: AcceptanceInputs | None = None
    # Test VMs (where: testVm) this pool's decision created, found by their tags whatever the pin is now.
    test_vms: tuple[AcceptVmView, ...] = ()
