"""Usage errors: one line, cause first, the help hint, and exit 1, never 2 (`plan --detailed-exitcode`'s
"changes pending"), so a typo in a CI job reads as a failure, not as drift."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.cli import main
from reconciler.cli.exits import EXIT_CHANGES


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_real_process_exits_1_on_an_unknown_flag():
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode", "--no-such-flag"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 != EXIT_CHANGES
    assert proc.stdout == ""
    assert proc.stderr == "error: unrecognized arguments: --no-such-flag (see `reconcile plan --help`)\n"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "-o", "jsn"], "error: argument -o/--output: invalid choice: 'jsn' (choose from 'text', "
                                "'json', 'markdown'); did you mean 'json'? (see `reconcile plan --help`)"),
        (["plan", "--limit"], "error: argument --limit: expected one argument (see `reconcile plan --help`)"),
        (["show"], "error: the following arguments are required: PLANFILE (see `reconcile show --help`)"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_and_exit_1(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, "")
    assert err == expected + "\n"


def test_an_unknown_command_suggests_the_closest(capsys):
    code, _, err = run(capsys, "plna")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: argument COMMAND: invalid choice: 'plna'")
    assert "did you mean 'plan'?" in err


def test_help_and_version_still_exit_0(capsys):
    assert run(capsys, "--version")[0] == 0
    code, out, _ = run(capsys, "show", "--help")
    assert code == 0 and "PLANFILE" in out


def test_no_command_prints_help_and_exits_1(capsys):
    code, _, err = run(capsys)
    assert code == 1 and "usage: reconcile" in err


@pytest.mark.parametrize("command", ["status", "clear-quarantine"])
def test_an_unknown_pool_suggests_the_closest(capsys, monkeypatch, command):
    from spec.helpers import BASE

    monkeypatch.setenv("RECONCILE_ARM_ENDPOINT", "https://127.0.0.1:9")  # refused before Azure is read
    code, out, err = run(capsys, command, "hp-bsae", "--desired", str(BASE))
    assert (code, out) == (1, "")
    assert err == f"error: no HostPool named 'hp-bsae' in {BASE}; did you mean 'hp-base'?\n"
