"""New hosts that fail: counted against the failure budget, removed with their VMs, then the pool halts
(default) or rolls back; the failed version is marked on the pool and not tried again until cleared."""

from __future__ import annotations

from support.cli import apply_pass, drive
from support.estate import seed_estate
from support.rollout import VERSION_PREFIX, hosts_of, pool_doc, pool_id, versions_running, write_desired
from support.sandbox import stored

from reconciler.model.rollout import POOL_FAILURES_TAG, POOL_QUARANTINE_TAG, parse_failures
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def _pool_tags(sb, name):
    return sb.get(pool_id(name)).get("tags") or {}


def _vm_creates(sb) -> list[dict]:
    return [
        e
        for e in sb.audit()["entries"]
        if e["method"] == "PUT"
        and "/virtualmachines/" in e["id"].lower()
        and "/extensions/" not in e["id"].lower()
    ]


def _failing_rollout(sb, root, name, rollout):
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, name) == {"1.0.0": 3}
    sb.configure(registration_failure_share=1.0)  # every new host registers Unavailable, forever
    write_desired(root, VERSIONS, [pool_doc(name, count=3, version="2.0.0", rollout=rollout)])
    return drive(sb, root, max_hosts={pool_id(name): 4})


def test_failures_past_budget_halt_and_quarantine(frozen, tmp_path):
    rollout = {"batchSize": 1, "capacityFloor": 60, "failureBudget": 1, "healthTimeout": "20m"}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-f", count=3, rollout=rollout)])
    _, last = _failing_rollout(frozen, root, "hp-f", rollout)
    outcome = last.pool("hp-f")
    assert outcome.failed and (outcome.error_code, outcome.reason_code) == ("RolloutHalted", "halted")
    tags = _pool_tags(frozen, "hp-f")
    assert tags[POOL_QUARANTINE_TAG].startswith((VERSION_PREFIX + "2.0.0").lower())
    assert parse_failures(tags[POOL_FAILURES_TAG])[0] == 2  # budget 1: the second failure halts
    # Failed hosts are gone with their VMs; the pool still serves from the old version.
    assert versions_running(frozen, "hp-f") == {"1.0.0": 3}
    assert len(hosts_of(frozen, "hp-f")) == 3
    # Provisioning + exactly two tries: no unbounded loop of creations.
    assert len(_vm_creates(frozen)) == 3 + 2
    # Further applies do not try the quarantined version again.
    for _ in range(5):
        frozen.advance(3600)
        again = apply_pass(frozen, root).pool("hp-f")
        assert again.failed and again.reason_code == "halted", again
    assert versions_running(frozen, "hp-f") == {"1.0.0": 3}
    assert len(_vm_creates(frozen)) == 3 + 2


def test_failures_past_budget_roll_back_when_asked(frozen, tmp_path):
    rollout = {
        "batchSize": 1,
        "capacityFloor": 60,
        "failureBudget": 0,
        "healthTimeout": "20m",
        "onFailure": "rollback",
    }
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-r", count=3, rollout=rollout)])
    _, last = _failing_rollout(frozen, root, "hp-r", rollout)
    # Rolled back: converged on the last good version, and the recap says so (not a plain "converged").
    assert last.pool("hp-r").done and last.pool("hp-r").reason_code == "rollback", last.pool("hp-r")
    assert versions_running(frozen, "hp-r") == {"1.0.0": 3}
    assert POOL_QUARANTINE_TAG in _pool_tags(frozen, "hp-r")


def test_failed_vm_create_counts_and_cleans_up(frozen, tmp_path):
    rollout = {"batchSize": 1, "capacityFloor": 60, "failureBudget": 0}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-v", count=3, rollout=rollout)])
    seed_estate(frozen, load_desired(root))
    drive(frozen, root)
    frozen.configure(vm_create_failure_share=1.0)
    write_desired(root, VERSIONS, [pool_doc("hp-v", count=3, version="2.0.0", rollout=rollout)])
    _, last = drive(frozen, root, max_hosts={pool_id("hp-v"): 4})
    assert last.pool("hp-v").failed
    assert versions_running(frozen, "hp-v") == {"1.0.0": 3}
    # The failed VM went with its disk and NIC (drive checked for orphans after every cycle).
    assert len(stored(frozen, "Microsoft.Compute/disks")) == 3
    assert len(stored(frozen, "Microsoft.Network/networkInterfaces")) == 3


def test_status_shows_quarantine_and_clear_quarantine_lifts_it(frozen, tmp_path, monkeypatch, capsys):
    import json

    from reconciler.cli import main

    rollout = {"batchSize": 1, "capacityFloor": 60, "failureBudget": 0, "healthTimeout": "20m"}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-q", count=3, rollout=rollout)])
    _failing_rollout(frozen, root, "hp-q", rollout)
    for name, value in frozen.env.items():
        monkeypatch.setenv(name, value)
    assert main(["status", "hp-q", "-o", "json", "--desired", str(root)]) == 0
    [status] = json.loads(capsys.readouterr().out)["pools"]
    assert status["quarantined"] == "2.0.0" and status["state"] == "halted"
    assert status["pinned"] == "2.0.0" and status["running"] == {"1.0.0": 3}
    assert status["failures"] == {"count": 1, "budget": 0, "on_failure": "halt"}
    assert main(["status", "--desired", str(root)]) == 0
    text = capsys.readouterr().out
    assert "QUARANTINED: 2.0.0 (reconcile clear-quarantine hp-q)" in text
    # The plan says so too, as a warning (the planner table tests check a warning alone is not a change).
    assert main(["plan", "--desired", str(root)]) == 0
    text = capsys.readouterr().out
    assert "Warning: HostPool hp-q: version 2.0.0 is quarantined (1 failed host(s), failure budget 0)" in text
    assert "reconcile clear-quarantine hp-q" in text
    assert main(["plan", "--desired", str(root), "-o", "json"]) == 0
    [warning] = [
        d for d in json.loads(capsys.readouterr().out)["diagnostics"] if "quarantined" in d["message"]
    ]
    assert warning["severity"] == "warning" and warning["resource_id"].lower() == pool_id("hp-q").lower()
    assert main(["plan", "--desired", str(root), "-o", "markdown"]) == 0
    assert ":warning: **Warning:** HostPool hp-q: version 2.0.0 is quarantined" in capsys.readouterr().out
    assert main(["clear-quarantine", "hp-q", "--desired", str(root)]) == 0
    assert "quarantine cleared" in capsys.readouterr().out
    assert POOL_QUARANTINE_TAG not in _pool_tags(frozen, "hp-q")
    assert main(["status", "hp-q", "-o", "json", "--desired", str(root)]) == 0
    [status] = json.loads(capsys.readouterr().out)["pools"]
    assert status["quarantined"] is None and status["state"] == "progressing"  # it tries again
    assert main(["plan", "--desired", str(root)]) == 0
    assert "quarantined" not in capsys.readouterr().out
    assert main(["clear-quarantine", "hp-nope", "--desired", str(root)]) == 1
    assert "no HostPool named 'hp-nope'" in capsys.readouterr().err
