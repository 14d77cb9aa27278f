"""Acceptance tests gating promotion, end to end: `reconcile apply` passes (real CLI in process, real SDK) on a
frozen sandbox clock moved to each wait the apply hands back; the sandbox's run commands and health checks
scripted by fault rules; every claim checked against the sandbox audit (run command PUTs per test).

hp-val is the validation pool (hp-prod's gate names it); the suite applies from 2.0.0, so both pools start on
1.0.0 without it, then the pin moves to 2.0.0.
"""

from __future__ import annotations

import contextlib
import io
from datetime import datetime, timedelta

from support.acceptance import TESTS, run_command_puts, version_id, write
from support.cli import apply_pass, drive, history, plan_json
from support.estate import seed_estate
from support.rollout import versions_running
from support.sandbox import sandbox_environ

from reconciler.cli import main
from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, AcceptanceState, acceptance_of, outcomes_of
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


def until_verdict(sb, root, *, cycles: int = 60):
    """Apply passes until the version has a final verdict; returns every acceptance event the passes reported."""
    events: list[dict] = []

    def settled(result) -> bool:
        events.extend(result.recap.get("acceptance") or ())
        verdict = acceptance_of(version_tags(sb))
        return verdict is not None and verdict.state is not AcceptanceState.RUNNING

    drive(sb, root, settled=settled, max_cycles=cycles, stop_on_failed=False)
    return events


def held_back(sb, root, passes: int = 4) -> None:
    """A day of apply passes later, production still runs 1.0.0 and nothing ran the suite again."""
    before = run_command_puts(sb)
    for _ in range(passes):
        apply_pass(sb, root)
        sb.advance(6 * 3600)
    assert versions_running(sb, "hp-prod") == {"1.0.0": 2}
    assert run_command_puts(sb) == before


def test_a_version_whose_ehr_test_exits_1_is_quarantined_with_its_output_and_never_reaches_production(
    frozen, tmp_path
):
    frozen.inject_fault(
        kind="run_command",
        name="avd-accept-ehr-client-starts",
        exit_code=1,
        output="EHR self-test\nEhrClient.exe: cannot reach license server lic01:27000\n",
    )
    root = provisioned(frozen, tmp_path)
    events = until_verdict(frozen, root)
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.FAILED and verdict.reason == "ehr-client-starts: exit 1"
    assert tags[ACCEPTANCE_FAILURE_TAG] == (
        "ehr-client-starts: exit 1: EHR self-test / EhrClient.exe: cannot reach license server lic01:27000"
    )
    [failed] = [e for e in events if e["what"] == "failed"]
    assert failed["test"] == "ehr-client-starts" and failed["exit_code"] == 1
    assert "cannot reach license server" in failed["excerpt"]
    assert run_command_puts(frozen) == {"ehr-client-starts": 1}  # the suite stopped at the first failure
    held_back(frozen, root)

    messages = " ".join(d.get("message", "") for d in plan_json(frozen, root).get("diagnostics") or ())
    assert "failed acceptance" in messages and "cannot reach license server" in messages


def test_a_failing_fslogix_health_check_blocks_promotion_without_running_a_test(frozen, tmp_path):
    frozen.inject_fault(
        kind="health_check", check="FSLogixHealthCheck", host="val*", message="profile container unreachable"
    )
    root = provisioned(frozen, tmp_path)
    until_verdict(frozen, root)
    verdict = acceptance_of(version_tags(frozen))
    assert verdict.state is AcceptanceState.FAILED and "FSLogixHealthCheck" in verdict.reason
    assert run_command_puts(frozen) == {}
    held_back(frozen, root)


def test_a_hanging_test_times_out_and_fails_the_version(frozen, tmp_path):
    frozen.inject_fault(kind="run_command", name="avd-accept-radiology-viewer-present", hang=True)
    root = provisioned(frozen, tmp_path)
    events = until_verdict(frozen, root)
    tags = version_tags(frozen)
    outcome = outcomes_of(tags)["radiology-viewer-present"]
    assert outcome.verdict.value == "timed-out" and outcome.exit_code is None
    assert outcomes_of(tags)["ehr-client-starts"].verdict.value == "passed"
    assert tags[ACCEPTANCE_FAILURE_TAG].startswith("radiology-viewer-present: timed out")
    assert [e["what"] for e in events if e["test"] == "radiology-viewer-present"][-1] == "timed-out"
    assert run_command_puts(frozen) == {"ehr-client-starts": 1, "radiology-viewer-present": 1}


def accept(sb, root, *argv: str) -> tuple[int, str, str]:
    """`reconcile accept` in process against `sb`, with the apply passes' state directory: a minute after the
    last apply, as a person would (its last tag PATCH has finished; the sandbox refuses a second one meanwhile)."""
    sb.advance(60)
    out, err = io.StringIO(), io.StringIO()
    state = root.parent / "state"
    with sandbox_environ(sb), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["accept", *argv, "--desired", str(root), "--state", str(state), "--by", "dr.ops"])
    sb.advance(60)  # its tag PATCH finishes
    return code, out.getvalue(), err.getvalue()


