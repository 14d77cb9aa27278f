"""Acceptance verdicts through the controller: the cycle reads them from the versions' tags on Azure (the same
observe `reconcile_quarantined_versions` comes from), `reconcile_acceptance{definition,version,state}` shows the
current one, and the webhook is told once when a version fails acceptance and once when a person force-accepts
it, with the failure excerpt.

The estate gets there through real apply passes on the frozen sandbox (e2e.test_acceptance); the controller's
cycles are dry runs (observe and plan, zero writes), so they only read what the passes wrote.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from support.sandbox import sandbox_environ

from e2e.test_acceptance import accept, provisioned, until_verdict
from reconciler.controller.cycle import CycleInput
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.notify import Notifier
from reconciler.controller.report import Reporter
from reconciler.spec import load_desired
from reconciler.store import LocalStore

SERIES = 'reconcile_acceptance{definition="win11",state="%s",version="2.0.0"} 1.0'


def observe(sb, root, tmp_path):
    """One dry-run controller cycle against `sb`."""
    with sandbox_environ(sb):
        cycle = EngineCycle(LocalStore(str(tmp_path / "ctl")), parallelism=4, timeout=timedelta(minutes=5))
        inp = CycleInput(
            desired=load_desired(root),
            commit="c0ffee",
            dry_run=True,
            suspended=False,
            suspended_pools=frozenset(),
            stop=threading.Event(),
        )
        try:
            return cycle(inp)
        finally:
            cycle.close()


def test_a_failed_then_force_accepted_version_is_a_metric_and_two_notifications(frozen, tmp_path):
    frozen.inject_fault(
        kind="run_command",
        name="avd-accept-ehr-client-starts",
        exit_code=1,
        output="EHR self-test\nEhrClient.exe: cannot reach license server lic01:27000\n",
    )
    root = provisioned(frozen, tmp_path)
    sent: list[dict] = []
    metrics = ControllerMetrics()
    reporter = Reporter(metrics, Notifier("http://hook.invalid/x", post=lambda _u, body: sent.append(body)))
    reporter.publish("c0ffee", observe(frozen, root, tmp_path), 1.0, 1.0)
    assert not [b for b in sent if b["event"].startswith("acceptance")]  # no verdict yet on 2.0.0
    assert "reconcile_acceptance{" not in metrics.exposition().decode()

    until_verdict(frozen, root)
    result = observe(frozen, root, tmp_path)
    [row] = [a for a in result.acceptance.values() if a["version"] == "2.0.0"]
    assert row["state"] == "failed" and row["definition"] == "win11"
    for _ in range(2):  # the next cycle sees the same failure: told once
        reporter.publish("c0ffee", result, 1.0, 1.0)
    exposition = metrics.exposition().decode()
    assert SERIES % "failed" in exposition
    [failed] = [b for b in sent if b["event"] == "acceptance_failed"]
    assert failed["severity"] == "error" and failed["title"] == "Image version win11/2.0.0 failed acceptance"
    assert failed["text"].startswith("ehr-client-starts: exit 1: EHR self-test")
    assert "cannot reach license server" in failed["text"]
    assert failed["fields"]["state"] == "failed" and failed["fields"]["host"].startswith("val")

    code, _, err = accept(frozen, root, "galtest/win11/2.0.0", "--force", "--reason", "license fix is CHG-7")
    assert code == 0, err
    reporter.publish("c0ffee", observe(frozen, root, tmp_path), 1.0, 1.0)
    exposition = metrics.exposition().decode()
    assert SERIES % "forced" in exposition and SERIES % "failed" not in exposition
    [forced] = [b for b in sent if b["event"] == "acceptance_forced"]
    assert forced["severity"] == "warning" and "dr.ops: license fix is CHG-7" in forced["text"]
    assert len([b for b in sent if b["event"].startswith("acceptance")]) == 2
