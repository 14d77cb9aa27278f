"""The Observed snapshot: what Azure holds right now, as plain frozen data (no SDK types).

Built by `reconciler.azure.observe` from list calls and read by the pure planner. Invariants:
- every collection is a mapping keyed by the resource's ARM id, lower-cased (ARM ids are case-insensitive and
  services return them with changed casing, so the verbatim id is never a key);
- `name` is always the last path segment (AVD returns "pool/host.fqdn" for session hosts);
- regions are normalised (`normalize_region`: lower-case, no spaces), so "West Europe" == "westeurope";
- secrets never enter the snapshot: the host pool keeps only when its registration token expires, and `raw`
  dicts have `registrationInfo.token` removed before they are stored.
`raw` holds the part of the REST-shaped JSON the object was read from that counts (its fingerprint fields,
which the planner's diffs also read; reconciler.azure.convert_kept.essentials); it is kept out of `repr`.
Equal values are one object across resources (`raw` parts, tags, regions, target regions: reconciler.azure.
sharing), so nothing may write into what a snapshot holds, even below its read-only mappings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any

from reconciler.model.landing import ObservedResourceGroup, ReferenceRead
from reconciler.model.marketplace import MarketplaceSku, MarketplaceVersions
from reconciler.model.observed_resources import (  # noqa: F401  (re-exported: the public names live here)
    EMPTY,
    ImageIdentifier,
    ObservedGallery,
    ObservedHostPool,
    ObservedImageDefinition,
    ObservedImageTemplate,
    ObservedImageVersion,
    ObservedRegionReplication,
    ObservedSessionHost,
    ObservedTargetRegion,
    ObservedUserSession,
    ObservedVM,
    _Resource,
    id_parts,
    leaf_name,
    norm_id,
    normalize_region,
    parent_id,
)
from reconciler.model.rollout import HOST_POOL_TAG


@dataclass(frozen=True)
class ObserveScope:
    """What to observe: subscriptions, optionally narrowed (ids lower-cased; None = everything there).

    `roll_pools`: host pool ids whose user sessions must be read (pools about to roll).
    `references`: ids of resources desired state points at (subnets, identities, staging groups, Key Vault
    secrets) to read one by one (`reconciler.planner.references.reference_ids`); empty = not checked."""

    subscription_ids: tuple[str, ...]
    resource_groups: frozenset[str] | None = None  # "/subscriptions/<s>/resourcegroups/<rg>"
    galleries: frozenset[str] | None = None
    host_pools: frozenset[str] | None = None
    roll_pools: frozenset[str] = frozenset()
    references: tuple[str, ...] = ()
    marketplace: tuple[MarketplaceSku, ...] = ()  # SKUs whose version list build triggers read

    @classmethod
    def of(
        cls,
        subscription_ids,
        *,
        resource_groups=None,
        galleries=None,
        host_pools=None,
        roll_pools=(),
        references=(),
        marketplace=(),
    ):
        def ids(values):
            return None if values is None else frozenset(norm_id(v) for v in values)

        return cls(
            subscription_ids=tuple(dict.fromkeys(s.lower() for s in subscription_ids)),
            resource_groups=ids(resource_groups),
            galleries=ids(galleries),
            host_pools=ids(host_pools),
            roll_pools=ids(roll_pools) or frozenset(),
            references=tuple(sorted({norm_id(r): r for r in references}.values(), key=str.lower)),
            marketplace=tuple(sorted({m.key: m for m in marketplace}.values(), key=lambda m: m.key)),
        )

    def wants_group(self, resource_id: str) -> bool:
        return self.resource_groups is None or parent_id_of_group(resource_id) in self.resource_groups

    def wants_gallery(self, gallery_id: str) -> bool:
        return self.wants_group(gallery_id) and (
            self.galleries is None or norm_id(gallery_id) in self.galleries
        )

    def wants_pool(self, pool_id: str) -> bool:
        return self.wants_group(pool_id) and (self.host_pools is None or norm_id(pool_id) in self.host_pools)


def parent_id_of_group(resource_id: str) -> str:
    """The resource group id ("/subscriptions/<s>/resourcegroups/<rg>") a resource id lives in."""
    return "/".join(norm_id(resource_id).split("/")[:5])


@dataclass(frozen=True)
class CallStats:
    """HTTP calls one observation (or any window) made, as counted by the azure pipeline policy.

    `total` counts every request on the wire, retries included; `pages` the GETs of collections (first pages
    and nextLinks); `gets` the GETs of single resources; `throttled` the 429 answers; `paced_seconds` the time
    spent slowing down because `x-ms-ratelimit-remaining-*` ran low. `lowest_remaining` maps
    "<subscription>/<reads|writes|deletes>" to the smallest remaining budget seen."""

    total: int = 0
    pages: int = 0
    gets: int = 0
    throttled: int = 0
    paced_calls: int = 0
    paced_seconds: float = 0.0
    by_operation: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    by_status: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    lowest_remaining: Mapping[str, int] = field(default_factory=lambda: EMPTY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "pages": self.pages,
            "gets": self.gets,
            "throttled": self.throttled,
            "paced_calls": self.paced_calls,
            "paced_seconds": round(self.paced_seconds, 3),
            "by_operation": dict(sorted(self.by_operation.items())),
            "by_status": dict(sorted(self.by_status.items())),
            "lowest_remaining": dict(sorted(self.lowest_remaining.items())),
        }


def _index(items) -> Mapping[str, Any]:
    return MappingProxyType({item.key: item for item in items})


def _group(items, parent_of) -> dict[str, tuple]:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(norm_id(parent_of(item)), []).append(item)
    return {k: tuple(v) for k, v in groups.items()}


@dataclass(frozen=True)
class Observed:
    """One observation of every subscription in `scope`. Collections are keyed by lower-cased ARM id.

    `observed_at` is the *server's* clock at the end of the observation (the sandbox runs a simulated clock,
    so the planner's "now" must come from here, never from the local machine)."""

    scope: ObserveScope
    observed_at: datetime
    galleries: Mapping[str, ObservedGallery] = field(default_factory=lambda: EMPTY)
    image_definitions: Mapping[str, ObservedImageDefinition] = field(default_factory=lambda: EMPTY)
    image_versions: Mapping[str, ObservedImageVersion] = field(default_factory=lambda: EMPTY)
    image_templates: Mapping[str, ObservedImageTemplate] = field(default_factory=lambda: EMPTY)
    host_pools: Mapping[str, ObservedHostPool] = field(default_factory=lambda: EMPTY)
    session_hosts: Mapping[str, ObservedSessionHost] = field(default_factory=lambda: EMPTY)
    vms: Mapping[str, ObservedVM] = field(default_factory=lambda: EMPTY)
    user_sessions: Mapping[str, ObservedUserSession] = field(default_factory=lambda: EMPTY)
    # None: resource groups were not listed (then the planner neither creates nor requires any).
    resource_groups: Mapping[str, ObservedResourceGroup] | None = None
    references: Mapping[str, ReferenceRead] = field(default_factory=lambda: EMPTY)  # by lower-cased id
    marketplace: Mapping[str, MarketplaceVersions] = field(default_factory=lambda: EMPTY)  # by sku_key
    calls: CallStats = field(default_factory=CallStats, compare=False)

    @classmethod
    def build(cls, scope: ObserveScope, observed_at: datetime, calls: CallStats | None = None, **collections):
        """Index lists of observed objects by key (later duplicates win)."""
        return cls(
            scope=scope,
            observed_at=observed_at,
            calls=calls or CallStats(),
            **{name: _index(items) for name, items in collections.items()},
        )

    # Lookups by parent. Grouping is computed once per snapshot (it is immutable).
    @cached_property
    def _children(self) -> dict[str, dict[str, tuple]]:
        return {
            "definitions": _group(self.image_definitions.values(), lambda d: d.gallery_id),
            "versions": _group(self.image_versions.values(), lambda v: v.definition_id),
            "hosts": _group(self.session_hosts.values(), lambda h: h.host_pool_id),
            "sessions": _group(self.user_sessions.values(), lambda s: s.host_pool_id),
            "templates": _group(
                self.image_templates.values(), lambda t: parent_id(t.target_version_id or "/x/x")
            ),
        }

    def get(self, resource_id: str) -> _Resource | None:
        """Any observed resource by id, whatever its kind."""
        key = norm_id(resource_id)
        for collection in (
            self.image_versions,
            self.session_hosts,
            self.vms,
            self.image_definitions,
            self.galleries,
            self.host_pools,
            self.image_templates,
            self.user_sessions,
        ):
            if key in collection:
                return collection[key]
        return None

    def definitions_of(self, gallery_id: str) -> tuple[ObservedImageDefinition, ...]:
        return self._children["definitions"].get(norm_id(gallery_id), ())

    def versions_of(self, definition_id: str) -> tuple[ObservedImageVersion, ...]:
        return self._children["versions"].get(norm_id(definition_id), ())

    def hosts_of(self, host_pool_id: str) -> tuple[ObservedSessionHost, ...]:
        return self._children["hosts"].get(norm_id(host_pool_id), ())

    def sessions_of(self, host_pool_id: str, host_name: str | None = None) -> tuple[ObservedUserSession, ...]:
        sessions = self._children["sessions"].get(norm_id(host_pool_id), ())
        if host_name is None:
            return sessions
        return tuple(s for s in sessions if s.session_host_name.lower() == host_name.lower())

    def templates_building(self, definition_id: str) -> tuple[ObservedImageTemplate, ...]:
        """Templates whose distribute names an explicit version of this definition."""
        return self._children["templates"].get(norm_id(definition_id), ())

    @cached_property
    def _vm_index(self) -> dict[str, dict[str, tuple[ObservedVM, ...]]]:
        # One pass over the VMs for every pool of the plan: a scan per pool was 300 x 15,000 on the large estate.
        by_pool: dict[str, list[ObservedVM]] = {}
        by_group: dict[str, list[ObservedVM]] = {}
        for key, vm in self.vms.items():
            by_group.setdefault("/".join(key.split("/")[:5]), []).append(vm)
            tagged = norm_id((vm.tags or {}).get(HOST_POOL_TAG))
            if tagged:
                by_pool.setdefault(tagged, []).append(vm)
        return {
            "pool": {k: tuple(v) for k, v in by_pool.items()},
            "group": {k: tuple(v) for k, v in by_group.items()},
        }

    def vms_tagged_for(self, host_pool_id: str) -> tuple[ObservedVM, ...]:
        """VMs whose pool tag (`HOST_POOL_TAG`) names this host pool."""
        return self._vm_index["pool"].get(norm_id(host_pool_id), ())

    def vms_in_group(self, resource_group_id: str) -> tuple[ObservedVM, ...]:
        """VMs in one resource group ("/subscriptions/<s>/resourcegroups/<rg>", any casing)."""
        return self._vm_index["group"].get(norm_id(resource_group_id), ())

    def vm_group_ids(self) -> Iterable[str]:
        """The resource groups ("/subscriptions/<s>/resourcegroups/<rg>") VMs live in, each once."""
        return self._vm_index["group"].keys()

    def vm_of(self, host: ObservedSessionHost) -> ObservedVM | None:
        return self.vms.get(host.vm_id or "")

    @cached_property
    def versions_in_use(self) -> frozenset[str]:
        """Lower-cased ids of image versions some VM or session host was created from."""
        used = {vm.image_version_id for vm in self.vms.values() if vm.image_version_id}
        used |= {h.image_version_id for h in self.session_hosts.values() if h.image_version_id}
        return frozenset(used)

    @cached_property
    def _in_use_by_definition(self) -> dict[str, frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for version_id in self.versions_in_use:
            groups.setdefault(parent_id(version_id), set()).add(version_id)
        return {k: frozenset(v) for k, v in groups.items()}

    def versions_in_use_of(self, definition_id: str) -> frozenset[str]:
        """`versions_in_use` restricted to one image definition (grouped once, so O(1) per definition)."""
        return self._in_use_by_definition.get(norm_id(definition_id), frozenset())

    def counts(self) -> dict[str, int]:
        return {
            name: len(getattr(self, name))
            for name in (
                "galleries",
                "image_definitions",
                "image_versions",
                "image_templates",
                "host_pools",
                "session_hosts",
                "vms",
                "user_sessions",
            )
        }


@dataclass(frozen=True)
class PoolObservation:
    """One host pool's session-host world, read fresh for one rollout cycle, typed like the Observed snapshot.

    The rollout reads this per cycle (its own list calls, not the plan's snapshot) so each cycle decides on
    what Azure shows now; both it and the plan's snapshot go through the same HostView builder
    (reconciler.planner.pool_inputs), so nothing downstream ever sees REST JSON.
    """

    pool: ObservedHostPool | None
    now: datetime
    vms: tuple[ObservedVM, ...] = ()  # the pool's VMs (tagged with the pool, or behind one of its hosts)
    session_hosts: tuple[ObservedSessionHost, ...] = ()
    sessions: tuple[ObservedUserSession, ...] = ()
    extensions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # vm id -> name -> state
    # Why a failed VM create or extension failed, read only for failed ones: vm id -> (code, message) and
    # vm id -> extension name -> (code, message).
    provisioning_errors: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    extension_errors: Mapping[str, Mapping[str, tuple[str | None, str | None]]] = field(default_factory=dict)
    ghosts: tuple[str, ...] = ()  # session host names whose VM is gone
    used_names: frozenset[str] = frozenset()  # lower-cased VM and host names in the resource group
    gate_pool: ObservedHostPool | None = None
    version: ObservedImageVersion | None = None
    test_vms: tuple[ObservedVM, ...] = ()  # acceptance test VMs in the pool's group (TEST_VM_TAG)
