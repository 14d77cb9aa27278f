"""`reconcile apply` and one controller cycle are the same reconcile object: for the same estate they read the
same plan and make the same writes. Real CLI in process, the controller's real EngineCycle, the real SDK
against the session sandbox, which is reset and seeded identically before each."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections import Counter
from datetime import timedelta

from sandbox.helpers import estates_landing_zone
from support.estate import seed_estate
from support.rollout import pool_doc, write_desired
from support.sandbox import connect

from reconciler.cli import main
from reconciler.controller.cycle import CycleInput
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.engine.reconcile import Reconciler
from reconciler.spec import load_desired
from reconciler.store import LocalStore

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}
RING = {"batchSize": 1, "capacityFloor": 50, "drainGrace": "0s", "healthTimeout": "24h"}


def _estate(sb, root):
    """One pool on 1.0.0 already in Azure with no hosts; the desired state wants two hosts on 2.0.0."""
    sb.reset()
    sb.seed(estates_landing_zone(sb.subscription_ids))  # what the `sb` fixture seeds; reset removed it
    write_desired(root, VERSIONS, [pool_doc("hp-one", count=2, version="2.0.0", rollout=RING)])
    desired = load_desired(root)
    seed_estate(sb, desired)
    return desired


def _writes(sb) -> Counter:
    # Ids, not times: the two runs start at different server times, but write the same resources.
    return Counter((e["method"], e["id"].lower()) for e in sb.audit()["entries"] if e["method"] != "GET")


def test_apply_and_a_controller_cycle_plan_and_write_the_same(sb, monkeypatch, tmp_path):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    sb.configure(session_mean_seconds=0)

    _estate(sb, tmp_path / "d")
    code, printed, err = _apply(tmp_path / "d", tmp_path / "state-cli")
    assert code == 0 and printed["recap"]["outcome"] == "succeeded", err[-2000:]
    by_cli = _writes(sb)
    assert by_cli, "the estate needed work"

    desired = _estate(sb, tmp_path / "d")
    cycle = EngineCycle(LocalStore(str(tmp_path / "state-run")), parallelism=8, timeout=timedelta(minutes=2))
    try:
        result = cycle(
            CycleInput(
                desired=desired,
                commit="",
                dry_run=False,
                suspended=False,
                suspended_pools=frozenset(),
                stop=threading.Event(),
            )
        )
    finally:
        cycle.close()
    assert result.ok, result.error
    assert result.report["apply"]["outcome"] == "succeeded"
    assert result.report["plan"] == printed["plan_summary"]
    assert _writes(sb) == by_cli


def _apply(desired, state) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["apply", "--auto-approve", "--desired", str(desired), "--state", str(state), "-o", "json"]
        )
    text = out.getvalue()
    return code, json.loads(text) if text.strip().startswith("{") else {}, err.getvalue()


def test_a_dry_run_cycle_plans_what_apply_would_and_writes_nothing(sb, tmp_path):
    desired = _estate(sb, tmp_path / "d")
    with connect(sb) as conn:
        outcome = Reconciler(conn, LocalStore(str(tmp_path / "state"))).cycle(desired, dry_run=True)
    assert outcome.result is None and outcome.applied is None
    assert {(c.kind, c.action.value) for c in outcome.plan.actionable} >= {("host-pool", "pin")}
    assert _writes(sb) == Counter()
