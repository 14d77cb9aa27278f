"""`reconcile apply` hands back long waits: it does the work that is ready, waits through short waits, and
exits 0 with a pending section naming what resumes when (a 72 h ring soak), instead of blocking for days.
`--wait none` hands back every wait, `--wait forever` sits through the soak on the simulated clock; history
records each apply's true outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.rollout import pool_id, versions_running
from support.sandbox import time_scale

from e2e.apply_rings import apply_json, history, provisioned_rings
from reconciler.model.tags import ROLLED_OUT_TAG, parse_rolled_out

SCALE = 20_000  # a 72 h soak is 13 s of wall time; a 24 h health timeout is 4 s


@pytest.fixture
def rings(sb, monkeypatch, tmp_path):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    sb.configure(session_mean_seconds=0)
    state = tmp_path / "state"
    with time_scale(sb, SCALE):
        yield provisioned_rings(sb, tmp_path / "d", state), state


def _pending_of(recap: dict, pool: str) -> dict:
    [item] = [p for p in recap["pending"] if p["resource"].endswith(f"/hostpools/{pool}")]
    return item


def test_a_72h_soak_is_handed_back_promptly_with_exit_0(sb, rings):
    root, state = rings
    started = sb.now()
    code, recap, err = apply_json(root, state)
    assert code == 0, err[-2000:]
    assert recap["outcome"] == "pending" and recap["succeeded"] is True
    assert versions_running(sb, "hp-canary") == {"2.0.0": 2}, "the ready work was done"
    assert versions_running(sb, "hp-prod") == {"1.0.0": 2}, "the gated ring waits"
    stamp = parse_rolled_out(sb.get(pool_id("hp-canary"))["tags"][ROLLED_OUT_TAG])
    soak_end = datetime.fromisoformat(stamp[1]) + timedelta(hours=72)
    prod = _pending_of(recap, "hp-prod")
    assert prod["reason_code"] == "soak" and prod["handed_back"] and prod["change"] == "roll"
    assert datetime.fromisoformat(prod["resumes_at"]) == soak_end
    assert "soaks until" in prod["why"]
    assert soak_end.isoformat() in recap["resume"] and "reconcile run" in recap["resume"]
    assert sb.now() - started < timedelta(hours=24), "did not sit through the soak"
    # "Promptly" is in sandbox time (above): a wall-clock bound would only measure the machine's load.
    [*_, entry] = history(state)
    assert (entry["outcome"], entry["succeeded"]) == ("pending", True)
    assert entry["pending"][0]["reason_code"] == "soak"
    # Nothing is ready before the soak ends: --detailed-exitcode says "done, but pending" with 2.
    code, recap, err = apply_json(root, state, "--detailed-exitcode", "--timeout", "12h")
    assert (code, recap["outcome"]) == (2, "pending"), err[-2000:]
    assert history(state)[-1]["outcome"] == "pending"


def test_wait_none_hands_back_every_wait(sb, rings):
    root, state = rings
    # Real time (scale 1): a 30 s poll cannot be due already when a slow call returns on a loaded machine.
    sb.set_time_scale(1)
    code, recap, err = apply_json(root, state, "--wait", "none", "--detailed-exitcode")
    assert code == 2, err[-2000:]
    assert recap["outcome"] == "pending"
    canary = _pending_of(recap, "hp-canary")
    assert canary["handed_back"] and canary["resumes_at"]
    assert recap["hosts"]["pools"]["hp-canary"]["created"] >= 1, "the ready work (a surge host) was done"
    assert recap["totals"]["changed"] >= 1, "a roll that wrote counts as changed even while it waits"
    assert history(state)[-1]["outcome"] == "pending"


def test_wait_forever_sits_through_the_soak_on_the_simulated_clock(sb, rings):
    root, state = rings
    started = sb.now()
    code, recap, err = apply_json(root, state, "--wait", "forever")
    assert code == 0, err[-2000:]
    assert recap["outcome"] == "succeeded" and recap["pending"] == [] and recap["resume"] is None
    assert versions_running(sb, "hp-prod") == {"2.0.0": 2}
    assert sb.now() - started >= timedelta(hours=72)
    assert recap["hosts"]["totals"]["replaced"] == 4
    assert history(state)[-1]["outcome"] == "succeeded"
