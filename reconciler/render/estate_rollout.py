"""A pool's rollout in the estate view-model: batch k of n and the whole rollout's numbers, and the observed
half of the capacity chart. Pure, like the view-model (reconciler.render.estate_view)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model.rollout import RolloutPreview

CAPACITY_SAMPLES = 60  # how much observed history a pool's capacity chart keeps


def _batches(pool: Mapping[str, Any], preview: RolloutPreview | None) -> dict[str, Any] | None:
    """Batch k of n, from what apply wrote and what it will do: the batches done are the hosts this rollout
    built that serve now (status's `rollout_hosts`, read from apply's tags) in batches of `batch_size`; the
    batch under way is the hosts coming up or retiring now; the batches to go are the plan's simulated waves
    (apply's own `decide()`), less the one finishing the batch under way. A simulation that stopped short
    (a host coming up it cannot time, a gate) leaves outdated hosts it did not reach: they count in batches
    of `batch_size`. None when the pool is not rolling."""
    pinned, size = pool.get("pinned"), max(1, pool.get("batch_size") or 1)
    hosts = pool.get("rollout_hosts") or {"done": [], "current": [], "outdated": []}
    current = set(hosts["current"])
    outdated = sum(
        n for version, states in pool["hosts"].items() if version != pinned for n in states.values()
    )
    if not pinned or (not current and not outdated):  # converged: apply's tags stay, the rollout is over
        return None
    waves = [b for b in (preview.batches if preview else ()) if not current & {h.name for h in b.hosts}]
    in_waves = {h.name for b in waves for h in b.hosts}
    leaving = len(set(hosts["outdated"]) - in_waves)
    unreached = 0 if _complete(preview) else max(0, outdated - len(in_waves) - leaving)
    to_go = len(waves) + math.ceil(unreached / size)
    running = bool(current)
    # Hosts of a batch finish one by one: while one runs, only whole batches are done (a last, smaller
    # batch is whole once nothing runs).
    done = len(hosts["done"]) // size if running else math.ceil(len(hosts["done"]) / size)
    total = done + running + to_go
    if not total:
        return None
    return {
        "current": done + 1 if running else done,  # 0: not started (a gate, a window)
        "total": total,
        "running": running,
        "done": done,
        "to_go": to_go,
        "done_hosts": len(hosts["done"]),
        "in_progress": sorted(current),
        "hosts": pool.get("count") or 0,
    }


def _complete(preview: RolloutPreview | None) -> bool:
    return preview is not None and preview.end == "converged"


def rollout(pool: Mapping[str, Any], preview: RolloutPreview | None) -> dict[str, Any]:
    out: dict[str, Any] = {"batch": _batches(pool, preview)}
    if preview is None:
        return out
    totals = preview.totals or {}
    out.update(
        {
            "from": list(preview.from_versions),
            "to": preview.to_version,
            "end": preview.end,
            "end_why": preview.end_why or None,
            "finishes_at": preview.finished_at,
            "drained": totals.get("drained", 0),
            "messaged": totals.get("messaged", 0),
            "logged_off": totals.get("logged_off", 0),
            # the batch line's count: the simulation alone sees none while it cannot time a host coming up
            "batches_left": out["batch"]["to_go"] if out["batch"] else len(preview.batches),
            "planned_capacity": [
                {"at": b.at, "available": b.available_min, "batch": b.index} for b in preview.batches
            ],
        }
    )
    return out


def capacity_sample(history: list[dict[str, Any]], pools: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Append one observation of every pool's available hosts to `history` (kept to CAPACITY_SAMPLES per
    pool): the observed half of the capacity chart. Returns `history`."""
    for p in pools:
        if p.get("exists"):
            history.append({"pool": p["pool"], "at": p.get("observed_at"), "available": p["available"]})
    by_pool = Counter(s["pool"] for s in history)
    for pool, n in by_pool.items():
        for _ in range(n - CAPACITY_SAMPLES):
            history.remove(next(s for s in history if s["pool"] == pool))
    return history
