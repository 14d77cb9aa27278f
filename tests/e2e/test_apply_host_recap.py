"""The recap counts host work -- hosts created, replaced, deleted, drained, users messaged and logged off, per
pool -- from the steps apply performed, and the counts equal what the sandbox's audit recorded: first for the
24 hosts a new pool gets, then for replacing all 24 with users signed in."""

from __future__ import annotations

import re

import pytest
from support.estate import seed_estate
from support.rollout import pool_doc, seed_sessions, versions_running, vms_of, write_desired
from support.sandbox import time_scale

from e2e.apply_rings import VERSIONS, apply_json, history
from reconciler.spec import load_desired

SCALE = 1_000  # a 24 h health timeout is 86 s of wall time: hosts are not failed for a slow client
ROLLOUT = {
    "batchSize": 8,
    "capacityFloor": 50,
    "drainGrace": "10m",
    "forceLogoff": "true",
    "userMessage": "Updating tonight",
    "healthTimeout": "24h",
}
VM = re.compile(r"/providers/microsoft\.compute/virtualmachines/[^/]+$", re.I)


def _audited(sb, since: int, pool: str) -> dict[str, int]:
    audit = sb.audit()
    entries = [e for e in audit["entries"][since["entries"] :] if e["status"] < 300]
    in_pool = [e for e in entries if f"/hostpools/{pool}/" in e["id"].lower()]
    return {
        "created": sum(1 for e in entries if e["method"] == "PUT" and VM.search(e["id"])),
        "deleted": sum(1 for e in entries if e["method"] == "DELETE" and VM.search(e["id"])),
        "drained": sum(1 for e in in_pool if e["method"] == "PATCH" and "/sessionhosts/" in e["id"].lower()),
        "messaged": len(audit["messages"][since["messages"] :]),
        "logged_off": sum(
            1 for e in in_pool if e["method"] == "DELETE" and "/usersessions/" in e["id"].lower()
        ),
    }


def _mark(sb) -> dict[str, int]:
    audit = sb.audit()
    return {"entries": len(audit["entries"]), "messages": len(audit["messages"])}


@pytest.fixture
def big(sb, monkeypatch, tmp_path):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    sb.configure(session_mean_seconds=0)  # users stay until logged off
    with time_scale(sb, SCALE):
        yield sb


def test_recap_counts_of_24_creates_then_24_replacements_equal_the_audit(big, tmp_path):
    sb, state = big, tmp_path / "state"
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-big", count=24, rollout=ROLLOUT)])
    seed_estate(sb, load_desired(root))
    mark = _mark(sb)
    code, recap, err = apply_json(root, state)
    assert (code, recap["outcome"]) == (0, "succeeded"), err[-2000:]
    hosts = recap["hosts"]["pools"]["hp-big"]
    audited = _audited(sb, mark, "hp-big")
    assert audited["created"] == 24
    assert {k: hosts[k] for k in audited} == audited
    assert hosts["replaced"] == 0
    assert recap["totals"]["changed"] > 0, "creating 24 hosts is a change"

    sessions = seed_sessions(sb, "hp-big", 1)
    write_desired(root, VERSIONS, [pool_doc("hp-big", count=24, version="2.0.0", rollout=ROLLOUT)])
    mark = _mark(sb)
    code, recap, err = apply_json(root, state)
    assert (code, recap["outcome"]) == (0, "succeeded"), err[-2000:]
    assert versions_running(sb, "hp-big") == {"2.0.0": 24}
    hosts = recap["hosts"]["pools"]["hp-big"]
    audited = _audited(sb, mark, "hp-big")
    assert {k: hosts[k] for k in audited} == audited, "the recap counts what Azure saw"
    assert (audited["deleted"], audited["drained"]) == (24, 24)
    # Every old host was replaced; on a loaded machine the rollout has been seen to PUT one VM twice (both
    # counted, here and in the audit), so at least 24.
    assert audited["created"] >= 24 and 24 <= hosts["replaced"] <= hosts["created"]
    assert audited["logged_off"] == len(sessions) and audited["messaged"] >= len(sessions)
    replacing = [v for v in vms_of(sb, "hp-big") if (v.get("tags") or {}).get("avd-reconciler-replaces")]
    assert len(replacing) == 24
    assert recap["totals"]["changed"] > 0 and recap["kinds"]["host-pool"]["changed"] >= 1
    assert history(state)[-1]["hosts"] == recap["hosts"]["totals"]


def test_a_cycle_cut_short_by_a_refusal_still_counts_what_it_did(big, tmp_path):
    """One VM delete of the replacement batch is refused (409 OperationNotAllowed, another operation on it):
    the other hosts' messages, log-offs and deletes of that cycle happened, and the recap counts them."""
    sb, state = big, tmp_path / "state"
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-big", count=8, rollout=ROLLOUT)])
    seed_estate(sb, load_desired(root))
    code, recap, err = apply_json(root, state)
    assert (code, recap["outcome"]) == (0, "succeeded"), err[-2000:]

    sessions = seed_sessions(sb, "hp-big", 1)
    write_desired(root, VERSIONS, [pool_doc("hp-big", count=8, version="2.0.0", rollout=ROLLOUT)])
    rule = sb.inject_fault(
        method="DELETE",
        path=r"/providers/Microsoft\.Compute/virtualMachines/[^/]+$",
        status=409,
        code="OperationNotAllowed",
        count=1,
    )
    mark = _mark(sb)
    code, recap, err = apply_json(root, state)
    assert (code, recap["outcome"]) == (0, "succeeded"), err[-2000:]
    assert rule["hits"] == 1, "the refusal happened"
    hosts = recap["hosts"]["pools"]["hp-big"]
    audited = _audited(sb, mark, "hp-big")
    assert {k: hosts[k] for k in audited} == audited, "the recap counts what Azure saw"
    assert (audited["deleted"], audited["logged_off"]) == (8, len(sessions))
