"""Helpers for the desired-state language tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reconciler.cli import main

HERE = Path(__file__).parent
INVALID = HERE / "invalid"
BASE = INVALID / "_base"
REPO = HERE.parent.parent
SHIPPED = REPO / "desired"

# `#! field.path[, field.path...]` at the end of a line: the errors expected on that line.
MARKER = re.compile(r"#!\s*(.+?)\s*$")
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<field>\S+): (?P<message>.+)$")


def expected_markers(case_dir: Path) -> set[tuple[str, int, str]]:
    out = set()
    for file in sorted(case_dir.rglob("*.y*ml")):
        rel = file.relative_to(case_dir).as_posix()
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                for field in match.group(1).split(","):
                    out.add((rel, number, field.strip()))
    return out


def assemble(case_dir: Path, tmp_path: Path) -> Path:
    """The base estate plus the case's files, in a fresh desired directory."""
    desired = tmp_path / "desired"
    shutil.copytree(BASE, desired / "_base")
    shutil.copytree(case_dir, desired, dirs_exist_ok=True)
    return desired


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
