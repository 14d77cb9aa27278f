"""The idle cycle on a converged estate: the controller's real cycle (as `reconcile run` builds it) reads one
list per collection page and writes nothing. The large-estate figures come from bench/controller_bench.py."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.azure.floor import list_call_floor
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.loop import Controller, LoopSettings
from reconciler.controller.source import DirSource
from reconciler.planner.references import reference_ids
from reconciler.sandbox import Sandbox
from reconciler.sandbox.estate import estate_subscription_ids, generate
from reconciler.spec import load_desired
from reconciler.store import LocalStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from desired_gen import generate_desired  # noqa: E402

PAGE = 5  # small pages, so paging is exercised on the small estate


@pytest.fixture
def converged(tmp_path, monkeypatch):
    subs = estate_subscription_ids("small-converged")
    with Sandbox(
        estate="small-converged", page_size=PAGE, settings={"subscription_ids": tuple(subs)}, throttle=False
    ) as sb:
        resources = list(generate("small-converged", subs, sb.now()))
        summary = generate_desired(resources, subs, tmp_path / "desired", drift_share=0.0)
        assert summary.counts() == {"new_versions": 0, "pins_moved": 0, "replica_changes": 0}
        for key, value in sb.env.items():
            monkeypatch.setitem(os.environ, key, value)
        # one list per page, plus one GET per landing-zone reference the desired state makes
        refs = len(reference_ids(load_desired(tmp_path / "desired")))
        yield sb, list_call_floor(resources, subs, PAGE)["total"] + refs, tmp_path


def test_idle_cycles_read_one_list_per_page_and_write_nothing(converged):
    sb, floor, tmp_path = converged
    cycle = EngineCycle(
        LocalStore(str(tmp_path / "state")), parallelism=4, user_agent="test", timeout=timedelta(seconds=30)
    )
    settings = LoopSettings(interval=3600, jitter=0.0, poll=3600, retry_base=3600)
    controller = Controller(
        DirSource(str(tmp_path / "desired")), cycle, elector=AlwaysLeader(), settings=settings
    )
    try:
        assert controller.sync()
        for _ in range(2):
            before = dict(sb.stats()["requests"])
            controller.reconcile()
            after = sb.stats()["requests"]
            calls = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
            assert controller.last["ok"], controller.last
            assert not controller.last["drift"]
            assert {k: n for k, n in calls.items() if not k.startswith("GET ")} == {}
            assert sum(n for k, n in calls.items() if k.startswith("GET ")) == floor
    finally:
        cycle.close()
