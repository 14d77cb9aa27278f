"""DesiredState → REST-shaped resources that a converged Azure would hold (sandbox seeds, planner fixtures).

`seed_estate` puts them into a sandbox (resource groups first) as a converged Azure would hold them; this
doubles as a consistency check: seeding these and planning the same desired state must give no changes.
Bodies come from reconciler.planner.bodies (what apply PUTs), plus the fields Azure adds on its own
(provisioningState, publishedDate, display-name regions) so the planner sees what a real GET returns.
Options make an estate that is *not* converged in known ways (hosts on an old version, users signed in).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.model.tags import PIN_TAG, ROLLED_OUT_TAG
from reconciler.planner.bodies import definition_body, gallery_body, host_pool_body, version_body
from reconciler.planner.versions import source_id

DISPLAY = {"westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US"}


@dataclass
class PoolHosts:
    """Session hosts to seed in one pool: how many, which version name they run, sessions per host."""

    count: int
    version: str | None = None  # None: the pinned version
    sessions: list[int] = field(default_factory=list)
    status: str = "Available"


def _resource(rid: str, rtype: str, body: dict) -> dict:
    out = copy.deepcopy(body)
    out.update({"id": rid, "name": rid.rsplit("/", 1)[-1], "type": rtype})
    return out


def converged(
    desired,
    now: datetime,
    *,
    hosts: dict[str, PoolHosts] | None = None,
    skip_versions: set[str] = frozenset(),
) -> list[dict]:
    """Resources matching `desired`. `hosts` maps pool name → session hosts to create; `skip_versions`
    holds version keys ("gallery/def/1.2.0") to leave out (e.g. ones retention retires)."""
    out: list[dict] = []
    published = now.isoformat()
    for g in desired.galleries:
        out.append(_resource(g.arm_id, "Microsoft.Compute/galleries", gallery_body(g)))
    for d in desired.image_definitions:
        out.append(_resource(d.arm_id, "Microsoft.Compute/galleries/images", definition_body(d)))
    for v in desired.image_versions:
        if v.key in skip_versions:
            continue
        src = source_id(v) or f"{v.definition.gallery.arm_id}/images/staging/versions/{v.name}"
        body = version_body(v, src)
        prof = body["properties"]["publishingProfile"]
        prof["publishedDate"] = published
        for region in prof["targetRegions"]:
            region["name"] = DISPLAY.get(region["name"], region["name"])
        body["properties"]["provisioningState"] = "Succeeded"
        out.append(_resource(v.arm_id, "Microsoft.Compute/galleries/images/versions", body))
    for p in desired.host_pools:
        body = host_pool_body(p)
        target = desired.resolve_pin(p)
        if target is not None:
            body["tags"][PIN_TAG] = target.arm_id.lower()
        out.append(_resource(p.arm_id, "Microsoft.DesktopVirtualization/hostPools", body))
        spec = (hosts or {}).get(p.name)
        if spec is None:
            # Converged means the pool has its hosts too, running the pin (and stamped as rolled out).
            spec = PoolHosts(p.spec.session_hosts.count)
        if target is None:
            continue
        if spec.version is None and spec.count == p.spec.session_hosts.count and spec.status == "Available":
            body["tags"][ROLLED_OUT_TAG] = f"{target.arm_id.lower()}|{published}"
        version_id = (
            target.arm_id if spec.version is None else f"{target.definition.arm_id}/versions/{spec.version}"
        )
        for i in range(spec.count):
            out += session_host_pair(
                p, i, version_id, spec.sessions[i] if i < len(spec.sessions) else 0, spec.status
            )
    return out


def session_host_pair(
    pool, index: int, version_id: str, sessions: int, status: str = "Available"
) -> list[dict]:
    """A VM created from `version_id`, the session host registered from it, and its users' sessions (the
    sandbox derives a host's `sessions` count from its userSessions, as AVD does)."""
    prefix = pool.spec.session_hosts.name_prefix
    vm_name = f"{prefix}-{index}"
    rg = f"/subscriptions/{pool.subscription_id}/resourceGroups/{pool.resource_group}"
    vm_id = f"{rg}/providers/Microsoft.Compute/virtualMachines/{vm_name}"
    vm = {
        "id": vm_id,
        "name": vm_name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": pool.location,
        "tags": {},
        "properties": {
            "vmId": f"00000000-0000-4000-8000-{index:012d}",
            "hardwareProfile": {"vmSize": pool.spec.session_hosts.vm_size},
            "storageProfile": {
                "imageReference": {"id": version_id, "exactVersion": version_id.rsplit("/", 1)[-1]}
            },
            "osProfile": {"computerName": vm_name, "adminUsername": "avdadmin"},
            "provisioningState": "Succeeded",
        },
    }
    fqdn = f"{vm_name}.corp.example"
    host = {
        "id": f"{pool.arm_id}/sessionHosts/{fqdn}",
        "name": f"{pool.name}/{fqdn}",
        "type": "Microsoft.DesktopVirtualization/hostPools/sessionHosts",
        "properties": {
            "resourceId": vm_id,
            "virtualMachineId": vm["properties"]["vmId"],
            "sessions": sessions,
            "allowNewSession": True,
            "status": status,
            "updateState": "Succeeded",
        },
    }
    users = [
        {
            "id": f"{host['id']}/userSessions/{n}",
            "name": f"{host['name']}/{n}",
            "type": "Microsoft.DesktopVirtualization/hostPools/sessionHosts/userSessions",
            "properties": {
                "userPrincipalName": f"user{index}-{n}@corp.example",
                "sessionState": "Active",
                "applicationType": "Desktop",
            },
        }
        for n in range(1, sessions + 1)
    ]
    return [vm, host, *users]


