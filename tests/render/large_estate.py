"""A slice of the sandbox's large estate, for tests that need its shape but not its 45 s of observe and plan.

The whole large estate (20 subscriptions, 100 galleries, 300 pools, 15,000 hosts) takes ~46 s through
`reconcile plan` on an idle 2-core machine, several times that on a loaded one. Its first galleries, with the
pools whose image comes from them, keep every property of the whole: the same generator, names, drift and
cross-subscription layout, a tenth of the size per ten galleries.
"""

from __future__ import annotations

import json
from datetime import datetime

from reconciler.sandbox.estate import estate_subscription_ids, generate

GALLERY = "microsoft.compute/galleries"
POOL = "microsoft.desktopvirtualization/hostpools"
HOST = "microsoft.desktopvirtualization/hostpools/sessionhosts"
SESSION = "microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions"
VM = "microsoft.compute/virtualmachines"


def large_estate_subscriptions() -> list[str]:
    return estate_subscription_ids("large")


def large_estate_slice(now: datetime, galleries: int) -> list[dict]:
    """The large estate's first `galleries` galleries (by index in their name) with everything in them, the
    pools built from their images with those pools' hosts, VMs and user sessions, and every resource group,
    network and vault (they cost little and the hosts' NICs need the subnets)."""
    resources = list(generate("large", large_estate_subscriptions(), now))
    kept_galleries = {
        r["id"].lower() + "/"
        for r in resources
        if r["type"].lower() == GALLERY and int(r["name"].rsplit("_", 1)[1]) < galleries
    }

    def in_kept_gallery(rid: str) -> bool:
        return (rid.lower() + "/").startswith(tuple(kept_galleries))

    pools = {
        r["id"].lower()
        for r in resources
        if r["type"].lower() == POOL
        and in_kept_gallery(json.loads(r["properties"]["vmTemplate"])["customImageId"])
    }
    hosts = {r["id"].lower() for r in resources if r["type"].lower() == HOST and _parent(r["id"]) in pools}
    vms = {
        r["properties"]["resourceId"].lower()
        for r in resources
        if r["type"].lower() == HOST and r["id"].lower() in hosts
    }
    kept_by_type = {POOL: pools, HOST: hosts, VM: vms}

    def keep(r: dict) -> bool:
        kind, rid = r["type"].lower(), r["id"].lower()
        if kind.startswith(GALLERY):
            return in_kept_gallery(rid)
        if kind == SESSION:
            return _parent(rid) in hosts
        return rid in kept_by_type[kind] if kind in kept_by_type else True

    return [r for r in resources if keep(r)]


def _parent(rid: str) -> str:
    return rid.lower().rsplit("/", 2)[0]
