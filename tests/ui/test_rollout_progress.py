"""Batch k of n, as `reconcile status` and the dashboard show it, from apply's data: the hosts this rollout
finished and the batch under way (read from apply's tags by `reconcile status`), and the waves the plan's
simulation of apply still sees. Pure: pool status dicts as `pool_status` returns them, and plan previews."""

from __future__ import annotations

import pytest

from reconciler.model.rollout import BatchPreview, HostRef, RolloutPreview
from reconciler.render.dashboard import respond
from reconciler.render.estate_view import estate_view
from reconciler.render.status import render_status

POOL_ID = "/subscriptions/s/resourcegroups/rg/providers/microsoft.desktopvirtualization/hostpools/hp-canary"


def status(hosts: dict, done=(), current=(), outdated=(), batch_size=1, count=2) -> dict:
    return {
        "pool": "hp-canary",
        "id": POOL_ID,
        "exists": True,
        "pinned": "2.0.0",
        "target_ready": True,
        "target_why": None,
        "effective_target": "2.0.0",
        "running": {v: sum(s.values()) for v, s in hosts.items()},
        "hosts": hosts,
        "count": count,
        "strategy": "surge",
        "batch_size": batch_size,
        "floor_hosts": 1,
        "available": sum(s.get("available", 0) for s in hosts.values()),
        "batch_in_progress": [h for h in current if h not in outdated],
        "rollout_hosts": {"done": list(done), "current": list(current), "outdated": list(outdated)},
        "users_waiting": [],
        "window_open": True,
        "next_window": None,
        "gate": {"satisfied": True, "until": None, "why": None},
        "failures": {"count": 0, "budget": 0, "on_failure": "halt"},
        "quarantined": None,
        "failed_hosts": [],
        "mode": "rollout",
        "state": "progressing",
        "next_step": [],
        "next_check": None,
        "notes": [],
        "observed_at": "2026-12-07T12:00:00+00:00",
    }


def preview(*waves: tuple[str, ...], end: str = "converged", why: str = "") -> RolloutPreview:
    batches = tuple(
        BatchPreview(
            i + 1,
            tuple(HostRef(h, "1.0.0", 0, "Available") for h in wave),
            0,
            2,
            1,
            3,
            at=f"2026-12-07T12:{10 * (i + 1)}:00+00:00",
        )
        for i, wave in enumerate(waves)
    )
    return RolloutPreview(
        pool_id=POOL_ID,
        pool="hp-canary",
        from_versions=("1.0.0",),
        to_version="2.0.0",
        strategy="surge",
        batch_size=1,
        surge=1,
        floor_percent=50,
        floor_hosts=1,
        target_count=2,
        batches=batches,
        end=end,
        end_why=why,
    )


def batch_of(pool: dict, plan: RolloutPreview | None) -> dict | None:
    view = estate_view(pools=[pool], conditions=(), rollouts=[plan] if plan else [])
    return view["pools"][0]["rollout"]["batch"], view


FIRST_BATCH = {
    "hosts": {"1.0.0": {"available": 2}, "2.0.0": {"unregistered": 1}},
    "current": ("canary-1", "canary-2"),
    "outdated": ("canary-1",),
}


@pytest.mark.parametrize(
    "plan",
    [
        # the simulation's first wave retires canary-1 once canary-2 is Available: that is the batch under way
        preview(("canary-1",), ("canary-0",)),
        # a simulation that cannot time canary-2 coming up sees no waves: the outdated host left is one batch
        preview(end="blocked", why="canary-2 coming up"),
    ],
    ids=["simulated", "simulation-stopped-short"],
)
def test_the_first_batch_under_way_is_batch_1_of_2_whatever_the_simulation_saw(plan):
    batch, view = batch_of(status(**FIRST_BATCH), plan)
    assert (batch["current"], batch["total"], batch["running"], batch["to_go"]) == (1, 2, True, 1)
    assert "rollout: batch 1 of 2 under way, 1 more to go" in render_status(view)
    page = respond("/pools", lambda: view)[2].decode()
    assert '<span class="batch">batch 1 of 2</span>' in page
    assert "under way: canary-1, canary-2; 1 more to go" in page


def test_between_batches_the_finished_one_counts_as_done():
    pool = status({"1.0.0": {"available": 1}, "2.0.0": {"available": 1}}, done=("canary-2",))
    batch, view = batch_of(pool, preview(("canary-0",)))
    assert (batch["current"], batch["total"], batch["running"], batch["done"]) == (1, 2, False, 1)
    assert "rollout: 1 of 2 batch(es) done, 1 to go" in render_status(view)
    assert '<span class="batch">1 of 2 done</span>' in respond("/pools", lambda: view)[2].decode()


def test_a_batch_whose_first_host_finished_is_still_under_way():
    """The first batch of two hosts: prod-4 took over from prod-0 (gone), prod-5 still comes up for prod-1."""
    hosts = {"1.0.0": {"available": 3}, "2.0.0": {"available": 1, "registering": 1}}
    pool = status(
        hosts, done=("prod-4",), current=("prod-1", "prod-5"), outdated=("prod-1",), batch_size=2, count=4
    )
    batch, _ = batch_of(pool, preview(("prod-1",), ("prod-2", "prod-3")))
    assert (batch["current"], batch["total"], batch["done"], batch["to_go"]) == (1, 2, 0, 1)


def test_a_rollout_held_at_a_gate_has_not_started_and_counts_its_batches():
    pool = status({"1.0.0": {"available": 4}}, batch_size=2, count=4)
    batch, view = batch_of(pool, preview(end="blocked", why="waits for pool hp-validation"))
    assert (batch["current"], batch["total"], batch["running"]) == (0, 2, False)
    assert "rollout: not started, 2 batch(es) to go" in render_status(view)
    page = respond("/pools", lambda: view)[2].decode()
    assert "the plan's simulation stops (blocked): waits for pool hp-validation" in page


def test_a_finished_rollout_shows_no_batch_though_apply_tags_stay():
    pool = status({"2.0.0": {"available": 2}}, done=("canary-1", "canary-2"))
    batch, view = batch_of(pool, None)
    assert batch is None and "rollout:" not in render_status(view)
    assert "not rolling" in respond("/pools", lambda: view)[2].decode()


def test_the_capacity_chart_plots_samples_then_planned_batches_against_the_floor_over_time():
    pool = status(**FIRST_BATCH)
    samples = [
        {"pool": "hp-canary", "at": f"2026-12-07T11:{m:02d}:00+00:00", "available": 2} for m in (0, 30)
    ]
    view = estate_view(
        pools=[pool],
        conditions=(),
        rollouts=[preview(("canary-1",), ("canary-0",))],
        capacity_history=samples,
    )
    page = respond("/pools", lambda: view)[2].decode()
    chart = page.split('<svg class="chart"')[1].split("</svg>")[0]
    assert "floor 1; 2 observed sample(s), 2 planned batch(es)" in chart
    assert chart.count("<circle") == 2 and 'stroke-dasharray="5 4"' in chart  # observed, then planned
    assert "Dec 07 11:00" in chart and "Dec 07 12:20" in chart  # first sample, last planned batch
