"""`reconcile apply` end to end: an empty sandbox converges, and a changed desired state is applied.

Real CLI, real SDK clients over HTTPS against the sandbox (time scale 100000: a 40-minute build is 24 ms).
"""

from __future__ import annotations

import json

import pytest
from support.image_estate import DEF_ID, GALLERY_ID, POOL_ID, RG, version, write_desired

from reconciler.cli import main
from reconciler.model.tags import PIN_TAG


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def apply(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["apply", "--auto-approve", *args])
    out, err = capsys.readouterr()
    return code, out, err


def plan_exit(capsys, desired) -> int:
    code = main(["plan", "--desired", str(desired), "--detailed-exitcode"])
    capsys.readouterr()
    return code


def test_empty_sandbox_converges_then_plan_has_no_changes(env, tmp_path, capsys, clients):
    desired = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.1.0")
    code, out, err = apply(capsys, "--desired", str(desired), "--commit", "abc123")
    assert code == 0, out + err
    assert "APPLY RECAP" in out and "failed=0" in out
    assert plan_exit(capsys, desired) == 0
    gallery = clients.compute.galleries.get("rg-img", "gal1")
    assert gallery.tags["owner"] == "us" and gallery.tags["avd-reconciler-commit"] == "abc123"
    built = clients.compute.gallery_image_versions.get("rg-img", "gal1", "win11", "1.1.0")
    assert built.provisioning_state == "Succeeded"
    pool = clients.avd.host_pools.get("rg-img", "pool-a")
    assert pool.tags[PIN_TAG] == f"{DEF_ID}/versions/1.1.0".lower()
    assert pool.friendly_name == "Pool A"
    history = (tmp_path / "state" / "history.jsonl").read_text().splitlines()
    record = json.loads(history[-1])
    assert record["succeeded"] and record["commit"] == "abc123"
    # A second apply has nothing to do.
    code, out, _ = apply(capsys, "--desired", str(desired))
    assert code == 0 and "No changes" in out


def test_changed_desired_state_new_version_region_and_retention(env, tmp_path, capsys, clients):
    d = tmp_path / "d"
    write_desired(d, [version("1.0.0"), version("1.1.0")], pin="1.1.0", keep=2)
    assert apply(capsys, "--desired", str(d))[0] == 0
    # New version, a second region for 1.1.0, keep only 2: 1.0.0 is deprecated now, deleted next time.
    write_desired(
        d,
        [version("1.0.0"), version("1.1.0", regions=("westeurope", "northeurope")), version("1.2.0")],
        pin="1.2.0",
        keep=2,
    )
    code, out, err = apply(capsys, "--desired", str(d), "-o", "json")
    assert code == 0, out + err
    recap = json.loads(out)["recap"]
    assert recap["succeeded"] and recap["totals"]["changed"] >= 3
    v110 = f"{DEF_ID}/versions/1.1.0".lower()
    assert recap["replication"][v110] == {"northeurope": "Completed", "westeurope": "Completed"}
    versions = clients.compute.gallery_image_versions
    assert not versions.get("rg-img", "gal1", "win11", "1.0.0").publishing_profile.exclude_from_latest
    # Retention is level-triggered: once 1.2.0 is published, the next apply retires 1.0.0.
    code, out, err = apply(capsys, "--desired", str(d))
    assert code == 0, out + err
    old = versions.get("rg-img", "gal1", "win11", "1.0.0")
    assert old.publishing_profile.exclude_from_latest is True
    assert old.publishing_profile.end_of_life_date is not None
    regions = {
        r.name.replace(" ", "").lower()
        for r in versions.get("rg-img", "gal1", "win11", "1.1.0").publishing_profile.target_regions
    }
    assert regions == {"westeurope", "northeurope"}
    assert clients.avd.host_pools.get("rg-img", "pool-a").tags[PIN_TAG].endswith("/versions/1.2.0")
    # End of life has passed (0 days after being superseded): the next apply deletes 1.0.0.
    code, out, err = apply(capsys, "--desired", str(d))
    assert code == 0, out + err
    names = {v.name for v in versions.list_by_gallery_image("rg-img", "gal1", "win11")}
    assert names == {"1.1.0", "1.2.0"}
    assert plan_exit(capsys, d) == 0
    assert GALLERY_ID and POOL_ID


def test_a_built_version_is_made_exactly_as_declared(env, tmp_path, capsys, clients):
    """Image Builder creates the version with the declared storage type (immutable once made), and apply's
    post-build PATCH sets what a template cannot carry (a per-region excludeFromLatest): plan is then empty."""
    built = version("1.1.0", build=True).replace(
        "targetRegions: [{name: westeurope}]",
        "targetRegions: [{name: westeurope}, {name: northeurope, excludeFromLatest: true}]\n"
        "  storageAccountType: Standard_ZRS",
    )
    desired = write_desired(tmp_path / "d", [version("1.0.0"), built], pin="1.0.0")
    code, out, err = apply(capsys, "--desired", str(desired))
    assert code == 0, out + err
    assert plan_exit(capsys, desired) == 0
    profile = clients.compute.gallery_image_versions.get(
        "rg-img", "gal1", "win11", "1.1.0"
    ).publishing_profile
    assert profile.storage_account_type == "Standard_ZRS"
    regions = {r.name: (r.storage_account_type, bool(r.exclude_from_latest)) for r in profile.target_regions}
    assert regions == {"westeurope": ("Standard_ZRS", False), "northeurope": ("Standard_ZRS", True)}
