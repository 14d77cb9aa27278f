"""`reconcile run` serves the dashboard on its probe port: the same pages and view-model as `reconcile ui`
and `reconcile status -o json`, plus the controller's own record (leader, cycles, last good commit)."""

from __future__ import annotations

import contextlib
import io
import json
import urllib.request
from datetime import timedelta

from reconciler.cli import main
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.controller.estate import controller_view
from reconciler.controller.http import Probes, ProbeServer
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.source import DirSource
from reconciler.store import LocalStore
from ui.estate import seeded


def get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as r:
        return r.read().decode()


def test_run_serves_the_dashboard_with_its_controller_and_status_shows_the_same_pools(
    frozen, sandbox_env, tmp_path
):
    root = seeded(frozen, tmp_path / "d")
    cycle = EngineCycle(
        LocalStore(str(tmp_path / "state")), parallelism=4, user_agent="test", timeout=timedelta(seconds=30)
    )
    settings = LoopSettings(interval=3600, jitter=0.0, poll=3600, retry_base=3600, dry_run=True)
    controller = Controller(DirSource(str(root)), cycle, elector=AlwaysLeader(), settings=settings)
    view = controller_view(controller, interval=0)
    probes = Probes(
        controller.healthy, controller.ready, controller.metrics.exposition, controller.status, view
    )
    server = ProbeServer("127.0.0.1:0", probes).start()
    try:
        before = get(server.port, "/controller")
        assert "Cycles</dt><dd>0" in before
        assert controller.sync()
        controller.reconcile()
        page = get(server.port, "/controller")
        served = json.loads(get(server.port, "/api/view"))
        pools_page = get(server.port, "/pools")
    finally:
        server.stop()
        cycle.close()
    assert "Cycles</dt><dd>1" in page and "Role</dt><dd>leader" in page
    assert served["controller"]["cycles"] == 1 and served["controller"]["last_cycle"]["ok"] is True
    assert 'id="pool-hp-canary"' in pools_page and 'id="pool-hp-prod"' in pools_page

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "-o", "json", "--desired", str(root)]) == 0
    status = json.loads(out.getvalue())
    key = ("pool", "pinned", "running", "hosts", "state", "rollout")
    assert [{k: p[k] for k in key} for p in status["pools"]] == [
        {k: p[k] for k in key} for p in served["pools"]
    ]
    assert status["estate"] == served["estate"] and status["controller"] is None
