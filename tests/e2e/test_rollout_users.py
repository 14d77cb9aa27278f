"""Users on retiring hosts: messaged (with time left, repeated), logged off only after the grace period and
only when the policy says so; draining and logoffs wait for the maintenance window."""

from __future__ import annotations

from datetime import timedelta

from support.cli import apply_pass, drive
from support.estate import seed_estate
from support.plan_writes import writes
from support.rollout import (
    check_invariants,
    hosts_of,
    pool_doc,
    pool_id,
    seed_sessions,
    versions_running,
    write_desired,
)

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def _provisioned(sb, root, pool):
    sb.configure(session_mean_seconds=0)  # users stay until logged off (or the test signs them out)
    seed_estate(sb, load_desired(root))
    drive(sb, root)


def test_users_messaged_and_logged_off_only_after_grace(frozen, tmp_path):
    rollout = {
        "batchSize": 1,
        "capacityFloor": 50,
        "drainGrace": "45m",
        "forceLogoff": "true",
        "userMessage": "Updating tonight",
    }
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-u", count=2, rollout=rollout)])
    _provisioned(frozen, root, "hp-u")
    sessions = seed_sessions(frozen, "hp-u", 2)
    write_desired(root, VERSIONS, [pool_doc("hp-u", count=2, version="2.0.0", rollout=rollout)])
    drive(frozen, root, max_hosts={pool_id("hp-u"): 3})
    assert versions_running(frozen, "hp-u") == {"2.0.0": 2}
    audit = frozen.audit()
    ends = [e for e in audit["forced_session_ends"] if e["id"] in sessions]
    assert len(ends) == len(sessions)
    assert all(e["seconds_after_drain"] >= 45 * 60 for e in ends), ends
    messages = [m for m in audit["messages"] if m["id"] in sessions]
    # Each user hears at drain, then at 30, 10 and 2 minutes left.
    assert len(messages) == 4 * len(sessions)
    assert all("Updating tonight" in m["body"] and "time left" in m["body"] for m in messages)
    check_invariants(frozen, grace={"hp-u": 45 * 60})


def test_no_forced_logoff_waits_for_users(frozen, tmp_path):
    rollout = {"batchSize": 1, "capacityFloor": 50, "drainGrace": "15m", "forceLogoff": "false"}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-w", count=2, rollout=rollout)])
    _provisioned(frozen, root, "hp-w")
    sessions = seed_sessions(frozen, "hp-w", 1)
    write_desired(root, VERSIONS, [pool_doc("hp-w", count=2, version="2.0.0", rollout=rollout)])
    for _ in range(40):  # well past the grace period
        result = apply_pass(frozen, root).pool("hp-w")
        assert result.waiting
        frozen.advance(300)
    assert frozen.audit()["forced_session_ends"] == []
    assert "still signed in" in result.why or "sign out" in result.why
    # The users sign out on their own: the rollout finishes.
    app = frozen._app()
    with app.lock:
        for sid in sessions:
            app.store.delete(sid)
    _, last = drive(frozen, root)
    assert last.pool("hp-w").done
    assert versions_running(frozen, "hp-w") == {"2.0.0": 2}


def test_maintenance_window_defers_draining(frozen, tmp_path):
    now = frozen.now()
    opens = (now + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    window = [{"cron": f"0 {opens.hour} * * *", "duration": "2h", "timeZone": "UTC"}]
    rollout = {"batchSize": 1, "capacityFloor": 50, "maintenanceWindows": window}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-m", count=2, rollout=rollout)])
    _provisioned(frozen, root, "hp-m")
    seed_sessions(frozen, "hp-m", 1)
    write_desired(root, VERSIONS, [pool_doc("hp-m", count=2, version="2.0.0", rollout=rollout)])
    before = len(frozen.audit()["entries"])
    first = apply_pass(frozen, root).pool("hp-m")
    # The first apply moves the pin and writes nothing to the hosts; its roll checks back shortly (hosts),
    # and from then on the pool waits for the window, named as such.
    assert first.waiting and not writes(frozen.audit()["entries"][before:]), first
    if first.reason_code != "window":
        frozen.advance(max((first.at - frozen.now()).total_seconds(), 1.0))
    result = apply_pass(frozen, root).pool("hp-m")
    assert result.waiting and result.reason_code == "window", result
    assert result.at <= opens and "maintenance window" in result.why
    while frozen.now() < opens - timedelta(minutes=1):
        assert apply_pass(frozen, root).pool("hp-m").waiting
        assert all(h["properties"]["allowNewSession"] for h in hosts_of(frozen, "hp-m"))
        frozen.advance(600)
    frozen.advance((opens - frozen.now()).total_seconds() + 1)
    drive(frozen, root)
    assert versions_running(frozen, "hp-m") == {"2.0.0": 2}
    drains = [e for e in frozen.audit()["forced_session_ends"]]
    assert drains and all(e["drained_at"] >= opens.isoformat().replace("+00:00", "") for e in drains)
