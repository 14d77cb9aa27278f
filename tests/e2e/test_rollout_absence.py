"""Hosts are not failed for the reconciler's absence: the health timeout starts when the reconciler has sent
the AVD agent, so an apply that is killed, slow or simply not running between its steps never turns a new
host into a failed one. A host that does fail is named with its reason (status, the halted outcome)."""

from __future__ import annotations

import json

from support.cli import drive
from support.estate import seed_estate
from support.plan_writes import writes
from support.rollout import pool_doc, pool_id, versions_running, write_desired

from reconciler.model.rollout import POOL_FAILURES_TAG
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def test_hours_between_cycles_fail_no_host(frozen, tmp_path):
    rollout = {"healthTimeout": "20m", "failureBudget": 0}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-a", count=2, rollout=rollout)])
    seed_estate(frozen, load_desired(root))
    gaps = []
    seen = [len(frozen.audit()["entries"])]

    def away(cycle, result):  # the reconciler is gone for 3 h after every single apply
        entries = frozen.audit()["entries"]
        gaps.append([op for op, _ in writes(entries[seen[-1] :])])
        seen.append(len(entries))
        if not result.pool("hp-a").done:
            frozen.advance(3 * 3600)

    _, last = drive(frozen, root, on_cycle=away)
    assert last.pool("hp-a").done
    assert versions_running(frozen, "hp-a") == {"1.0.0": 2}
    assert POOL_FAILURES_TAG not in (frozen.get(pool_id("hp-a")).get("tags") or {})
    # It really was away at each step of the host's way up: the create, the join and the agent were each
    # written by a different apply, hours apart.
    passes = {op: [n for n, ops in enumerate(gaps) if op in ops] for op in ("create", "join", "register")}
    assert all(passes.values()), passes
    assert max(passes["create"]) < min(passes["join"]) and max(passes["join"]) < min(passes["register"])


def test_failed_host_is_named_with_its_reason(frozen, tmp_path, monkeypatch, capsys):
    from reconciler.cli import main

    rollout = {"batchSize": 1, "capacityFloor": 60, "failureBudget": 0, "healthTimeout": "20m"}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-n", count=3, rollout=rollout)])
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    frozen.configure(registration_failure_share=1.0)  # new hosts register Unavailable, forever
    write_desired(root, VERSIONS, [pool_doc("hp-n", count=3, version="2.0.0", rollout=rollout)])
    _, last = drive(frozen, root)
    outcome = last.pool("hp-n")
    assert outcome.failed and (outcome.error_code, outcome.reason_code) == ("RolloutHalted", "halted")
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
