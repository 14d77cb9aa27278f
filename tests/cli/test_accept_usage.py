"""`reconcile accept`: bad input is one clear line, exit 1, and nothing is changed (no Azure call is made:
these fail before a connection is opened, and no history is written)."""

from __future__ import annotations

import pytest

from reconciler.cli import main


def run(capsys, tmp_path, *argv: str) -> tuple[int, str]:
    code = main(["accept", *argv, "--state", str(tmp_path / "state"), "--desired", str(tmp_path / "none")])
    return code, capsys.readouterr().err


def test_force_without_a_reason_is_refused(capsys, tmp_path):
    code, err = run(capsys, tmp_path, "g/d/1.0.0", "--force")
    assert code == 1 and "--force needs --reason" in err
    code, err = run(capsys, tmp_path, "g/d/1.0.0", "--force", "--reason", "   ")
    assert code == 1 and "--force needs --reason" in err
    assert not (tmp_path / "state").exists()


def test_rerun_and_force_together_or_neither_is_a_usage_error(capsys, tmp_path):
    code, err = run(capsys, tmp_path, "g/d/1.0.0", "--rerun", "--force", "--reason", "x")
    assert code == 1 and "not allowed with argument" in err
    code, err = run(capsys, tmp_path, "g/d/1.0.0")
    assert code == 1 and "one of the arguments --rerun --force is required" in err


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0.0", "give an image version ARM id or gallery/definition/1.2.3"),
        (
            "/subscriptions/x/resourceGroups/r/providers/Microsoft.Compute/galleries/g",
            "is not an image version id",
        ),
        ("g/d/1.0.0", "cannot resolve g/d/1.0.0"),
    ],
)
def test_a_version_that_names_nothing_is_refused(capsys, tmp_path, version, expected):
    code, err = run(capsys, tmp_path, version, "--rerun")
    assert code == 1 and expected in err, err
    assert not (tmp_path / "state").exists()


def test_a_reason_too_long_for_the_tag_is_refused(capsys, tmp_path):
    code, err = run(capsys, tmp_path, "g/d/1.0.0", "--force", "--reason", "x" * 201)
    assert code == 1 and "at most 200" in err
