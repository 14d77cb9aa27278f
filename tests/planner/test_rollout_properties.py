"""Properties of the rollout preview, checked on the simulated timeline of apply's own `decide()`: whatever the
pool, policy and users, no simulated cycle takes Available capacity below the floor by a retirement, no
creation takes the pool above `count + surge`, and the rollout ends on `count` hosts of the pin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.planner.host_inputs import HostView, PoolInputs, PoolPolicy, UserSessionView
from reconciler.planner.rollout import walk
from reconciler.planner.timeline import simulate_rollout

NOW = datetime(2026, 11, 3, 22, 0, tzinfo=UTC)
V1, V2 = "/x/versions/1.0.0", "/x/versions/2.0.0"


def _host(i: int, version: str, sessions: int) -> HostView:
    return HostView(
        name=f"avd-{i}",
        vm_id=f"/vms/avd-{i}",
        version=version,
        provisioning="Succeeded",
        session_host=f"avd-{i}.corp",
        status="Available",
        sessions=tuple(UserSessionView(f"/s/avd-{i}/{n}", f"u{n}") for n in range(sessions)),
        managed=False,
    )


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_old=st.integers(0, 8),
    n_new=st.integers(0, 3),
    count=st.integers(0, 10),
    batch=st.integers(1, 4),
    floor=st.integers(0, 100),
    strategy=st.sampled_from(["surge", "delete-first"]),
    force_logoff=st.booleans(),
    sessions=st.lists(st.integers(0, 3), min_size=11, max_size=11),
)
def test_simulated_rollout_never_crosses_floor_or_max_and_converges(
    n_old, n_new, count, batch, floor, strategy, force_logoff, sessions
):
    pol = PoolPolicy(
        count=count,
        strategy=strategy,
        batch=batch,
        floor_percent=floor,
        drain_grace=timedelta(minutes=30),
        force_logoff=force_logoff,
        user_message="bye",
        health_timeout=timedelta(minutes=45),
        failure_budget=0,
    )
    hosts = [_host(i, V1, sessions[i]) for i in range(n_old)]
    hosts += [_host(n_old + i, V2, sessions[n_old + i]) for i in range(n_new)]
    p = PoolInputs(pool_id="/pools/p", pool="p", now=NOW, policy=pol, hosts=tuple(hosts), target=V2)
    timeline = simulate_rollout(p)
    cap = max(len(hosts), count + pol.surge)
    before = sum(1 for h in hosts if h.accepting_available)
    for cycle in timeline.cycles:
        retired = [s for s in cycle.steps if s.op == "retire"]
        # A retirement only takes Available capacity the floor leaves (a pool may *start* below the floor,
        # e.g. while it grows; then only hosts that are not Available may go).
        if retired:
            assert cycle.available >= min(pol.floor_hosts, before), (cycle.at, cycle.steps)
        assert cycle.total <= cap, (cycle.at, cycle.total, cap)
        before = cycle.available
    if force_logoff or not any(sessions[:n_old]):
        # Everything the policy allows happens: the simulation ends with `count` hosts of the pin, unless
        # delete-first has no capacity above the floor to take a host out (then it says it is blocked).
        last = timeline.cycles[-1]
        floor_bound = strategy == "delete-first" and last.available <= pol.floor_hosts
        assert timeline.end == "converged" or (timeline.end == "blocked" and floor_bound), timeline.why
        if timeline.end != "converged":
            return
        totals = walk(timeline).totals
        assert len(hosts) + totals["created"] - totals["deleted"] == count
        assert totals["logged_off"] <= sum(sessions[: n_old + n_new])
    else:
        # Users who are never logged off keep their host: the simulation stops and says why.
        assert timeline.end in ("converged", "blocked", "bound")
