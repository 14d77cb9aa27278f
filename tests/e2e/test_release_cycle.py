"""One controller cycle and its releases, on the sandbox (real SDK clients, frozen clock):
- a due build that cannot be released (the new version would push a pool's explicit pin out of retention) is
  in `plan` (text and JSON, with why, since when and what unblocks it), in the cycle's /status record and in
  `reconcile_release_blocked`;
- the releases a `--release` cycle hands to the write-back are the ones its plan noted: the triggers are
  evaluated once per cycle, so an observation that moves after planning cannot change what git gets."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta

from support.image_estate import DEFINITION, GALLERY, RG, SETTINGS, pool
from support.image_estate import RELEASE_BUILD as BUILD
from support.sandbox import sandbox_environ

from e2e.test_release import FIRST, converge, run
from reconciler.controller.cycle import CycleInput
from reconciler.controller.engine_cycle import EngineCycle
from reconciler.controller.metrics import ControllerMetrics
from reconciler.controller.notify import Notifier
from reconciler.controller.report import Reporter
from reconciler.engine.reconcile import Reconciler
from reconciler.model.marketplace import MarketplaceVersions
from reconciler.sandbox.providers.compute_other import catalog_versions
from reconciler.spec import load_desired
from reconciler.store import LocalStore


class _MarketplaceMovesAfterPlanning(Reconciler):
    """Hands the cycle an observation whose marketplace lists one more version than the plan saw: what a second
    trigger evaluation after planning would find."""

    def cycle(self, desired, **kwargs):
        outcome = super().cycle(desired, **kwargs)
        later = {
            k: MarketplaceVersions(m.sku, (*m.versions, "26100.99999.991231"))
            for k, m in outcome.observed.marketplace.items()
        }
        return dataclasses.replace(outcome, observed=dataclasses.replace(outcome.observed, marketplace=later))


def write(desired, keep: int) -> None:
    docs = [SETTINGS, GALLERY, DEFINITION.replace("KEEP", str(keep)), BUILD, FIRST, pool("1.0.0")]
    (desired / "estate.yaml").write_text("\n---\n".join(docs))


def one_cycle(engine: EngineCycle, desired, release: bool = True):
    inp = CycleInput(
        load_desired(desired), "c0ffee", False, False, frozenset(), threading.Event(), release=release
    )
    return engine(inp)


def test_blocked_release_is_shown_and_the_cycle_releases_what_its_plan_noted(frozen, tmp_path):
    sb = frozen
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(replication_seconds=120.0, build_seconds=300.0)
    desired, state = tmp_path / "desired", tmp_path / "state"
    desired.mkdir()
    write(desired, keep=1)  # the pool pins 1.0.0 explicitly; retention keeps one version
    converge(sb, desired, state)
    published = catalog_versions(sb._app())[-1][1]
    sb.advance(published + 30 * 86400 + 3600 - sb.now().timestamp())  # past the next publish
    newest = catalog_versions(sb._app())[-1][0]

    with sandbox_environ(sb):
        code, text, err = run("plan", "--desired", str(desired), "--detailed-exitcode")
        assert code == 0, "a blocked release is no Azure change: " + text + err
        _, as_json, _ = run("plan", "--desired", str(desired), "-o", "json")
        engine = EngineCycle(LocalStore(state), timeout=timedelta(seconds=3), user_agent="test")
        blocked_cycle = one_cycle(engine, desired)
    assert "Releases blocked:" in text and "  ! ImageBuild monthly (due since " in text, text
    assert "host pool pool-a's pin 1.0.0 would be deleted" in text
    assert "to unblock: move host pool pool-a's pin to a newer version (or `latest`)" in text
    [note] = [c for c in json.loads(as_json)["changes"] if c["reason_code"] == "release-blocked"]
    details = note["details"]["blocked"]
    assert details["build"] == "monthly" and details["version"] == "1.1.0", details
    assert details["since"] and "raise keepNewest of gal1/win11 to 2" in details["unblock"]

    assert blocked_cycle.releases == (), "nothing to write while blocked"
    [blocked] = blocked_cycle.blocked_releases
    metrics = ControllerMetrics()
    record = Reporter(metrics, Notifier(None)).publish("c0ffee", blocked_cycle, 0.1, 1.0)
    [shown] = record["releases"]["blocked"]
    assert shown["why"] == blocked.why and shown["unblock"] == blocked.unblock and shown["since"]
    assert 'reconcile_release_blocked{build="monthly"} 1.0' in metrics.exposition().decode()

    write(desired, keep=3)  # the fix: retention keeps the pinned version
    with sandbox_environ(sb):
        engine = EngineCycle(LocalStore(state), timeout=timedelta(seconds=3), user_agent="test")
        engine._reconciler = _MarketplaceMovesAfterPlanning(engine.connection(), engine.store)
        result = one_cycle(engine, desired)
        dry = one_cycle(engine, desired, release=False)
    [due] = result.releases
    assert due.version == "1.1.0" and due.document["spec"]["source"]["sourceVersion"] == newest, (
        "the plan's decision, not a second evaluation over the later observation"
    )
    assert result.blocked_releases == () and dry.releases == ()
    record = Reporter(ControllerMetrics(), Notifier(None)).publish("c0ffee", result, 0.1, 1.0)
    assert record["releases"]["due"] == [{"build": "monthly", "version": "1.1.0", "summary": due.summary}]
