"""`reconcile apply` refuses what it must: a stale saved plan, a second apply while one runs, an unconfirmed
apply without a terminal. A fresh saved plan is applied exactly."""

from __future__ import annotations

import json

import pytest
from support.image_estate import RG, version, write_desired

from reconciler.cli import main
from reconciler.store import LocalStore


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_saved_plan_is_applied_exactly_and_a_stale_one_refused(env, tmp_path, capsys, clients):
    d = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    plan_file = tmp_path / "plan.json"
    assert run(capsys, "plan", "--desired", str(d), "--out", str(plan_file))[0] == 0
    code, out, err = run(capsys, "apply", "--auto-approve", str(plan_file))
    assert code == 0, out + err
    assert clients.compute.gallery_images.get("rg-img", "gal1", "win11").provisioning_state == "Succeeded"
    # A plan made now, then someone edits the gallery in the portal: the saved plan is stale.
    write_desired(d, [version("1.0.0")], pin="1.0.0", keep=2)
    (d / "estate.yaml").write_text((d / "estate.yaml").read_text().replace("test gallery", "new text"))
    assert run(capsys, "plan", "--desired", str(d), "--out", str(plan_file))[0] == 0
    assert json.loads(plan_file.read_text())["summary"]["update"] == 1
    gallery = clients.compute.galleries.get("rg-img", "gal1")
    clients.compute.galleries.begin_update("rg-img", "gal1", {"tags": {**gallery.tags, "x": "y"}}).result()
    code, out, err = run(capsys, "apply", "--auto-approve", str(plan_file))
    assert code == 1
    assert "stale" in err and "galleries/gal1: changed since the plan was made" in err
    assert clients.compute.galleries.get("rg-img", "gal1").description == "test gallery"


def test_concurrent_apply_is_refused_naming_the_holder(env, tmp_path, capsys):
    d = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    store = LocalStore(tmp_path / "state")
    lease = store.acquire("apply", owner="someone else")
    try:
        code, out, err = run(capsys, "apply", "--auto-approve", "--desired", str(d))
    finally:
        store.release(lease)
    assert code == 1
    assert "another apply is running" in err and "someone else" in err
    assert not [e for e in env.audit()["entries"] if e["method"] == "PUT"], "nothing may be written"


def test_without_auto_approve_and_no_terminal_it_refuses(env, tmp_path, capsys):
    d = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    code, _, err = run(capsys, "apply", "--desired", str(d))
    assert code == 1 and "--auto-approve" in err
    assert not [e for e in env.audit()["entries"] if e["method"] == "PUT" and "galleries" in e["id"].lower()]
