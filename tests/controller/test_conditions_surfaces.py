"""One pool, three surfaces: `reconcile status -o json`, the controller's /status and its metrics show the
same conditions (type, status, reason code), because all three render one derivation."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from reconciler.cli import main
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.controller.http import Probes, ProbeServer
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.source import DirSource
from reconciler.store import LocalStore

from .test_idle_cycle import converged  # noqa: F401 (the converged small estate, in-process)


def _from_json(conditions: list[dict]) -> set[tuple[str, str, str]]:
    return {(c["type"], c["status"], c["reason"]) for c in conditions}


def _from_metrics(body: str, pool: str) -> set[tuple[str, str, str]]:
    return {
        (s.labels["type"], s.labels["status"], s.labels["reason"])
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "reconcile_condition"
        and s.labels["name"] == pool
        and s.labels["kind"] == "host-pool"
        and s.value == 1
    }


def test_status_cli_status_endpoint_and_metrics_show_the_same_pool_conditions(converged, capsys):  # noqa: F811
    sb, _floor, tmp_path = converged
    desired = str(tmp_path / "desired")
    cycle = EngineCycle(
        LocalStore(str(tmp_path / "state")), parallelism=4, user_agent="test", timeout=timedelta(seconds=30)
    )
    settings = LoopSettings(interval=3600, jitter=0.0, poll=3600, retry_base=3600, dry_run=True)
    controller = Controller(DirSource(desired), cycle, elector=AlwaysLeader(), settings=settings)
    probes = Probes(controller.healthy, controller.ready, controller.metrics.exposition, controller.status)
    server = ProbeServer("127.0.0.1:0", probes).start()
    try:
        assert controller.sync()
        controller.reconcile()

        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/status", timeout=10) as r:
            status = json.loads(r.read())
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
    finally:
        server.stop()
        cycle.close()
    capsys.readouterr()
    assert main(["status", "-o", "json", "--desired", desired]) == 0
    cli = json.loads(capsys.readouterr().out)

    pools = [p for p in cli["pools"] if p.get("exists")]
    assert pools, "the converged estate has host pools"
    served = {o["name"]: o for o in status["last_cycle"]["conditions"] if o["kind"] == "host-pool"}
    for pool in pools:
        name = pool["pool"]
        from_cli = _from_json(pool["conditions"])
        assert {t for t, _, _ in from_cli} == {"Ready", "Reconciling", "Stalled"}
        assert from_cli == _from_json(served[name]["conditions"]), name
        assert from_cli == _from_metrics(metrics, name), name
    # A converged estate: every pool Ready because it converged, none Stalled.
    assert all(("Ready", "True", "Converged") in _from_json(p["conditions"]) for p in pools)
