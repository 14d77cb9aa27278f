"""Hosts are not failed for the reconciler's absence: the health timeout starts when the reconciler has sent
the AVD agent, so an apply that is killed, slow or simply not running between its steps never turns a new
host into a failed one. A host that does fail is named with its reason (status, the halted outcome)."""

from __future__ import annotations

import json

from e2e.rollout_support import drive, pool_doc, pool_id, seed_estate, versions_running, write_desired
from reconciler.engine.outcome import Done, Failed
from reconciler.model.rollout import POOL_FAILURES_TAG
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def test_hours_between_cycles_fail_no_host(frozen, conn, tmp_path):
    rollout = {"healthTimeout": "20m", "failureBudget": 0}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-a", count=2, rollout=rollout)])
    seed_estate(frozen, load_desired(root))
    gaps = []

    def away(cycle, results):  # the reconciler is gone for 3 h after every single cycle
        if not isinstance(results[0].outcome, Done):
            gaps.append([s.op for s in results[0].decision.steps])
            frozen.advance(3 * 3600)

    _, results = drive(frozen, root, conn, on_cycle=away)
    assert isinstance(results[0].outcome, Done)
    assert versions_running(frozen, "hp-a") == {"1.0.0": 2}
    assert POOL_FAILURES_TAG not in (frozen.get(pool_id("hp-a")).get("tags") or {})
    # It really was away at each step of the host's way up: after the create, the join and the agent.
    flat = [op for ops in gaps for op in ops]
    assert {"create", "join", "register"} <= set(flat)


def test_failed_host_is_named_with_its_reason(frozen, conn, tmp_path, monkeypatch, capsys):
    from reconciler.cli import main

    rollout = {"batchSize": 1, "capacityFloor": 60, "failureBudget": 0, "healthTimeout": "20m"}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-n", count=3, rollout=rollout)])
    seed_estate(frozen, load_desired(root))
    drive(frozen, root, conn)
    frozen.configure(registration_failure_share=1.0)  # new hosts register Unavailable, forever
    write_desired(root, VERSIONS, [pool_doc("hp-n", count=3, version="2.0.0", rollout=rollout)])
    _, results = drive(frozen, root, conn)
    outcome = results[0].outcome
    assert isinstance(outcome, Failed) and outcome.error_code == "RolloutHalted"
    reason = "not Available within the health timeout (20m) after the AVD agent was sent"
    assert outcome.why == f"hp-n: halted: 1 failed host(s), budget 0; last: hpn-3: {reason}"
    for name, value in frozen.env.items():
        monkeypatch.setenv(name, value)
    assert main(["status", "hp-n", "-o", "json", "--desired", str(root)]) == 0
    [status] = json.loads(capsys.readouterr().out)["pools"]
    assert status["failed_hosts"] == [
        {"host": "hpn-3", "check": "timeout", "code": None, "extension": None, "reason": reason}
    ]
    assert main(["status", "hp-n", "--desired", str(root)]) == 0
    assert f"failed host hpn-3: {reason}" in capsys.readouterr().out