def test_a_force_accept_is_recorded_and_lets_the_version_promote(frozen, tmp_path):
    frozen.inject_fault(
        kind="run_command", name="avd-accept-edr-agent-running", exit_code=1, output="stopped"
    )
    root = provisioned(frozen, tmp_path)
    until_verdict(frozen, root)
    assert acceptance_of(version_tags(frozen)).state is AcceptanceState.FAILED
    code, _, err = accept(frozen, root, "galtest/win11/2.0.0", "--force")
    assert code == 1 and "--reason" in err  # refused, nothing changed
    assert acceptance_of(version_tags(frozen)).state is AcceptanceState.FAILED
    code, out, err = accept(
        frozen, root, "galtest/win11/2.0.0", "--force", "--reason", "EDR rollout is CHG-4411"
    )
    assert code == 0, err
    tags = version_tags(frozen)
    verdict = acceptance_of(tags)
    assert verdict.state is AcceptanceState.FORCED and verdict.reason == "dr.ops: EDR rollout is CHG-4411"
    assert ACCEPTANCE_FAILURE_TAG not in tags
    [entry] = [h for h in history(root.parent / "state") if h["kind"] == "accept"]
    assert entry["action"] == "force" and entry["by"] == "dr.ops" and entry["previous"] == "failed"
    assert entry["version"].lower() == version_id("2.0.0").lower()
    assert entry["previous_failure"].startswith("edr-agent-running: exit 1")
    drive(frozen, root)
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}
    assert run_command_puts(frozen)["edr-agent-running"] == 1  # forced: the suite did not run again


def test_a_rerun_runs_the_suite_again_and_a_fixed_run_promotes(frozen, tmp_path):
    frozen.inject_fault(kind="run_command", name="avd-accept-ehr-client-starts", exit_code=1, count=1)
    root = provisioned(frozen, tmp_path)
    until_verdict(frozen, root)
    assert acceptance_of(version_tags(frozen)).state is AcceptanceState.FAILED
    code, _, err = accept(frozen, root, version_id("2.0.0"), "--rerun")
    assert code == 0, err
    assert acceptance_of(version_tags(frozen)) is None and outcomes_of(version_tags(frozen)) == {}
    drive(frozen, root)
    assert acceptance_of(version_tags(frozen)).state is AcceptanceState.PASSED
    assert run_command_puts(frozen) == {
        "ehr-client-starts": 2,
        "radiology-viewer-present": 1,
        "edr-agent-running": 1,
    }
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}
    assert [h["action"] for h in history(root.parent / "state") if h["kind"] == "accept"] == ["rerun"]


def test_accepting_a_version_that_does_not_exist_changes_nothing(frozen, tmp_path):
    root = provisioned(frozen, tmp_path)
    code, _, err = accept(frozen, root, "galtest/win11/9.9.9", "--rerun")
    assert code == 1 and "does not exist" in err
    assert [h for h in history(root.parent / "state") if h["kind"] == "accept"] == []


def test_a_rerun_during_the_suite_deletes_its_run_commands_and_runs_every_test_afresh(frozen, tmp_path):
    """A run command from before the rerun (here the first test's, finished while nobody recorded it) is
    deleted, never adopted: its result predates the person's rerun. `accept --rerun` deletes it; when that
    delete is refused (here by a fault rule) the rerun still stands and the next apply deletes it."""
    from support.sandbox import stored

    root = provisioned(frozen, tmp_path)
    drive(frozen, root, settled=lambda _: run_command_puts(frozen).get(TESTS[0]) == 1)
    assert acceptance_of(version_tags(frozen)).state is AcceptanceState.RUNNING
    frozen.inject_fault(method="DELETE", path="/runCommands/avd-accept-", status=400, code="Refused", count=1)
    code, _, err = accept(frozen, root, version_id("2.0.0"), "--rerun")
    assert code == 0, err
    assert "could not be deleted" in err and "the next apply deletes them" in err
    assert acceptance_of(version_tags(frozen)) is None
    assert len(stored(frozen, "Microsoft.Compute/virtualMachines/runCommands")) == 1
    [entry] = [h for h in history(root.parent / "state") if h["kind"] == "accept"]
    assert entry["action"] == "rerun" and entry["previous"] == "running"
    assert entry["deleted_run_commands"] == []
    drive(frozen, root)
    assert acceptance_of(version_tags(frozen)).state is AcceptanceState.PASSED
    assert run_command_puts(frozen) == {TESTS[0]: 2, TESTS[1]: 1, TESTS[2]: 1}
    runs = [r for r in frozen.audit()["run_commands"] if r["id"].lower().endswith(TESTS[0])]
    assert len(runs) == 2  # the run from before the rerun does not stand in for a new one
    assert stored(frozen, "Microsoft.Compute/virtualMachines/runCommands") == []
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}


def test_a_force_accept_during_the_suite_deletes_its_run_commands(frozen, tmp_path):
    """A forced version's suite is never looked at again, so `accept --force` itself deletes what it ran."""
    from support.sandbox import stored

    root = provisioned(frozen, tmp_path)
    drive(frozen, root, settled=lambda _: run_command_puts(frozen).get(TESTS[0]) == 1)
    [left] = stored(frozen, "Microsoft.Compute/virtualMachines/runCommands")
    code, _, err = accept(frozen, root, version_id("2.0.0"), "--force", "--reason", "CAB-7 signed off")
    assert code == 0, err
    [entry] = [h for h in history(root.parent / "state") if h["kind"] == "accept"]
    assert entry["previous"] == "running" and entry["deleted_run_commands"] == [left["id"]]
    assert stored(frozen, "Microsoft.Compute/virtualMachines/runCommands") == []
    drive(frozen, root)
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}
    assert run_command_puts(frozen) == {TESTS[0]: 1}
    assert stored(frozen, "Microsoft.Compute/virtualMachines/runCommands") == []
