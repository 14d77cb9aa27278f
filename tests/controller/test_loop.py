"""The loop: last good commit, immediate reconcile on a new commit, backoff, jitter, dry run, standby."""

from __future__ import annotations

import random
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.controller.cycle import CycleResult
from reconciler.controller.leader import AlwaysLeader
from reconciler.controller.loop import Controller, LoopSettings, suspension
from reconciler.controller.source import GitSource
from reconciler.spec import load_desired

from .fakes import FakeClock, RecordingCycle
from .gitrepo import GitRepo


def samples(controller: Controller) -> dict[tuple[str, tuple], float]:
    text = controller.metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def repo(tmp_path):
    return GitRepo(tmp_path / "origin")


def make(repo, tmp_path, cycle, **settings) -> Controller:
    source = GitSource(repo.url, workdir=tmp_path / "work")
    return Controller(source, cycle, elector=AlwaysLeader(), settings=LoopSettings(**settings))


def test_an_invalid_commit_is_never_applied_and_the_last_good_one_stays_in_force(repo, tmp_path):
    cycle = RecordingCycle()
    controller = make(repo, tmp_path, cycle, interval=60)
    good = repo.git("rev-parse", "HEAD")
    assert controller.sync() is True
    controller.reconcile()
    repo.edit("pools/corporate.yaml", "kind: HostPool", "kind: HostPol")  # one broken document
    bad = repo.commit("typo")
    assert controller.sync() is False
    controller.reconcile()
    assert cycle.commits == [good, good]  # the valid desired state, whole, not the half that still parses
    status = controller.status()
    assert status["desired"]["last_good_commit"] == good
    assert status["desired"]["invalid"]["commit"] == bad
    assert any("corporate.yaml" in e for e in status["desired"]["invalid"]["errors"])
    assert samples(controller)[("reconcile_desired_invalid", ())] == 1
    assert controller.ready()[0]  # still serving the last good state
    repo.edit("pools/corporate.yaml", "kind: HostPol", "kind: HostPool")
    fixed = repo.commit("fix")
    assert controller.sync() is True
    controller.reconcile()
    assert cycle.commits[-1] == fixed
    assert controller.status()["desired"]["invalid"] is None
    assert samples(controller)[("reconcile_desired_invalid", ())] == 0


def test_starting_on_an_invalid_commit_is_not_ready_and_runs_nothing(repo, tmp_path):
    repo.edit("settings.yaml", "kind: Settings", "kind: Setings")
    repo.commit("broken from the start")
    cycle = RecordingCycle()
    controller = make(repo, tmp_path, cycle, interval=60)
    controller.sync()
    controller.reconcile()
    assert cycle.inputs == []
    ok, why = controller.ready()
    assert not ok and "no valid desired state" in why


def test_a_new_commit_is_reconciled_at_once_not_after_the_interval(repo, tmp_path):
    cycle = RecordingCycle()
    controller = make(repo, tmp_path, cycle, interval=3600, poll=0.1)
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    try:
        assert cycle.called.wait(10)
        cycle.called.clear()
        repo.write("extra.yaml", "# a new commit\n")
        new = repo.commit("new")
        assert cycle.called.wait(10), "the new commit was not reconciled within a few polls"
        assert cycle.commits[-1] == new
    finally:
        controller.request_stop()
        thread.join(10)
    assert not thread.is_alive()


def test_failures_back_off_exponentially_up_to_the_interval(repo, tmp_path):
    clock = FakeClock()
    cycle = RecordingCycle([CycleResult(ok=False, error="boom")] * 6)
    controller = make(repo, tmp_path, cycle, interval=300, retry_base=30)
    controller._clock = clock
    controller.sync()
    delays = []
    for _ in range(6):
        controller.reconcile()
        delays.append(controller._next_due - clock.now)
    assert delays == [30, 60, 120, 240, 300, 300]
    controller.reconcile()  # success resets the backoff
    assert 270 <= controller._next_due - clock.now <= 330
    assert controller.status()["consecutive_failures"] == 0


def test_jitter_stays_within_ten_percent(repo, tmp_path):
    controller = make(repo, tmp_path, RecordingCycle(), interval=100)
    controller._rng = random.Random(7)
    controller.sync()
    delays = set()
    for _ in range(50):
        controller.reconcile()
        delays.add(round(controller._next_due - controller._clock(), 3))
    assert all(89.9 <= d <= 110.1 for d in delays) and len(delays) > 10


def test_dry_run_is_passed_to_the_cycle_and_failures_show_on_status_and_readiness(repo, tmp_path):
    cycle = RecordingCycle([CycleResult(ok=False, error="ARM unreachable")])
    controller = make(repo, tmp_path, cycle, interval=60, dry_run=True)
    controller.sync()
    controller.reconcile()
    assert cycle.inputs[0].dry_run is True
    assert controller.status()["last_cycle"]["error"] == "ARM unreachable"
    assert controller.ready() == (False, "last cycle failed: ARM unreachable")
    assert samples(controller)[("reconcile_cycles_total", (("result", "failure"),))] == 1


def test_a_standby_never_runs_a_cycle(repo, tmp_path):
    cycle = RecordingCycle()
    controller = make(repo, tmp_path, cycle, interval=60)
    controller.elector = SimpleNamespace(is_leader=lambda: False, holder="someone else")
    controller.sync()
    controller.reconcile()
    assert cycle.inputs == []
    assert controller.ready() == (True, "ready (standby)")
    assert controller.status()["role"] == "standby"


def test_losing_leadership_sets_the_halt_event_the_executor_watches(repo, tmp_path):
    controller = make(repo, tmp_path, RecordingCycle(), interval=60)
    controller.leadership_changed(True)
    assert not controller.halt.is_set()
    controller.leadership_changed(False)
    assert controller.halt.is_set()


def test_suspension_reads_settings_and_pools(tmp_path):
    """`suspend: true` as written in YAML: Settings.spec.controller.suspend and HostPool.spec.suspend."""
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "desired", tmp_path / "d")
    assert suspension(load_desired(tmp_path / "d")) == (False, frozenset())
    settings = tmp_path / "d" / "settings.yaml"
    settings.write_text(
        settings.read_text().replace("    interval: 15m", "    interval: 15m\n    suspend: true")
    )
    pools = tmp_path / "d" / "pools" / "clinical.yaml"
    text = pools.read_text()
    pools.write_text(text.replace("  hostPoolType: Pooled", "  hostPoolType: Pooled\n  suspend: true", 1))
    everything, suspended = suspension(load_desired(tmp_path / "d"))
    assert everything is True
    assert suspended == frozenset({"hp-clinical-validation"})
