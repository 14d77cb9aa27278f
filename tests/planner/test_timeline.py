"""The simulated timeline behind the plan's preview (reconciler.planner.timeline): apply's decide() cycle by
cycle on modelled Azure durations — pure tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy, UserSessionView
from reconciler.planner.rollout import walk
from reconciler.planner.timeline import Durations, simulate_rollout

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
V1, V2 = "/x/versions/1.0.0", "/x/versions/2.0.0"


def pool(n=4, sessions=1, **kw) -> PoolInputs:
    pol = PoolPolicy(
        count=kw.pop("count", n),
        strategy=kw.pop("strategy", "surge"),
        batch=kw.pop("batch", 2),
        floor_percent=75,
        drain_grace=timedelta(minutes=30),
        force_logoff=kw.pop("force_logoff", True),
        user_message="bye",
        health_timeout=timedelta(minutes=45),
        failure_budget=0,
    )
    hosts = tuple(
        HostView(
            f"avd-{i}",
            f"/vms/avd-{i}",
            V1,
            "Succeeded",
            session_host=f"avd-{i}.corp",
            status="Available",
            sessions=tuple(UserSessionView(f"/s/{i}/{k}", f"u{k}") for k in range(sessions)),
            managed=False,
        )
        for i in range(n)
    )
    return PoolInputs(pool_id="/pools/p", pool="p", now=NOW, policy=pol, hosts=hosts, target=V2, **kw)


def nightly(at: datetime) -> tuple[bool, datetime | None]:
    """A window 22:00–02:00 UTC, as planner.pool_inputs.window_of answers it."""
    start = at.replace(hour=22, minute=0, second=0, microsecond=0)
    if at.hour < 2:
        return True, None
    return (False, start) if at < start else (True, None)


def test_first_cycle_is_decide_and_the_rollout_converges_with_every_write_counted():
    timeline = simulate_rollout(pool())
    assert [(s.op, s.host, s.data.replaces) for s in timeline.first.steps] == [
        ("create", "avd-4", "avd-0"),
        ("create", "avd-5", "avd-1"),
    ]
    assert timeline.end == "converged"
    assert walk(timeline).totals == {
        "created": 4,
        "replaced": 4,
        "deleted": 4,
        "drained": 4,
        "messaged": 4,
        "messages": 12,
        "logged_off": 4,
    }
    assert max(c.total for c in timeline.cycles) == 6  # count + surge


def test_drains_and_replacements_wait_for_the_window():
    timeline = simulate_rollout(pool(window_open=False, next_window=NOW.replace(hour=22)), window_at=nightly)
    retires = [c.at for c in timeline.cycles for s in c.steps if s.op in ("retire", "logoff")]
    assert retires and all(at.hour >= 22 or at.hour < 2 for at in retires)  # only inside the window
    # Replacements too wait for the window (decide() surges only inside it): nothing is written now.
    assert not timeline.first.steps and timeline.cycles[1].at == NOW.replace(hour=22)
    assert timeline.end == "converged"


def test_durations_move_times_not_writes():
    fast = simulate_rollout(pool(), Durations(create=timedelta(minutes=1)))
    slow = simulate_rollout(pool(), Durations(create=timedelta(minutes=20)))
    assert walk(fast).totals == walk(slow).totals
    assert fast.finished_at < slow.finished_at


def test_unknown_ends_stop_the_simulation_and_say_why():
    gated = simulate_rollout(pool(gate_ok=False, gate_why="waits for ring 0"))
    assert gated.end == "blocked" and gated.why == "waits for ring 0"
    opens = NOW + timedelta(hours=30)
    assumed = simulate_rollout(pool(gate_ok=False, gate_why="waits for ring 0"), gate_opens_at=opens)
    assert assumed.end == "converged" and assumed.assumptions == (
        f"the ring gate opens at {opens.isoformat()}",
    )
    assert min(c.at for c in assumed.cycles if any(s.op == "retire" for s in c.steps)) >= opens
    polite = simulate_rollout(pool(force_logoff=False), Durations(sign_out=None))
    assert polite.end == "blocked" and "forceLogoff is false" in polite.why


def test_lowest_available_counts_from_when_the_pool_first_reached_its_floor():
    from types import SimpleNamespace

    def lowest_available(*available, floor):
        cycles = [SimpleNamespace(available=n, total=n, steps=(), at=None) for n in available]
        return walk(SimpleNamespace(cycles=cycles), floor).lowest_available

    assert lowest_available(6, 12, 24, 21, 24, floor=20) == 21  # count-up 6 → 24, then a batch
    assert lowest_available(24, 19, 24, floor=20) == 19  # a real dip below the floor shows
    assert lowest_available(3, 5, floor=20) == 3  # never reached: the plain lowest
    assert lowest_available(floor=20) is None
