"""Failures are reported with Azure's own words and recovered by the next apply: a failed Image Builder run
(no half-made version left), a failed region (removed and re-added), and independent work goes on."""

from __future__ import annotations

import json

import pytest
from support.image_estate import DEF_ID, RG, version, write_desired

from reconciler.cli import main


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def apply_json(capsys, desired) -> tuple[int, dict, str]:
    code = main(["apply", "--auto-approve", "--desired", str(desired), "-o", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["recap"] if out.strip().startswith("{") else {}, err


def test_failed_build_is_reported_and_rebuilt_next_time(env, tmp_path, capsys, clients):
    d = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0")
    env.configure(build_failure_share=1.0)
    code, recap, err = apply_json(capsys, d)
    assert code == 1
    [failure] = recap["failures"]
    assert failure["kind"] == "image-build" and "ImageBuildFailed" in failure["why"]
    assert "Customizer 'PowerShell' failed" in failure["why"]
    # Independent work went on: the pool is pinned to 1.0.0, which does not depend on the build.
    assert recap["kinds"]["host-pool"]["changed"] == 2
    names = {
        v.name
        for v in clients.compute.gallery_image_versions.list_by_gallery_image("rg-img", "gal1", "win11")
    }
    assert names == {"1.0.0"}, "a failed build leaves no version behind"
    env.configure(build_failure_share=0.0)
    code, recap, err = apply_json(capsys, d)
    assert code == 0, err
    assert recap["kinds"]["image-build"]["changed"] == 1
    assert (
        clients.compute.gallery_image_versions.get("rg-img", "gal1", "win11", "1.1.0").provisioning_state
        == "Succeeded"
    )


def test_failed_region_is_reported_then_removed_and_re_added(env, tmp_path, capsys, clients):
    d = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    assert apply_json(capsys, d)[0] == 0
    # Add North Europe while every new replication fails: retried in-run (remove, re-add), then reported.
    write_desired(d, [version("1.0.0", regions=("westeurope", "northeurope"))], pin="1.0.0")
    env.configure(replication_failure_share=1.0)
    code, recap, err = apply_json(capsys, d)
    assert code == 1
    vid = f"{DEF_ID}/versions/1.0.0".lower()
    assert recap["replication"][vid] == {"northeurope": "Failed", "westeurope": "Completed"}
    [failure] = recap["failures"]
    assert "northeurope failed again" in failure["why"]
    assert failure["error_code"] == "CrpPirReplicationJobsNotCompleted"
    # The next apply (Azure healthy again) removes and re-adds the failed region.
    env.configure(replication_failure_share=0.0)
    before = len([e for e in env.audit()["entries"] if e["method"] == "PATCH" and e["id"].lower() == vid])
    code, recap, err = apply_json(capsys, d)
    assert code == 0, err
    assert recap["replication"][vid] == {"northeurope": "Completed", "westeurope": "Completed"}
    patches = [e for e in env.audit()["entries"] if e["method"] == "PATCH" and e["id"].lower() == vid]
    assert len(patches) - before >= 2, "remove the failed region, then add it back"
    got = clients.compute.gallery_image_versions.get(
        "rg-img", "gal1", "win11", "1.0.0", expand="ReplicationStatus"
    )
    assert got.provisioning_state == "Succeeded"
    assert {s.state for s in got.replication_status.summary} == {"Completed"}
    assert got.safety_profile.allow_deletion_of_replicated_locations is False, (
        "the safety profile is restored"
    )
    assert main(["plan", "--desired", str(d), "--detailed-exitcode"]) == 0
