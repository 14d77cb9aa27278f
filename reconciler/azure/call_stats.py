"""Arithmetic on `CallStats` snapshots of a `CallMeter`: the calls made between two, and two windows together."""

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


def add_stats(a: CallStats, b: CallStats) -> CallStats:
    """Two windows of calls together (lowest_remaining: the lower of each)."""

    def plus(x, y):
        return {k: x.get(k, 0) + y.get(k, 0) for k in {*x, *y}}

    lowest = dict(a.lowest_remaining)
    for k, v in b.lowest_remaining.items():
        lowest[k] = min(v, lowest.get(k, v))
    return CallStats(
        total=a.total + b.total,
        pages=a.pages + b.pages,
        gets=a.gets + b.gets,
        throttled=a.throttled + b.throttled,
        paced_calls=a.paced_calls + b.paced_calls,
        paced_seconds=a.paced_seconds + b.paced_seconds,
        by_operation=plus(a.by_operation, b.by_operation),
        by_status=plus(a.by_status, b.by_status),
        lowest_remaining=lowest,
    )
