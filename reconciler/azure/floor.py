"""The fewest calls that can observe an estate: one per collection page (limits.md A8).

Computed from the estate's resources themselves (REST dicts, e.g. what a sandbox was seeded with), not from
what observe() did, so tests and the benchmark can hold observe() to it: every collection costs
max(1, ceil(items / page_size)) list calls (an empty collection still answers one empty page), plus one GET
with $expand=ReplicationStatus per image version that is not Succeeded. Resource groups (one list per
subscription) count too; the reference GETs of `scope.references` do not (they are not a list).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from reconciler.model.observed import norm_id, parent_id

# collection name -> (provider type of the items, how many (type, name) levels up the parent is)
_CHILD_COLLECTIONS = {
    "images per gallery": ("microsoft.compute/galleries/images", "microsoft.compute/galleries"),
    "versions per definition": (
        "microsoft.compute/galleries/images/versions",
        "microsoft.compute/galleries/images",
    ),
    "session hosts per pool": (
        "microsoft.desktopvirtualization/hostpools/sessionhosts",
        "microsoft.desktopvirtualization/hostpools",
    ),
}
_SUBSCRIPTION_COLLECTIONS = {
    "galleries": "microsoft.compute/galleries",
    "image templates": "microsoft.virtualmachineimages/imagetemplates",
    "host pools": "microsoft.desktopvirtualization/hostpools",
    "virtual machines": "microsoft.compute/virtualmachines",
}
_USER_SESSIONS = "microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions"


def _pages(items: int, page_size: int) -> int:
    return max(1, math.ceil(items / page_size))


def list_call_floor(
    resources: Iterable[dict], subscription_ids: Iterable[str], page_size: int, roll_pools: Iterable[str] = ()
) -> dict[str, int]:
    """Calls per collection kind, plus "replication gets" and "total"."""
    subs = [s.lower() for s in subscription_ids]
    roll = {norm_id(p) for p in roll_pools}
    by_type: dict[str, list[dict]] = {}
    resources_list = list(resources)
    for r in resources_list:
        by_type.setdefault((r.get("type") or "").lower(), []).append(r)

    floor: dict[str, int] = {}
    for label, rtype in _SUBSCRIPTION_COLLECTIONS.items():
        per_sub = Counter(norm_id(r["id"]).split("/")[2] for r in by_type.get(rtype, []))
        floor[label] = sum(_pages(per_sub[s], page_size) for s in subs)
    groups = Counter(norm_id(r["id"]).split("/")[2] for r in resources_list if _is_group(r["id"]))
    floor["resource groups"] = sum(_pages(groups[s], page_size) for s in subs)
    for label, (rtype, parent_type) in _CHILD_COLLECTIONS.items():
        per_parent = Counter(parent_id(r["id"]) for r in by_type.get(rtype, []))
        parents = [norm_id(p["id"]) for p in by_type.get(parent_type, []) if _in(p, subs)]
        floor[label] = sum(_pages(per_parent[p], page_size) for p in parents)
    sessions = Counter(parent_id(r["id"], levels=2) for r in by_type.get(_USER_SESSIONS, []))
    floor["user sessions per rolling pool"] = sum(_pages(sessions[p], page_size) for p in roll)
    floor["replication gets"] = sum(
        1
        for v in by_type.get("microsoft.compute/galleries/images/versions", [])
        if _in(v, subs) and (v.get("properties") or {}).get("provisioningState") != "Succeeded"
    )
    floor["total"] = sum(floor.values())
    return floor


def _is_group(resource_id: str) -> bool:
    parts = norm_id(resource_id).strip("/").split("/")
    return len(parts) == 4 and parts[0] == "subscriptions" and parts[2] == "resourcegroups"


def _in(resource: dict, subs: list[str]) -> bool:
    return norm_id(resource["id"]).split("/")[2] in subs
