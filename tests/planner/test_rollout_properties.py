"""Property tests for select_batch: the floor is never crossed, surge never exceeds count + surge."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.planner.rollout import (
    DELETE_FIRST,
    SURGE,
    PoolHost,
    RolloutPolicy,
    select_batch,
    simulate_batches,
)

STATUSES = ["Available", "Unavailable", "NoHeartbeat", "Shutdown"]


@st.composite
def pools(draw):
    count = draw(st.integers(min_value=1, max_value=30))
    n_hosts = draw(st.integers(min_value=0, max_value=count))
    hosts = [
        PoolHost(
            name=f"h{i:02d}",
            version=draw(st.sampled_from(["1.0.0", "1.0.0", "2.0.0"])),
            status=draw(st.sampled_from(STATUSES)),
            sessions=draw(st.integers(min_value=0, max_value=20)),
            allow_new_session=draw(st.booleans()),
        )
        for i in range(n_hosts)
    ]
    policy = RolloutPolicy(
        strategy=draw(st.sampled_from([SURGE, DELETE_FIRST])),
        batch_size=draw(st.integers(min_value=1, max_value=count)),
        count=count,
        floor_percent=draw(st.integers(min_value=0, max_value=100)),
        surge=draw(st.integers(min_value=0, max_value=5)),
    )
    return hosts, policy


def _available(hosts):
    return sum(1 for h in hosts if h.available)


@settings(max_examples=400, deadline=None)
@given(pools())
def test_a_batch_never_crosses_the_floor_or_the_surge_limit(case):
    hosts, policy = case
    batch = select_batch(hosts, "2.0.0", policy)
    assert len(batch) <= policy.batch_size
    assert all(h.version != "2.0.0" for h in batch)
    assert len({h.name for h in batch}) == len(batch)
    before = _available(hosts)
    taken = sum(1 for h in batch if h.available)
    if policy.strategy == DELETE_FIRST:
        if before >= policy.floor_hosts:
            assert before - taken >= policy.floor_hosts
        else:
            assert taken == 0
    else:
        assert len(hosts) + len(batch) <= policy.count + policy.surge


@settings(max_examples=300, deadline=None)
@given(pools())
def test_a_full_rollout_keeps_every_step_above_the_floor_and_terminates(case):
    hosts, policy = case
    batches, blocked = simulate_batches(hosts, "2.0.0", policy)
    for batch in batches:
        assert batch.available_min >= min(policy.floor_hosts, batch.available_before)
        assert batch.peak_total <= max(policy.count + policy.surge, len(hosts))
    replaced = [h.name for b in batches for h in b.hosts]
    assert len(replaced) == len(set(replaced)), "a host is replaced at most once"
    outdated = {h.name for h in hosts if h.version != "2.0.0"}
    assert set(replaced) == outdated or blocked
