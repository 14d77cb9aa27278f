"""Crash test: `reconcile apply` is killed with SIGKILL at 20 random moments of a multi-pool rollout against a
`reconcile sandbox serve` subprocess, and run again each time. Progress lives on Azure (tags, drain flags,
the VMs themselves), so every restart continues: at the end all pools converge, with no duplicate host, no
orphan disk or NIC, no ghost session host, and never more than count + surge hosts in a pool."""

from __future__ import annotations

import json
import os
import random
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sandbox.helpers import estates_landing_zone
from support.estate import PoolHosts, converged
from support.rollout import pool_doc, pool_id, write_desired

from reconciler.spec import load_desired

pytestmark = pytest.mark.slow

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
POOLS = ("hp-k1", "hp-k2", "hp-k3")
COUNT = 3
# The health timeout is long: while apply is down (killed, restarting) the sandbox clock runs on.
ROLLOUT = {
    "strategy": "surge",
    "batchSize": 1,
    "capacityFloor": 60,
    "drainGrace": "15m",
    "healthTimeout": "8h",
}


def _docs(version: str) -> list[str]:
    return [
        pool_doc(n, count=COUNT, version=version, rollout=ROLLOUT, prefix=n.replace("-", "")) for n in POOLS
    ]


class Served:
    def __init__(self, tmp: Path, seed: list[dict]):
        seed_file = tmp / "seed.json"
        seed_file.write_text(json.dumps(seed))
        cmd = [
            sys.executable,
            "-m",
            "reconciler",
            "sandbox",
            "serve",
            "--time-scale",
            "100",
            "--seed",
            str(seed_file),
            "--page-size",
            "100",
            "--set",
            "session_mean_seconds=0",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.env = {**os.environ, **self.info["env"], "NO_COLOR": "1"}
        self.ssl = ssl.create_default_context(cafile=self.info["ca_bundle"])

    def admin(self, what: str) -> dict:
        with urllib.request.urlopen(f"{self.info['endpoint']}/_sandbox/{what}", context=self.ssl) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _apply(served: Served, desired: Path, state: Path) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "--auto-approve",
        "--desired",
        str(desired),
        "--state",
        str(state),
    ]
    return subprocess.Popen(cmd, env=served.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _check(inv: dict) -> None:
    assert inv["orphan_disks"] == [] and inv["orphan_nics"] == []
    assert inv["ghost_session_hosts"] == []
    for name in POOLS:
        assert inv["max_hosts_per_pool"].get(pool_id(name).lower(), 0) <= COUNT + 1, inv["max_hosts_per_pool"]


def test_killed_apply_resumes_without_duplicates(tmp_path):
    rng = random.Random(20)
    root = write_desired(tmp_path / "d", VERSIONS, _docs("1.0.0"))
    desired = load_desired(root)
    sub = "11111111-1111-4111-8111-111111111111"
    seed = [
        {"id": f"/subscriptions/{sub}/resourceGroups/{g}", "location": "westeurope"}
        for g in ("rg-img", "rg-pools", "rg-net")
    ]
    seed += estates_landing_zone([sub, "22222222-2222-4222-8222-222222222222"])
    for res in converged(desired, _now(), hosts={n: PoolHosts(0) for n in POOLS}):
        if res["type"].endswith("/hostPools"):
            res["properties"]["registrationInfo"] = {
                "expirationTime": None,
                "token": None,
                "registrationTokenOperation": "None",
            }
        res.get("tags", {}).pop("avd-reconciler-image-version", None)
        seed.append(res)
    served = Served(tmp_path, seed)
    state = tmp_path / "state"
    try:
        first = _apply(served, root, state)
        assert first.wait(timeout=120) == 0, first.stderr.read()[-2000:]
        write_desired(root, VERSIONS, _docs("2.0.0"))
        kills = 0
        for _ in range(20):
            proc = _apply(served, root, state)
            time.sleep(rng.uniform(1.0, 2.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            _check(served.admin("invariants"))
        final = _apply(served, root, state)
        assert final.wait(timeout=180) == 0, final.stderr.read()[-2000:]
        inv = served.admin("invariants")
        _check(inv)
        # How many of the 20 runs a kill lands in depends on the machine's speed; that one did is the point.
        assert kills >= 1, "no apply was cut short: the crash path was not exercised"
        plan = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", "--desired", str(root), "-o", "json"],
            env=served.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        changes = json.loads(plan.stdout)["changes"]
        assert [c["key"] for c in changes if c["kind"] == "session-hosts" or c["action"] == "roll"] == []
        resources = served.admin("resources?prefix=/subscriptions/" + sub)
        vms = [
            r for r in resources["value"] if r.get("type", "").lower() == "microsoft.compute/virtualmachines"
        ]
        assert len(vms) == COUNT * len(POOLS)  # no duplicate hosts left behind
        assert all(v["properties"]["storageProfile"]["imageReference"]["id"].endswith("/2.0.0") for v in vms)
    finally:
        served.stop()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
