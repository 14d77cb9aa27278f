"""The plan is the contract, as a property: for generated estates (pools with users, counts up and down, pins
moving or not, surge and delete-first, maintenance windows, a ring gate), seed the sandbox, plan, apply, and
check that the writes the sandbox's audit recorded equal the plan's — resource by resource for the first
cycle (what the plan says happens now), and in totals for the whole rollout (creates, deletes, drains, users
messaged, logoffs).

Bounded: few examples, small pools, derandomized (the same examples every run).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sandbox.helpers import estates_landing_zone
from support.cli import drive, plan_json
from support.estate import PoolHosts
from support.plan_writes import expected_writes, pool_changes, seed_pools, totals_from, writes
from support.rollout import pool_doc, write_desired

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
NOW_CRON = "* * * * *"  # a window open all day (cron every minute, 4 h long): "windows exist and are open"

pools = st.fixed_dictionaries(
    {
        "hosts": st.integers(0, 4),
        "count": st.integers(0, 4),
        "moves": st.booleans(),
        "strategy": st.sampled_from(["surge", "delete-first"]),
        "batch": st.integers(1, 2),
        "floor": st.sampled_from([0, 50, 75]),
        "sessions": st.lists(st.integers(0, 2), min_size=4, max_size=4),
        "window": st.sampled_from([None, "late"]),
    }
)


# Ten whole rollouts: 228 s measured at load average 21 on 2 cores (the suite's 300 s
# default would then decide on machine load, not on behaviour; the work is bounded by max_examples).
@pytest.mark.timeout(900)
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a whole rollout on the sandbox
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(a=pools, b=pools, ring=st.booleans())
def test_apply_writes_what_the_plan_lists(sandbox, tmp_path_factory, a, b, ring):
    scale = sandbox.clock.time_scale
    try:
        _check_one(sandbox, tmp_path_factory, a, b, ring)
    finally:
        sandbox.set_time_scale(scale)  # the session sandbox, as the `frozen` fixture leaves it


def _check_one(sandbox, tmp_path_factory, a, b, ring):
    sandbox.reset()  # the `sb` fixture's reset, per example (hypothesis runs many in one test call)
    sandbox.seed(estates_landing_zone(sandbox.subscription_ids))
    sandbox.set_time_scale(0)
    root = tmp_path_factory.mktemp("estate")
    specs = {"hp-a": a, "hp-b": b}

    def doc(name, spec, version):
        rollout = {
            "strategy": spec["strategy"],
            "batchSize": spec["batch"],
            "capacityFloor": spec["floor"],
            "drainGrace": "20m",
            "forceLogoff": True,
        }
        if spec["window"] == "late":  # closed now, opens within the day
            hour = (sandbox.now().hour + 3) % 24
            rollout["maintenanceWindows"] = [{"cron": f"0 {hour} * * *", "duration": "4h", "timeZone": "UTC"}]
        if ring and name == "hp-b":
            rollout["gate"] = {"after": "hp-a", "soak": "1h"}
        return pool_doc(
            name, count=spec["count"], version=version, rollout=rollout, prefix=name.replace("-", "")
        )

    write_desired(root, VERSIONS, [doc(n, s, "1.0.0") for n, s in specs.items()])
    hosts = {
        n: PoolHosts(s["hosts"], version="1.0.0", sessions=s["sessions"][: s["hosts"]])
        for n, s in specs.items()
    }
    seed_pools(sandbox, load_desired(root), hosts)
    write_desired(root, VERSIONS, [doc(n, s, "2.0.0" if s["moves"] else "1.0.0") for n, s in specs.items()])
    planned = pool_changes(plan_json(sandbox, root))
    start = len(sandbox.audit()["entries"])
    marks: list[int] = []
    # Past the simulation's last write (+ slack for polling), a blocked pool writes nothing more.
    ends = [
        datetime.fromisoformat(d["simulation"]["last_write_at"] or d["simulation"]["finished_at"])
        for d in planned.values()
    ]
    blocked = {n for n, d in planned.items() if d["simulation"]["end"] != "converged"}
    until = max(ends, default=sandbox.now()) + timedelta(minutes=10)

    def settled(result) -> bool:  # every pool done, except the blocked ones once `until` has passed
        return sandbox.now() > until and all(p.done or p.pool in blocked for p in result.pools)

    _, last = drive(
        sandbox,
        root,
        max_cycles=800,
        stop_on_failed=False,
        settled=settled,
        on_cycle=lambda *_: marks.append(len(sandbox.audit()["entries"])),
    )
    # Where the plan's simulation converges, apply converges (drive waits for it).
    assert all(p.done for p in last.pools if p.pool not in blocked), last.pools
    entries = sandbox.audit()["entries"]
    first, whole = writes(entries[start : marks[0]]), writes(entries[start:])
    for name in specs:
        prefix = name.replace("-", "")
        mine = _pool_part(prefix)
        details = planned.get(name)
        if details is None:  # the plan says this pool needs nothing: apply wrote nothing to it
            assert not mine(whole), (name, mine(whole))
            continue
        assert mine(first) == expected_writes(details["now"]), name
        got = totals_from(mine(whole), [e for e in entries[start:] if f"/{prefix}-" in e["id"].lower()])
        assert got == {k: details["totals"][k] for k in got}, (name, details["simulation"])


def _pool_part(prefix: str):
    def mine(counter):
        return +type(counter)({k: v for k, v in counter.items() if k[1].startswith(prefix + "-")})

    return mine