def converged_seed(
    desired,
    now: datetime,
    *,
    hosts: dict[str, PoolHosts] | None = None,
    replicating: dict[str, list[str]] | None = None,
) -> list[dict]:
    """What `seed_estate` seeds, as a list (for a sandbox started from a seed file). `hosts` defaults to none
    in every pool; versions listed in `replicating` are still replicating to those regions."""
    from support.rollout import RG_IMAGES, SUB

    if hosts is None:
        hosts = {p.name: PoolHosts(0) for p in desired.host_pools}
    groups = {(p.subscription_id, p.resource_group) for p in desired.host_pools}
    groups |= {(SUB, RG_IMAGES), (SUB, "rg-net")}
    out = [
        {"id": f"/subscriptions/{s}/resourceGroups/{g}", "location": "westeurope"} for s, g in sorted(groups)
    ]
    for res in converged(desired, now, hosts=hosts):
        res.get("tags", {}).pop("avd-reconciler-image-version", None)
        if res["type"].endswith("/hostPools"):
            # A seeded pool skips the sandbox's PUT defaults; Azure always returns registrationInfo.
            res["properties"].setdefault(
                "registrationInfo",
                {"expirationTime": None, "token": None, "registrationTokenOperation": "None"},
            )
        if res["type"].endswith("/versions") and replicating and res["name"] in replicating:
            res["properties"]["provisioningState"] = "Creating"
            res["properties"]["replicationStatus"] = {
                "aggregatedState": "InProgress",
                "summary": [
                    {"region": r, "state": "Replicating", "progress": 10} for r in replicating[res["name"]]
                ],
            }
        out.append(res)
    return out


def seed_estate(
    sb, desired, *, hosts: dict[str, PoolHosts] | None = None, replicating: dict[str, list[str]] | None = None
) -> None:
    """Resource groups, gallery, definition, versions (Succeeded unless listed in `replicating`) and the host
    pools, as a converged Azure would hold them, with `hosts` per pool (default: none)."""
    sb.seed(converged_seed(desired, sb.now(), hosts=hosts, replicating=replicating))
