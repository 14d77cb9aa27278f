"""A pin that waits for its version to replicate backs off across `reconcile apply --wait none` passes (and
controller cycles): each pass is a new process, so the back-off counts from the version's published date, which
every pass observes alike, not from the pass's own first look (which restarted every pass at the 5 s floor:
~480 passes, each a full observation, for a 40-minute replication)."""

from __future__ import annotations

from datetime import datetime

from support.cli import apply_json
from support.rollout import RG_POOLS, SUB, check_invariants, hosts_of, pool_doc, write_desired
from support.sandbox import sandbox_environ

REPLICATION_SECONDS = 2400.0


def test_a_pin_waiting_on_a_40_minute_replication_takes_few_passes(frozen, tmp_path):
    frozen.seed(
        [
            {"id": f"/subscriptions/{SUB}/resourceGroups/{rg}", "location": "westeurope"}
            for rg in ("rg-img", RG_POOLS, "rg-net")
        ]
    )
    frozen.configure(replication_seconds=REPLICATION_SECONDS)
    root = write_desired(
        tmp_path / "d", {"1.0.0": ["westeurope", "northeurope"]}, [pool_doc("hp-b", count=1)]
    )
    pin_passes, started = 0, frozen.now()
    for _ in range(400):
        with sandbox_environ(frozen):
            code, recap, err = apply_json(root, tmp_path / "state", "--wait", "none")
        assert code == 0 and recap.get("outcome") in (None, "succeeded", "pending"), err[-2000:]
        if not recap or recap["outcome"] == "succeeded":
            break
        pin_passes += any(p["resource"].lower().endswith("/hostpools/hp-b") for p in recap["pending"])
        resumes = [datetime.fromisoformat(p["resumes_at"]) for p in recap["pending"] if p.get("resumes_at")]
        frozen.advance(max((min(resumes) - frozen.now()).total_seconds(), 1.0) if resumes else 60.0)
    assert (frozen.now() - started).total_seconds() >= REPLICATION_SECONDS, "it waited for the replication"
    assert [h["properties"]["status"] for h in hosts_of(frozen, "hp-b")] == ["Available"]
    check_invariants(frozen)
    # An eighth of the time since publishing, from 5 s: about 50 looks in 40 minutes (46 measured).
    assert pin_passes <= 60, f"the pin waited through {pin_passes} passes"
