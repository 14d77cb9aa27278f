"""The shipped CI workflows, checked offline: GitHub's workflow schema, zizmor's security audits, and every
`reconcile ...` command line in them parses with the real CLI parser (a renamed flag fails here)."""

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
BIN = Path(sys.executable).parent


def test_workflows_match_the_github_workflow_schema():
    run = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOWS],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_zizmor_finds_nothing_offline():
    run = subprocess.run(
        [BIN / "zizmor", "--offline", *WORKFLOWS], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _commands() -> list[str]:
    found = []
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            found += [
                m.group(1).split(" > ")[0].strip()
                for m in re.finditer(r"(?:^\s*(?:run: )?|&& )(reconcile \w[^;&|]*)", line.split(" # ", 1)[0])
            ]
    return found


@pytest.mark.parametrize("command", _commands())
def test_every_reconcile_command_parses(command):
    args = shlex.split(command.replace('"$', '"X').replace("$", ""))[1:]
    build_parser().parse_args(args)
