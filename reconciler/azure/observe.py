"""observe(): read every subscription in scope into an Observed snapshot with list calls only.

One paged list per collection, never one GET per item (limits.md A8: ~1,500 list calls instead of ~41,000
GETs for the reference estate):
  per subscription: galleries, imageTemplates, hostPools, virtualMachines (list_all)
  per gallery: images; per image definition: versions
  per host pool: sessionHosts; per host pool in `scope.roll_pools`: userSessions
Also per subscription: its resource groups (one paged list), so the plan creates the missing ones; and one GET per
resource desired state references (`scope.references`: subnets, identities, staging groups, Key Vault secrets'
metadata; see `reconciler.azure.references`), so a plan fails before any write when one is missing. And one
marketplace version list per SKU in `scope.marketplace` (`reconciler.azure.marketplace`: build triggers).
The one exception is deliberate and small: a version that is not `Succeeded` is still replicating (or failed),
and per-region state is only returned by a GET with `$expand=ReplicationStatus`, so those versions, and only
those, get one targeted GET each. Collections are fetched concurrently (bounded), children as soon as their
parent's list arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import HttpResponseError

from reconciler.azure import convert, marketplace, paging, references
from reconciler.azure.call_stats import stats_since
from reconciler.azure.connection import Connection
from reconciler.azure.tasks import TaskTree
from reconciler.model.observed import Observed, ObserveScope, id_parts, norm_id


class ObserveError(RuntimeError):
    """A read failed after azure-core's retries; names the collection so the message is actionable."""


def listed(what: str, client, path: str, api_version: str, each=None) -> list[Any]:
    try:
        return paging.list_all(client, path, api_version, each)
    except HttpResponseError as exc:
        raise ObserveError(f"listing {what} failed: {exc.status_code} {exc.reason}: {exc.message}") from exc


class _Collector:
    """Holds the raw results; only the calling thread touches it (TaskTree runs callbacks there)."""

    def __init__(self, scope: ObserveScope, connection: Connection, tree: TaskTree):
        self.scope, self.conn, self.tree = scope, connection, tree
        # Converted as they arrive, so no collection's JSON is held whole; the leaf collections (VMs, session
        # hosts, user sessions: most of the estate) page by page, in the worker that read the page. Session
        # hosts are joined to their VMs at the end (convert.with_vm).
        self.raw: dict[str, list] = {k: _Converting(CONVERTERS[k]) for k in CONVERTERS if k not in PAGED}
        self.raw.update({k: [] for k in PAGED})
        self.raw["resource_groups"] = _Converting(references.resource_group)
        self.raw["references"] = []
        self.raw["marketplace"] = []

    def start_references(self) -> None:
        for rid in self.scope.references:
            self.tree.submit(references.read_reference, self.conn, rid, then=self.raw["references"].append)
        for sku in self.scope.marketplace:
            self.tree.submit(marketplace.list_versions, self.conn, sku, then=self.raw["marketplace"].append)

    # -- per subscription ----------------------------------------------------------------------------------
    def start(self, sub: str) -> None:
        compute, aib, avd = self.conn.compute(sub), self.conn.image_builder(sub), self.conn.desktop(sub)
        at = paging.subscription_collection
        self.list(f"galleries in {sub}", compute, at(sub, GALLERIES), paging.GALLERY_API, self.on_galleries)
        self.list(
            f"image templates in {sub}", aib, at(sub, TEMPLATES), paging.IMAGE_BUILDER_API, self.on_templates
        )
        self.list(f"host pools in {sub}", avd, at(sub, POOLS), paging.DESKTOP_API, self.on_pools)
        self.list(
            f"virtual machines in {sub}",
            compute,
            at(sub, VMS),
            paging.VM_API,
            self.raw["vms"].extend,
            PAGED["vms"],
        )
        self.tree.submit(self.groups_of, sub, then=self.raw["resource_groups"].extend)

    def groups_of(self, sub: str) -> list[dict]:
        try:
            return references.list_resource_groups(self.conn, sub)
        except HttpResponseError as exc:
            raise ObserveError(
                f"listing resource groups in {sub} failed: {exc.status_code} {exc.message}"
            ) from exc

    def list(self, what: str, client, path: str, api_version: str, then, each=None) -> None:
        self.tree.submit(listed, what, client, path, api_version, each, then=then)

    def on_galleries(self, galleries: list[dict]) -> None:
        for g in galleries:
            if self.scope.wants_gallery(g["id"]):
                self.raw["galleries"].append(g)
                compute = self.conn.compute(id_parts(g["id"])["subscriptions"])
                self.list(
                    f"images of {g['id']}",
                    compute,
                    f"{g['id']}/images",
                    paging.GALLERY_API,
                    self.on_definitions,
                )

    def on_definitions(self, definitions: list[dict]) -> None:
        for d in definitions:
            self.raw["image_definitions"].append(d)
            compute = self.conn.compute(id_parts(d["id"])["subscriptions"])
            self.list(
                f"versions of {d['id']}", compute, f"{d['id']}/versions", paging.GALLERY_API, self.on_versions
            )

    def on_versions(self, versions: list[dict]) -> None:
        for v in versions:
            if (v.get("properties") or {}).get("provisioningState") == "Succeeded":
                self.raw["image_versions"].append(v)
            else:
                self.tree.submit(self.replication_of, v, then=self.raw["image_versions"].append)

    def replication_of(self, version: dict) -> dict:
        """The targeted GET with $expand=ReplicationStatus for one version that is not Succeeded."""
        p = id_parts(version["id"])
        try:
            got = self.conn.compute(p["subscriptions"]).gallery_image_versions.get(
                p["resourcegroups"], p["galleries"], p["images"], p["versions"], expand="ReplicationStatus"
            )
        except HttpResponseError as exc:
            if exc.status_code == 404:  # deleted since the list: keep what the list said
                return version
            raise ObserveError(f"reading replication of {version['id']} failed: {exc.message}") from exc
        return convert.rest_dict(got)

    def on_templates(self, templates: list[dict]) -> None:
        self.raw["image_templates"].extend(t for t in templates if self.scope.wants_group(t["id"]))

    def on_pools(self, pools: list[dict]) -> None:
        for pool in pools:
            if not self.scope.wants_pool(pool["id"]):
                continue
            self.raw["host_pools"].append(pool)
            avd = self.conn.desktop(id_parts(pool["id"])["subscriptions"])
            hosts, sessions = f"{pool['id']}/sessionHosts", f"{pool['id']}/userSessions"
            self.list(
                f"session hosts of {pool['id']}",
                avd,
                hosts,
                paging.DESKTOP_API,
                self.raw["session_hosts"].extend,
                PAGED["session_hosts"],
            )
            if norm_id(pool["id"]) in self.scope.roll_pools:
                self.list(
                    f"user sessions of {pool['id']}",
                    avd,
                    sessions,
                    paging.DESKTOP_API,
                    self.raw["user_sessions"].extend,
                    PAGED["user_sessions"],
                )


