"""Acceptance tests gating promotion, end to end: `reconcile apply` passes (real CLI in process, real SDK) on a
frozen sandbox clock moved to each wait the apply hands back; the sandbox's run commands and health checks
scripted by fault rules; every claim checked against the sandbox audit (run command PUTs per test).

hp-val is the validation pool (hp-prod's gate names it); the suite applies from 2.0.0, so both pools start on
1.0.0 without it, then the pin moves to 2.0.0.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from support.acceptance import TESTS, run_command_puts, version_id, write
from support.cli import drive
from support.estate import seed_estate
from support.rollout import versions_running

from reconciler.model.acceptance import AcceptanceState, acceptance_of, outcomes_of
from reconciler.spec import load_desired


def provisioned(sb, tmp_path, version="2.0.0"):
    root = write(tmp_path / "d", "1.0.0")
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, "hp-prod") == {"1.0.0": 2}
    write(root, version)
    return root


def version_tags(sb, name="2.0.0") -> dict:
    return dict((sb.get(version_id(name)) or {}).get("tags") or {})


def test_a_good_version_passes_acceptance_on_the_validation_pool_soaks_and_promotes(frozen, tmp_path):
    root = provisioned(frozen, tmp_path)
    prod_started: list[datetime] = []
    lines: list[str] = []

    def watch(cycle, result):
        lines.extend(f"{a['test']} {a['what']}" for a in result.recap.get("acceptance") or ())
        if "2.0.0" in versions_running(frozen, "hp-prod") and not prod_started:
            prod_started.append(frozen.now())

    drive(frozen, root, on_cycle=watch)
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.PASSED and verdict.host.startswith("val")
    assert {n: o.verdict.value for n, o in outcomes_of(tags).items()} == dict.fromkeys(TESTS, "passed")
    assert run_command_puts(frozen) == dict.fromkeys(TESTS, 1)  # each test ran once
    assert [line for line in lines if line.endswith("passed")] == [f"{t} passed" for t in TESTS]
    # production waited for the verdict and then the soak (6 h) from it
    assert prod_started and prod_started[0] >= datetime.fromisoformat(verdict.at) + timedelta(hours=6)
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}
