"""Arithmetic on `CallStats` snapshots of a `CallMeter`: the calls made between two."""

from __future__ import annotations

from reconciler.model.observed import CallStats


def stats_since(before: CallStats, after: CallStats) -> CallStats:
    """The calls made between two `CallMeter.stats()` snapshots (lowest_remaining: as of `after`)."""

    def minus(a, b):
        return {k: a[k] - b.get(k, 0) for k in a if a[k] - b.get(k, 0)}

    return CallStats(
        total=after.total - before.total,
        pages=after.pages - before.pages,
        gets=after.gets - before.gets,
        throttled=after.throttled - before.throttled,
        paced_calls=after.paced_calls - before.paced_calls,
        paced_seconds=after.paced_seconds - before.paced_seconds,
        by_operation=minus(after.by_operation, before.by_operation),
        by_status=minus(after.by_status, before.by_status),
        lowest_remaining=dict(after.lowest_remaining),
    )