GALLERIES = "Microsoft.Compute/galleries"
TEMPLATES = "Microsoft.VirtualMachineImages/imageTemplates"
POOLS = "Microsoft.DesktopVirtualization/hostPools"
VMS = "Microsoft.Compute/virtualMachines"
CONVERTERS = {
    "galleries": convert.gallery,
    "image_definitions": convert.image_definition,
    "image_versions": convert.image_version,
    "image_templates": convert.image_template,
    "host_pools": convert.host_pool,
    "vms": convert.vm,
    "user_sessions": convert.user_session,
}
KINDS = (*CONVERTERS, "session_hosts")


def _unjoined_host(raw: dict[str, Any]):
    return convert.session_host(raw, {})


# Converted page by page in the worker (see _Collector); the rest as the calling thread receives them.
PAGED = {"vms": convert.vm, "session_hosts": _unjoined_host, "user_sessions": convert.user_session}


class _Converting(list):
    """A list that converts REST dicts to Observed objects as they are added."""

    def __init__(self, conversion):
        super().__init__()
        self.conversion = conversion

    def append(self, item) -> None:
        super().append(self.conversion(item))

    def extend(self, items) -> None:
        super().extend(map(self.conversion, items))


def _snapshot(scope: ObserveScope, items: dict[str, list], hosts: list, observed_at: datetime, calls):
    """`hosts`: session hosts converted without their VMs, joined here."""
    vms_by_id = {v.key: v for v in items["vms"]}
    return Observed.build(
        scope,
        observed_at,
        calls,
        session_hosts=[convert.with_vm(h, vms_by_id) for h in hosts],
        **{k: v for k, v in items.items() if k != "session_hosts"},
    )


def assemble(scope: ObserveScope, raw: dict[str, list[dict]], observed_at: datetime, calls=None) -> Observed:
    """Convert raw REST dicts into an Observed snapshot (session hosts joined to their VMs)."""
    items = {k: [conversion(r) for r in raw[k]] for k, conversion in CONVERTERS.items()}
    return _snapshot(scope, items, [_unjoined_host(r) for r in raw["session_hosts"]], observed_at, calls)


def observe(scope: ObserveScope, connection: Connection, *, max_workers: int = 8) -> Observed:
    """Read every subscription in `scope`; `observed.calls` counts the HTTP calls this observation made."""
    before = connection.meter.stats()
    tree = TaskTree(max_workers)
    collector = _Collector(scope, connection, tree)
    for sub in scope.subscription_ids:
        collector.start(sub)
    collector.start_references()
    tree.run()
    observed_at = connection.meter.last_server_time or datetime.now(UTC)
    calls = stats_since(before, connection.meter.stats())
    snapshot = _snapshot(scope, collector.raw, collector.raw["session_hosts"], observed_at, calls)
    convert.SHARED.clear()  # the snapshot holds what it shares; the table would only hold it longer
    return snapshot
