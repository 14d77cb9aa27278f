"""A rollout the failure budget halts is reported by the controller's cycle: the cycle is not ok, the pool's
change is failed with its reason, and the version is quarantined on the pool. (Once executed entries carry
the engine's ``reason_code``, the pool is also in ``halted_rollouts``: the cycle reads the code, not words.)"""

from __future__ import annotations

import threading
from datetime import timedelta

from support.estate import seed_estate
from support.rollout import pool_doc, pool_id, versions_running, write_desired

from reconciler.controller.cycle import CycleInput
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.model.rollout import POOL_QUARANTINE_TAG
from reconciler.spec import load_desired
from reconciler.store import LocalStore

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
ROLLOUT = {
    "batchSize": 1,
    "capacityFloor": 60,
    "failureBudget": 0,
    "healthTimeout": "20m",
    "drainGrace": "0s",
}


def _one_cycle(cycle, root):
    inp = CycleInput(
        desired=load_desired(root),
        commit="",
        dry_run=False,
        suspended=False,
        suspended_pools=frozenset(),
        stop=threading.Event(),
    )
    return cycle(inp)


def test_a_halted_rollout_fails_the_cycle_and_names_the_pool(sb, monkeypatch, tmp_path):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    sb.configure(session_mean_seconds=0)
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-h", count=3, rollout=ROLLOUT)])
    seed_estate(sb, load_desired(root))
    cycle = EngineCycle(LocalStore(str(tmp_path / "state")), parallelism=8, timeout=timedelta(minutes=2))
    try:
        first = _one_cycle(cycle, root)
        assert first.ok, first.error
        assert versions_running(sb, "hp-h") == {"1.0.0": 3}
        sb.configure(registration_failure_share=1.0)  # every new host registers Unavailable, forever
        write_desired(root, VERSIONS, [pool_doc("hp-h", count=3, version="2.0.0", rollout=ROLLOUT)])
        result = _one_cycle(cycle, root)
    finally:
        cycle.close()
    assert not result.ok
    [pool] = [e for e in result.changes if e["outcome"] == "failed"]
    assert (pool["kind"], pool["action"]) == ("host-pool", "roll")
    assert pool["resource"].lower() == pool_id("hp-h").lower()
    assert "reason_code" in pool
    assert (sb.get(pool_id("hp-h"))["tags"] or {})[POOL_QUARANTINE_TAG]
    assert versions_running(sb, "hp-h") == {"1.0.0": 3}, "the pool still serves from the old version"
