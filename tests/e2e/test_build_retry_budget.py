"""Whether a failed build is run again is decided by why it failed (real CLI, real SDK, sandbox + Azurite):
- a cause that needs a change (a script's exit code) is never run again with the same recipe: the next plan
  warns instead of planning the build, and a changed recipe (a new template) builds;
- a transient cause (allocation failed) is run again by the next applies, up to the retry budget of failed
  runs, then it too stops with a warning.
The count lives on the template (`avd-reconciler-build-failures`), so it survives restarts and replicas."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from support.image_estate import RG, version, write_desired

from reconciler.cli import main
from reconciler.model.tags import BUILD_FAILURES_TAG, BUILD_RETRY_BUDGET, parse_build_failures

RUN = r"imageTemplates/monthly-[0-9a-f]+/run"


@pytest.fixture
def env(cli_env, module_azurite):
    cli_env.seed([{"id": RG, "location": "westeurope"}])
    cli_env.configure(blob_connection_string=module_azurite.connection_string)
    return cli_env


def plan(capsys, root) -> dict:
    assert main(["plan", "--desired", str(root), "-o", "json"]) == 0
    return json.loads(capsys.readouterr()[0])


def builds(p: dict) -> list[dict]:
    return [c for c in p["changes"] if c["kind"] == "image-build" and c["action"] == "build"]


def apply(capsys, root) -> int:
    code = main(["apply", "--auto-approve", "--desired", str(root)])
    capsys.readouterr()
    return code


def runs(sb) -> int:
    return sum(1 for e in sb.audit()["entries"] if e["method"] == "POST" and e["id"].lower().endswith("/run"))


def test_a_failure_that_needs_a_change_is_not_run_again_until_the_recipe_changes(env, tmp_path, capsys):
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0")
    env.inject_fault(kind="build", path=RUN, count=1, cause="exit-code", exit_code=1603)
    [first] = builds(plan(capsys, root))
    assert apply(capsys, root) == 1
    assert runs(env) == 1
    failures = parse_build_failures(env.get(first["resource_id"])["tags"][BUILD_FAILURES_TAG])
    assert (failures.runs, failures.cause, failures.transient) == (1, "script-exit-code", False)
    assert failures.counts(
        datetime.fromisoformat(env.get(first["resource_id"])["properties"]["lastRunStatus"]["endTime"])
    )
    again = plan(capsys, root)
    assert builds(again) == []
    [warning] = [d for d in again["diagnostics"] if "is not built" in d["message"]]
    assert "script-exit-code, which needs a change" in warning["message"], warning
    assert apply(capsys, root) == 0 and runs(env) == 1  # nothing run again
    assert main(["status", "--desired", str(root), "-o", "json"]) == 0
    [failed] = json.loads(capsys.readouterr()[0])["failed_builds"]
    assert (failed["build"], failed["cause"], failed["runs_again"]) == ("monthly", "script-exit-code", False)
    assert main(["status", "--desired", str(root)]) == 0
    text = capsys.readouterr()[0]
    assert "Failed builds:" in text and "not run again until the recipe changes" in text, text
    write_desired(  # the fix: a changed step is a new recipe, hence a new template
        tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0", step="fixed"
    )
    assert len(builds(plan(capsys, root))) == 1
    assert apply(capsys, root) == 0 and runs(env) == 2
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0


def test_a_transient_failure_is_run_again_within_the_budget_then_stops(env, tmp_path, capsys):
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0")
    env.inject_fault(kind="build", path=RUN, count=None, cause="allocation-failed")
    for n in range(1, BUILD_RETRY_BUDGET + 1):
        p = plan(capsys, root)
        [build] = builds(p)
        if n > 1:
            assert f"failed run {n - 1} of {BUILD_RETRY_BUDGET}, allocation-failed" in build["reason"], build
        assert apply(capsys, root) == 1
        assert runs(env) == n
    stopped = plan(capsys, root)
    assert builds(stopped) == []
    assert any(
        f"failed {BUILD_RETRY_BUDGET} times (allocation-failed)" in d["message"]
        for d in stopped["diagnostics"]
    )


def test_a_pool_on_latest_is_not_moved_to_a_version_whose_build_is_not_run_again(env, tmp_path, capsys):
    # Before: the pin to 1.1.0 was planned and failed every apply ("the version is absent"), so a controller
    # reported a failed cycle every interval until someone fixed the recipe.
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="latest")
    env.inject_fault(kind="build", path=RUN, count=None, cause="exit-code", exit_code=1)
    assert apply(capsys, root) == 1  # the build fails with a cause that needs a change
    again = plan(capsys, root)
    assert [c for c in again["changes"] if c["action"] in ("pin", "roll")] == []
    [held] = [d for d in again["diagnostics"] if d["reason"] == "build-not-run-again"]
    assert "HostPool pool-a is not moved to gal1/win11/1.1.0" in held["message"], held
    assert apply(capsys, root) == 0 and runs(env) == 1
