"""The latency-bound floor of one observation (limits.md A8, term 1 and the concurrency term), from the estate's
resources and the sandbox's latency model, so plan_bench can hold observe()'s wall time to it in the same run.

floor = max(critical path, calls x mean latency / allowed concurrency)
- critical path: the longest chain of dependent round trips. A collection's pages are serial (each nextLink comes
  with the page before it); a child collection can start once the page naming its parent has arrived, which is
  at least the first page, so a chain costs max(pages(parent), 1 + chain(child)) pages. That is a lower bound
  whatever order the service lists in. One token request comes first.
- throughput: every call the floor needs (reconciler.azure.floor.list_call_floor), at its mean latency, shared by
  as many requests as observe() may have in flight.
Latencies are the model's means (lognormal mean, clamped; estimated by a seeded sample), in seconds.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable

from reconciler.azure.floor import list_call_floor
from reconciler.model.observed import norm_id, parent_id
from reconciler.sandbox.latency import parse

GALLERY = "microsoft.compute/galleries"
DEFINITION = "microsoft.compute/galleries/images"
VERSION = "microsoft.compute/galleries/images/versions"
POOL = "microsoft.desktopvirtualization/hostpools"
HOST = "microsoft.desktopvirtualization/hostpools/sessionhosts"
SESSION = "microsoft.desktopvirtualization/hostpools/sessionhosts/usersessions"
FLAT = ("microsoft.compute/virtualmachines", "microsoft.virtualmachineimages/imagetemplates")


def mean_seconds(setting) -> dict[str, float]:
    table = parse(setting)
    if table is None:
        return {}
    rng = random.Random(0)
    return {op: sum(d.draw_ms(rng) for _ in range(20_000)) / 20_000 / 1000 for op, d in table.items()}


def _pages(items: int, page_size: int) -> int:
    return max(1, -(-items // page_size))


def critical_pages(resources: Iterable[dict], subscription_ids: Iterable[str], page_size: int, roll_pools=()):
    """(list pages, trailing GETs) on the longest chain of any subscription."""
    children: dict[str, Counter] = defaultdict(Counter)  # parent id -> child type -> count
    by_sub: dict[str, Counter] = defaultdict(Counter)
    pending_versions: set[str] = set()  # definitions holding a version that is not Succeeded (one GET each)
    ids: dict[str, list[str]] = defaultdict(list)
    resources = list(resources)
    for r in resources:
        rtype, rid = (r.get("type") or "").lower(), norm_id(r["id"])
        sub = rid.split("/")[2]
        ids[rtype].append(rid)
        if rtype in (GALLERY, POOL, *FLAT):
            by_sub[sub][rtype] += 1
        elif rtype in (DEFINITION, VERSION, HOST):
            children[parent_id(rid)][rtype] += 1
        elif rtype == SESSION:
            children[parent_id(rid, levels=2)][rtype] += 1
        if rtype == VERSION and (r.get("properties") or {}).get("provisioningState") != "Succeeded":
            pending_versions.add(parent_id(rid))
    roll = {norm_id(p) for p in roll_pools}

    def chain(count: int, below: tuple[int, int]) -> tuple[int, int]:
        pages = _pages(count, page_size)
        return max((pages, 0), (1 + below[0], below[1]))

    def definition_chain(d: str) -> tuple[int, int]:
        return chain(children[d][VERSION], (0, 1) if d in pending_versions else (0, 0))

    def gallery_chain(g: str) -> tuple[int, int]:
        defs = [d for d in ids[DEFINITION] if parent_id(d) == g]
        return chain(children[g][DEFINITION], max((definition_chain(d) for d in defs), default=(0, 0)))

    def pool_chain(p: str) -> tuple[int, int]:
        hosts = _pages(children[p][HOST], page_size)
        sessions = _pages(children[p][SESSION], page_size) if p in roll else 0
        return (max(hosts, sessions), 0)

    galleries_of, pools_of = defaultdict(list), defaultdict(list)
    for g in ids[GALLERY]:
        galleries_of[g.split("/")[2]].append(g)
    for p in ids[POOL]:
        pools_of[p.split("/")[2]].append(p)
    longest = (1, 0)
    for sub in (s.lower() for s in subscription_ids):
        counts = by_sub[sub]
        longest = max(
            longest,
            chain(counts[GALLERY], max((gallery_chain(g) for g in galleries_of[sub]), default=(0, 0))),
            chain(counts[POOL], max((pool_chain(p) for p in pools_of[sub]), default=(0, 0))),
            *((_pages(counts[t], page_size), 0) for t in FLAT),
        )
    return longest


def observation_floor(
    resources, subscription_ids, page_size: int, latency_setting, concurrency: int, roll_pools=()
) -> dict:
    resources = list(resources)
    calls = list_call_floor(resources, subscription_ids, page_size, roll_pools=roll_pools)
    means = mean_seconds(latency_setting)
    if not means:
        return {"calls": calls, "critical_pages": None, "floor_s": None}
    pages, gets = critical_pages(resources, subscription_ids, page_size, roll_pools)
    critical = means["token"] + pages * means["list_page"] + gets * means["get"]
    listed = calls["total"] - calls["replication gets"]
    work = listed * means["list_page"] + calls["replication gets"] * means["get"]
    throughput = work / max(1, concurrency)
    return {
        "calls": calls,
        "critical_pages": [pages, gets],
        "critical_s": round(critical, 3),
        "throughput_s": round(throughput, 3),
        "floor_s": round(max(critical, throughput), 3),
        "mean_ms": {k: round(v * 1000, 1) for k, v in means.items()},
    }
