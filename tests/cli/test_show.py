"""`reconcile show PLANFILE` without Azure: a saved plan, rendered in full; a file that is not one, one line."""

from __future__ import annotations

import json

import pytest

from reconciler.cli import main
from reconciler.model.plan import FORMAT_VERSION, Action, Change, Plan
from reconciler.render import render_json

POOL = (
    "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/"
    "Microsoft.DesktopVirtualization/hostPools/pool-a"
)
LONG = "a description far longer than a hundred characters, " * 4


@pytest.fixture
def planfile(tmp_path):
    plan = Plan(
        changes=(
            Change(
                Action.CREATE,
                "host-pool",
                POOL,
                "desired/p.yaml:3: HostPool pool-a is declared but does not exist",
                after={"location": "westeurope", "properties": {"description": LONG, "maxSessionLimit": 4}},
            ),
        ),
        generated_at="2026-12-03T08:00:00+00:00",
    )
    path = tmp_path / "plan.json"
    path.write_text(render_json(plan), encoding="utf-8")
    return path


def show(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["show", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_has_a_header_and_every_value_in_full(capsys, planfile, monkeypatch):
    monkeypatch.setenv("RECONCILE_ARM_ENDPOINT", "https://127.0.0.1:9")  # never contacted
    code, out, err = show(capsys, str(planfile))
    assert (code, err) == (0, "")
    assert out.startswith(
        f"Saved plan {planfile}, made 2026-12-03T08:00:00+00:00 (format {FORMAT_VERSION}).\n"
    )
    assert f'          + description     = "{LONG}"' in out
    assert "          + maxSessionLimit = 4" in out
    assert out.rstrip().endswith("Plan: 1 to create.")


def test_json_is_the_saved_plan_and_markdown_names_the_file(capsys, planfile):
    code, out, _ = show(capsys, str(planfile), "-o", "json")
    assert code == 0 and json.loads(out) == json.loads(planfile.read_text())
    code, out, _ = show(capsys, str(planfile), "-o", "markdown")
    assert code == 0 and f"Saved plan `{planfile}`" in out and LONG in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "error: plan file {path} does not exist"),
        ("{", "error: not a saved plan: {path} is not JSON (line 1: Expecting property name enclosed in double quotes)"),
        ('{"apiVersion": "v1"}', "error: not a saved plan: {path} has no 'changes' (save one with `reconcile plan --out`)"),
        ('{"format_version": 99, "changes": []}', f"error: unsupported plan format_version 99; this reconciler reads {FORMAT_VERSION} (in {{path}})"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_saved_plan_is_one_line_and_exit_1(capsys, tmp_path, content, expected):
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    code, out, err = show(capsys, str(path))
    assert (code, out) == (1, "")
    assert err == expected.format(path=path) + "\n"
