"""The baseline for bench/plan_bench.py ONLY: the per-item GET reader a quick script would write.

It lists what it must to learn names, then GETs every image version (with $expand=ReplicationStatus),
every template, every session host and the VM behind it, and lists user sessions host by host. That is
the ~41,000-read counterfactual of limits.md A8. Never use it to reconcile: it exists to be measured against.
Its snapshot holds the same resources as observe()'s, except that `vms` has only the VMs behind session hosts.
Requests go through the same pipeline and JSON handling as observe(), so the comparison is of call patterns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from reconciler.azure import paging
from reconciler.azure.call_stats import stats_since
from reconciler.azure.connection import Connection
from reconciler.azure.observe import GALLERIES, KINDS, POOLS, TEMPLATES, assemble, listed
from reconciler.azure.tasks import TaskTree
from reconciler.model.observed import Observed, ObserveScope, id_parts, norm_id

GALLERY, DESKTOP = paging.GALLERY_API, paging.DESKTOP_API
EXPAND = {"$expand": "ReplicationStatus"}


def observe_naive(scope: ObserveScope, connection: Connection, *, max_workers: int = 8) -> Observed:
    before = connection.meter.stats()
    raw: dict[str, list[dict]] = {k: [] for k in KINDS}
    tree = TaskTree(max_workers)
    conn = connection

    def sub_of(rid: str) -> str:
        return id_parts(rid)["subscriptions"]

    def on_galleries(items):
        for g in items:
            if scope.wants_gallery(g["id"]):
                raw["galleries"].append(g)
                tree.submit(
                    listed,
                    g["id"],
                    conn.compute(sub_of(g["id"])),
                    f"{g['id']}/images",
                    GALLERY,
                    then=on_definitions,
                )

    def on_definitions(items):
        for d in items:
            raw["image_definitions"].append(d)
            tree.submit(
                listed,
                d["id"],
                conn.compute(sub_of(d["id"])),
                f"{d['id']}/versions",
                GALLERY,
                then=on_versions,
            )

    def on_versions(items):
        for v in items:
            client = conn.compute(sub_of(v["id"]))
            tree.submit(partial(paging.get_one, client, v["id"], GALLERY, **EXPAND), then=on_version)

    def on_version(v):
        # Same data as observe(): per-region state is kept only where a version is not Succeeded.
        if (v.get("properties") or {}).get("provisioningState") == "Succeeded":
            v = {**v, "properties": {k: x for k, x in v["properties"].items() if k != "replicationStatus"}}
        raw["image_versions"].append(v)

    def on_templates(items):
        for t in items:
            if scope.wants_group(t["id"]):
                client = conn.image_builder(sub_of(t["id"]))
                tree.submit(
                    paging.get_one,
                    client,
                    t["id"],
                    paging.IMAGE_BUILDER_API,
                    then=raw["image_templates"].append,
                )

    def on_pools(items):
        for pool in items:
            if scope.wants_pool(pool["id"]):
                raw["host_pools"].append(pool)
                avd, rolls = conn.desktop(sub_of(pool["id"])), norm_id(pool["id"]) in scope.roll_pools
                tree.submit(
                    listed,
                    pool["id"],
                    avd,
                    f"{pool['id']}/sessionHosts",
                    DESKTOP,
                    then=lambda hosts, r=rolls: on_hosts(hosts, r),
                )

    def on_hosts(hosts, rolls: bool):
        for h in hosts:
            avd = conn.desktop(sub_of(h["id"]))
            tree.submit(paging.get_one, avd, h["id"], DESKTOP, then=on_host)
            if rolls:
                tree.submit(
                    listed,
                    h["id"],
                    avd,
                    f"{h['id']}/userSessions",
                    DESKTOP,
                    then=raw["user_sessions"].extend,
                )

    def on_host(h):
        raw["session_hosts"].append(h)
        vm_id = (h.get("properties") or {}).get("resourceId")
        if vm_id:
            tree.submit(
                paging.get_one, conn.compute(sub_of(vm_id)), vm_id, paging.VM_API, then=raw["vms"].append
            )

    for sub in scope.subscription_ids:
        at = paging.subscription_collection
        tree.submit(listed, sub, conn.compute(sub), at(sub, GALLERIES), GALLERY, then=on_galleries)
        tree.submit(
            listed,
            sub,
            conn.image_builder(sub),
            at(sub, TEMPLATES),
            paging.IMAGE_BUILDER_API,
            then=on_templates,
        )
        tree.submit(listed, sub, conn.desktop(sub), at(sub, POOLS), DESKTOP, then=on_pools)
    tree.run()
    observed_at = connection.meter.last_server_time or datetime.now(UTC)
    return assemble(scope, raw, observed_at, stats_since(before, connection.meter.stats()))
