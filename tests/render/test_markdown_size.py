"""The Markdown plan of the shipped desired/ fits a pull-request comment: the real CLI against a sandbox with
the shipped landing zone, over HTTPS with the real SDK clients. With desired/ applied and one image version
added (the monthly corporate release), the comment stays under 10 KB; against an empty subscription (every
resource to create) it fits GitHub's 65,536 characters without being cut."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.fault_campaign import CORP_2026_12

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from render.markdown_shape import problems

SHIPPED = Path(__file__).resolve().parents[2] / "desired"


@pytest.fixture
def shipped(monkeypatch, tmp_path):
    with Sandbox(time_scale=500, landing_zone=True, settings={"session_mean_seconds": 0}) as sb:
        for name, value in sb.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.chdir(tmp_path)  # reasons name `desired/...` as they do in a checkout
        shutil.copytree(SHIPPED, tmp_path / "desired")
        yield sb


def _markdown(capsys) -> str:
    code = main(["plan", "--desired", "desired", "-o", "markdown"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_the_shipped_desired_state_fits_a_comment(shipped, capsys, tmp_path):
    empty = _markdown(capsys)
    assert len(empty) <= 65_536 and "cut to fit" not in empty and problems(empty) == []
    assert main(["apply", "--auto-approve", "--desired", "desired", "--state", str(tmp_path / "state")]) == 0
    capsys.readouterr()
    with (tmp_path / "desired" / "galleries" / "corporate.yaml").open("a") as f:
        f.write(CORP_2026_12)
    bump = _markdown(capsys)
    assert (
        "<b>image-build</b> (1): 1 to build" in bump
        and "| `hp-corp-validation` | 2026.11.1 → 2026.12.1 |" in bump
    )
    assert len(bump.encode()) < 10_000 and problems(bump) == []
