"""`reconcile run` end to end: sandbox (ARM), Azurite (leases), a local git repository over file://.

The controllers are real subprocesses; every log line they write must parse as JSON.
"""

from __future__ import annotations

import signal
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.image_estate import DEF_ID, POOL_ID, RG, version, write_desired

from reconciler.model.tags import PIN_TAG
from reconciler.store.blob import BlobStore

from .gitrepo import GitRepo
from .running import RunningController

INTERVAL = 2.0


@pytest.fixture
def env(sb, azurite):
    sb.seed([{"id": RG, "location": "westeurope"}])
    return {**sb.env, "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}


@pytest.fixture
def repo(tmp_path):
    seed = write_desired(tmp_path / "seed", [version("1.0.0"), version("1.1.0")], pin="1.0.0")
    return GitRepo(tmp_path / "origin", desired=seed)


def start(tmp_path, env, repo, identity: str, container: str, *extra: str) -> RunningController:
    args = [
        "--git-url",
        repo.url,
        "--git-ref",
        "main",
        "--git-path",
        "desired",
        "--interval",
        str(INTERVAL),
        "--poll",
        "0.3",
        "--retry-interval",
        "1",
        "--state",
        f"blob:{container}",
        "--lease-ttl",
        "15",
        *extra,
    ]
    return RunningController(tmp_path, env, identity=identity, args=args)


def pin_of(sb) -> str | None:
    pool = sb.get(POOL_ID) or {}
    return (pool.get("tags") or {}).get(PIN_TAG)


def version_id(name: str) -> str:
    return f"{DEF_ID}/versions/{name}".lower()


def metric(controller: RunningController, name: str) -> float:
    _, body = controller.get("/metrics")
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name:
                return s.value
    raise AssertionError(f"{name} not in /metrics")


def writers(sb) -> set[str]:
    return {
        e.get("user_agent", "")
        for e in sb.audit()["entries"]
        if e["method"] in ("PUT", "PATCH", "DELETE", "POST")
    }


def test_pin_move_applied_within_one_interval_and_invalid_commit_keeps_last_good(sb, env, repo, tmp_path):
    c = start(tmp_path, env, repo, "solo", "solo")
    try:
        first = repo.git("rev-parse", "HEAD")
        c.wait_for(
            "first cycle ok",
            lambda s: (s["last_cycle"] or {}).get("ok") and s["last_cycle"]["commit"] == first,
        )
        assert pin_of(sb) == version_id("1.0.0")
        repo.edit("estate.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
        moved = repo.commit("move the pin")
        pushed = time.monotonic()
        c.wait_for(
            "pin commit applied",
            lambda s: (s["last_cycle"] or {}).get("commit") == moved and s["last_cycle"]["ok"],
        )
        assert pin_of(sb) == version_id("1.1.0")
        assert time.monotonic() - pushed < INTERVAL + 0.3 + 5  # one interval (+ a poll and the cycle itself)
        history = BlobStore.from_spec(f"{env['AZURE_STORAGE_CONNECTION_STRING']}/solo").read_history()
        assert history[-1]["commit"] == moved and history[-1]["source"] == "reconcile run"

        repo.edit("estate.yaml", "kind: HostPool", "kind: HostPoool")
        bad = repo.commit("broken")
        status = c.wait_for(
            "invalid commit reported", lambda s: (s["desired"]["invalid"] or {}).get("commit") == bad
        )
        assert status["desired"]["last_good_commit"] == moved
        assert metric(c, "reconcile_desired_invalid") == 1
        cycles = status["cycles"]
        c.wait_for(
            "cycles go on with the last good commit",
            lambda s: (
                s["cycles"] >= cycles + 1 and s["last_cycle"]["commit"] == moved and s["last_cycle"]["ok"]
            ),
        )
        assert pin_of(sb) == version_id("1.1.0")
        assert c.get("/readyz")[0] == 200 and c.get("/healthz")[0] == 200
        assert metric(c, "reconcile_leader") == 1
        c.signal(signal.SIGTERM)
        assert c.wait() == 0
    finally:
        c.stop()
    records = c.log_records()  # raises unless every line is JSON
    assert any(r.get("event") == "invalid_commit" and r.get("commit") == bad for r in records)
    assert any(r.get("action") == "pin" and r.get("commit") == moved for r in records)
    assert env["AZURE_CLIENT_SECRET"] not in c.log()


def test_two_replicas_only_the_leader_writes_and_the_standby_takes_over(sb, env, repo, tmp_path):
    a = start(tmp_path, env, repo, "replica-a", "pair")
    a.wait_for("a leads", lambda s: s["role"] == "leader" and (s["last_cycle"] or {}).get("ok"))
    b = start(tmp_path, env, repo, "replica-b", "pair")
    try:
        b.wait_for("b stands by", lambda s: s["role"] == "standby" and s["desired"]["last_good_commit"])
        assert b.get("/readyz")[0] == 200
        repo.edit("estate.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
        repo.commit("move the pin")
        a.wait_for("a applied it", lambda s: s["last_cycle"]["commit"] == repo.git("rev-parse", "HEAD"))
        assert writers(sb) and all("replica-a" in ua for ua in writers(sb)), "\n".join(sorted(writers(sb)))
        a.signal(signal.SIGKILL)  # no release: b must wait for the lease to lapse
        a.wait()
        killed = time.monotonic()
        repo.edit("estate.yaml", 'version: "1.1.0"', 'version: "1.0.0"')
        back = repo.commit("move it back")
        b.wait_for(
            "b took over and applied",
            lambda s: (
                s["role"] == "leader"
                and (s["last_cycle"] or {}).get("commit") == back
                and s["last_cycle"]["ok"]
            ),
            timeout=40,
        )
        took = time.monotonic() - killed
        assert took < 15 + INTERVAL + 5, f"takeover took {took:.1f} s"
        assert pin_of(sb) == version_id("1.0.0")
        ua = writers(sb)
        assert any("replica-b" in u for u in ua) and all("replica-a" in u or "replica-b" in u for u in ua)
        inv = sb.invariants()
        assert (
            inv["orphan_disks"] == []
            and inv["orphan_nics"] == []
            and inv["forced_session_ends"] == 0
            or not inv["forced_session_ends"]
        )
    finally:
        a.stop()
        b.signal()
        b.wait()
        b.stop()


def test_sigterm_releases_the_lease_at_once_and_a_restart_converges(sb, env, repo, tmp_path):
    sb.configure(replication_seconds=3600)
    sb.set_time_scale(200)  # an 1-hour replication takes 18 s of real time: SIGTERM lands mid-rollout
    try:
        repo.edit("estate.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
        repo.commit("pin 1.1.0 from the start")
        a = start(tmp_path, env, repo, "first", "restart")
        a.wait_for("a cycle in flight", lambda s: s["role"] == "leader" and s.get("in_cycle"))
        time.sleep(0.5)
        a.signal(signal.SIGTERM)
        assert a.wait(15) == 0
        assert pin_of(sb) is None  # the pin waits for replication: nothing half-done is visible
    finally:
        sb.set_time_scale(100_000)
    b = start(tmp_path, env, repo, "second", "restart", "--once")
    try:
        assert b.wait(60) == 0, b.log()[-2000:]
    finally:
        b.stop()
    assert pin_of(sb) == version_id("1.1.0")
    assert not any(r.get("event") == "leader_takeover" for r in b.log_records())  # a released, not lapsed


def test_dry_run_reports_drift_and_writes_nothing(sb, env, repo, tmp_path):
    c = RunningController(
        tmp_path,
        env,
        identity="observer",
        args=[
            "--git-url",
            repo.url,
            "--state",
            f"local:{tmp_path / 'state'}",
            "--once",
            "--dry-run",
            "--listen",
            "off",
        ],
    )
    try:
        assert c.wait(60) == 0
    finally:
        c.stop()
    assert [e for e in sb.audit()["entries"] if e["method"] != "GET"] == []
    end = [r for r in c.log_records() if r.get("event") == "cycle_end"]
    assert (
        end
        and "change(s) pending" in end[-1]["message"]
        and not end[-1]["message"].startswith("cycle done: 0 ")
    )
