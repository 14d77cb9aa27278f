"""The build retry budget holds when no process sees a run end (real CLI, real SDK, sandbox on a frozen clock +
Azurite): `reconcile apply --wait none` (what `reconcile run` does each cycle) starts a run and hands it back, so
the apply that finds it ended `Failed` never watched it. That apply counts the run first (once, by the run's end
time), and runs the recipe again only while the cause is transient and the budget has room; a cause that needs
a change is run once. Before the count carried the run's end time, such a build was run again every cycle for
as long as the recipe failed."""

from __future__ import annotations

import pytest
from support.cli import apply_json
from support.image_estate import RG, version, write_desired
from support.sandbox import sandbox_environ, stored

from reconciler.model.tags import BUILD_FAILURES_TAG, BUILD_RETRY_BUDGET, parse_build_failures

RUN = r"imageTemplates/monthly-[0-9a-f]+/run"
PASSES = 10
BUILD_SECONDS = 600.0


@pytest.fixture
def sb(frozen, module_azurite):
    frozen.seed([{"id": RG, "location": "westeurope"}])
    frozen.configure(blob_connection_string=module_azurite.connection_string, build_seconds=BUILD_SECONDS)
    return frozen


def runs(sb) -> int:
    return sum(1 for e in sb.audit()["entries"] if e["method"] == "POST" and e["id"].lower().endswith("/run"))


def template_failures(sb):
    [template] = [
        t
        for t in stored(sb, "Microsoft.VirtualMachineImages/imageTemplates")
        if t["name"].startswith("monthly-")
    ]
    return parse_build_failures((template.get("tags") or {}).get(BUILD_FAILURES_TAG))


def passes(sb, root, state) -> list[int]:
    """`apply --wait none` PASSES times, the clock moved past a whole build between them; the run count after
    each."""
    counts = []
    for _ in range(PASSES):
        with sandbox_environ(sb):
            code, _recap, err = apply_json(root, state, "--wait", "none")
        assert code in (0, 1), err[-2000:]
        counts.append(runs(sb))
        sb.advance(3 * BUILD_SECONDS)
    return counts


@pytest.mark.parametrize(
    ("cause", "fault", "most_runs", "transient"),
    [
        ("allocation-failed", {"cause": "allocation-failed"}, BUILD_RETRY_BUDGET, True),
        ("script-exit-code", {"cause": "exit-code", "exit_code": 1603}, 1, False),
    ],
)
def test_runs_found_ended_in_a_later_apply_count_against_the_budget(
    sb, tmp_path, cause, fault, most_runs, transient
):
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0")
    sb.inject_fault(kind="build", path=RUN, count=None, **fault)
    counts = passes(sb, root, tmp_path / "state")
    assert counts[-1] == most_runs, counts
    assert counts[-3:] == [most_runs] * 3, counts  # and no more, however many passes follow
    failures = template_failures(sb)
    assert failures is not None and (failures.runs, failures.cause, failures.transient) == (
        most_runs,
        cause,
        transient,
    )
    assert failures.run_end  # the run it counts, so no later pass counts it again
