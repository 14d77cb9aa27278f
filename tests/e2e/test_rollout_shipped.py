"""The shipped example estate (desired/) applied to an empty sandbox converges, host pools included:
afterwards `reconcile plan --detailed-exitcode` exits 0."""

from __future__ import annotations

import json
from pathlib import Path

from e2e.rollout_support import check_invariants
from reconciler.cli import main

SHIPPED = Path(__file__).resolve().parents[2] / "desired"


def test_shipped_desired_converges_then_plan_is_empty(sb, monkeypatch, tmp_path, capsys):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    sb.configure(auto_resource_groups=True, session_mean_seconds=0)
    sb.set_time_scale(500)  # sandbox hours in seconds, yet slow enough that "now" is not stale on arrival
    code = main(["apply", "--auto-approve", "--desired", str(SHIPPED), "--state", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    bad = [e for e in sb.audit()["entries"] if e["status"] >= 400][:5]
    assert code == 0, out[-1500:] + err[-1500:] + str(bad)
    code = main(["plan", "--desired", str(SHIPPED), "--detailed-exitcode", "-o", "json"])
    out, err = capsys.readouterr()
    inv = check_invariants(sb)
    sb.set_time_scale(100_000)
    hosts = sum(p["max_hosts"] for p in inv["pools"].values())
    assert hosts == 2 + 24 + 8 + 2 + 40
    data = json.loads(out)
    left = [(c["key"], c["reason"]) for c in data["changes"] if c["action"] != "no-op"]
    assert (code, left, data["diagnostics"]) == (0, [], [])  # every pool on its pin, every version as desired
