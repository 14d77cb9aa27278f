"""The shipped CI workflows and pipelines, checked offline: GitHub's workflow schema and Azure Pipelines'
schema, zizmor's security audits (GitHub workflows), and every `reconcile ...` command line in them parses with
the real CLI parser (a renamed flag fails here)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "deploy" / "ci" / "github").glob("*.yml"))
PIPELINES = sorted((ROOT / "deploy" / "ci" / "azure-pipelines").glob("*.yml"))
BIN = Path(sys.executable).parent


def test_workflows_match_the_github_workflow_schema():
    run = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_pipelines_match_the_azure_pipelines_schema():
    assert [p.name for p in PIPELINES] == ["apply.yml", "plan.yml", "release.yml"]
    # The schema's patterns are not valid in unicode-mode ECMAScript; its own authors validate in non-unicode.
    run = subprocess.run(
        [BIN / "check-jsonschema", "--regex-variant", "nonunicode", "--builtin-schema", "vendor.azure-pipelines",
         *PIPELINES],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_pipeline_schema_check_refuses_a_misspelt_key(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("trigger: none\nstepz:\n  - script: echo hi\n")
    run = subprocess.run(
        [BIN / "check-jsonschema", "--regex-variant", "nonunicode", "--builtin-schema", "vendor.azure-pipelines",
         bad],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 1


def test_zizmor_finds_nothing_offline():
    run = subprocess.run(
        [BIN / "zizmor", "--offline", *WORKFLOWS], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _commands() -> list[str]:
    found = []
    for path in WORKFLOWS + PIPELINES:
        for line in path.read_text().splitlines():
            found += [
                m.group(1).split(" > ")[0].strip()
                for m in re.finditer(
                    r"(?:^\s*(?:(?:run|inlineScript|script): )?|&& )(reconcile \w[^;&|]*)",
                    line.split(" # ", 1)[0],
                )
            ]
    return found


@pytest.mark.parametrize("command", _commands())
def test_every_reconcile_command_parses(command):
    args = shlex.split(command.replace('"$', '"X').replace("$", ""))[1:]
    build_parser().parse_args(args)
