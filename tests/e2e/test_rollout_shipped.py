"""The shipped example estate (desired/) applied to a sandbox started the way `reconcile sandbox serve` starts
one (its landing zone, no galleries, pools or their resource groups, no `auto_resource_groups`) converges,
host pools included: the plan creates the missing resource groups first, and afterwards
`reconcile plan --detailed-exitcode` exits 0."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from support.rollout import check_invariants

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from reconciler.sandbox.main import add_arguments

SHIPPED = Path(__file__).resolve().parents[2] / "desired"


@pytest.fixture
def served():
    """A sandbox with the defaults of `reconcile sandbox serve` (no flags): the shipped landing zone."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert args.bare is False and not args.set
    with Sandbox(time_scale=500, landing_zone=not args.bare, settings={"session_mean_seconds": 0}) as sb:
        assert sb.config.auto_resource_groups is False
        yield sb


def test_shipped_desired_converges_then_plan_is_empty(served, monkeypatch, tmp_path, capsys):
    sb = served
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    code = main(["plan", "--desired", str(SHIPPED), "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err[-1500:]
    first = json.loads(out)
    groups = sorted(c["name"] for c in first["changes"] if c["kind"] == "resource-group")
    assert groups == ["rg-avd-hostpools-dev", "rg-avd-hostpools-neu", "rg-avd-hostpools-weu"]
    # sandbox hours in seconds, yet slow enough that "now" is not stale on arrival
    code = main(["apply", "--auto-approve", "--desired", str(SHIPPED), "--state", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    bad = [e for e in sb.audit()["entries"] if e["status"] >= 400][:5]
    assert code == 0, out[-1500:] + err[-1500:] + str(bad)
    assert not [e for e in sb.audit()["entries"] if e["status"] >= 400]
    group = sb.get("/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-avd-hostpools-dev")
    assert group["tags"]["avd-reconciler-owner"] == "euc-platform" and group["location"] == "westeurope"
    code = main(["plan", "--desired", str(SHIPPED), "--detailed-exitcode", "-o", "json"])
    out, err = capsys.readouterr()
    inv = check_invariants(sb)
    hosts = sum(p["max_hosts"] for p in inv["pools"].values())
    assert hosts == 2 + 24 + 8 + 2 + 40
    data = json.loads(out)
    left = [(c["key"], c["reason"]) for c in data["changes"] if c["action"] != "no-op"]
    assert (code, left, data["diagnostics"]) == (0, [], [])  # every pool on its pin, every version as desired
