"""Failed operations are repaired, never waited on forever: a failed VM delete is sent again, a failed VM
create is cleaned up and built again within the failure budget, a version a failed PATCH left `Failed` is
repaired before a pool is pinned to it, and a build still running when an apply died is waited for.

Each scenario runs the production entry point (`reconcile apply`, support.cli.drive) against the sandbox with
one injected failed operation (fault kind "lro": the request is accepted, the operation ends Failed and the
resource shows provisioningState Failed, as ARM does)."""

from __future__ import annotations

from datetime import datetime

import pytest
from support.cli import apply_json, drive
from support.estate import seed_estate
from support.image_estate import DEF_ID, POOL_ID, RG
from support.image_estate import version as image_version
from support.image_estate import write_desired as write_images
from support.rollout import pool_doc, pool_id, versions_running, vms_of, write_desired
from support.sandbox import sandbox_environ

from reconciler.model.tags import PIN_TAG
from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"]}


def _vm_writes(sb, method: str) -> list[dict]:
    return [
        e
        for e in sb.audit()["entries"]
        if e["method"] == method
        and "/virtualmachines/" in e["id"].lower()
        and "/extensions/" not in e["id"].lower()
    ]


def _rolled_pool(sb, root, name: str, count: int) -> None:
    seed_estate(sb, load_desired(root))
    drive(sb, root)
    assert versions_running(sb, name) == {"1.0.0": count}


def test_failed_vm_delete_is_sent_again_and_the_pool_converges(frozen, tmp_path):
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-d", count=2)])
    _rolled_pool(frozen, root, "hp-d", 2)
    old = {v["name"].lower() for v in vms_of(frozen, "hp-d")}
    first = sorted(old)[0]
    frozen.inject_fault(
        method="DELETE", path=f"virtualMachines/{first}$", kind="lro", code="InternalExecutionError", count=1
    )
    write_desired(root, VERSIONS, [pool_doc("hp-d", count=2, version="2.0.0")])
    passes, last = drive(frozen, root, max_hosts={pool_id("hp-d"): 3}, max_cycles=120)
    assert last.pool("hp-d").done
    assert versions_running(frozen, "hp-d") == {"2.0.0": 2}
    deletes = [e for e in _vm_writes(frozen, "DELETE") if e["id"].lower().endswith("/" + first)]
    assert len(deletes) == 2, deletes  # the failed one, then the one sent again
    assert all(e["status"] == 202 for e in deletes)


def test_failed_vm_create_is_cleaned_and_built_again(frozen, tmp_path):
    rollout = {"failureBudget": 2}
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-c", count=2, rollout=rollout)])
    _rolled_pool(frozen, root, "hp-c", 2)
    before = len(_vm_writes(frozen, "PUT"))
    frozen.inject_fault(
        method="PUT", path="virtualMachines/hpc-[0-9]+$", kind="lro", code="AllocationFailed", count=1
    )
    write_desired(root, VERSIONS, [pool_doc("hp-c", count=2, version="2.0.0", rollout=rollout)])
    _, last = drive(frozen, root, max_hosts={pool_id("hp-c"): 3}, max_cycles=120)
    assert last.pool("hp-c").done
    assert versions_running(frozen, "hp-c") == {"2.0.0": 2}
    assert len(vms_of(frozen, "hp-c")) == 2
    creates = _vm_writes(frozen, "PUT")[before:]
    assert len(creates) == 2 + 1  # two replacements and the one built again after the failed create


# --- versions and builds: the image estate of the apply tests (one gallery, one definition, pool-a of 0 hosts)


def _apply_until_settled(sb, root, state, max_passes: int = 80) -> list[dict]:
    """`reconcile apply --wait none` pass after pass, the frozen clock moved to the earliest wait between
    them (at least 30 s), until a pass ends with nothing pending; returns every pass's recap."""
    recaps = []
    for _ in range(max_passes):
        with sandbox_environ(sb):
            code, recap, err = apply_json(root, state, "--wait", "none")
        assert code in (0, 1, 2) and (recap or code == 0), err[-3000:]
        recaps.append(recap)
        pending = (recap or {}).get("pending") or []
        if not pending:
            return recaps
        waits = [datetime.fromisoformat(p["resumes_at"]) for p in pending if p.get("resumes_at")]
        # At least 30 s: each pass is a new apply, whose polls start again at the 5 s floor.
        sb.advance(max((min(waits) - sb.now()).total_seconds(), 30.0) if waits else 30.0)
    raise AssertionError(f"still pending after {max_passes} passes: {recaps[-1].get('pending')}")


def _failures(recaps: list[dict]) -> list[str]:
    return [f["why"] for r in recaps for f in (r or {}).get("failures") or ()]


def _writes(sb, method: str, rid: str) -> list[int]:
    """Positions in the audit of the writes `method` to `rid` (exactly that id, case-insensitive)."""
    return [
        i
        for i, e in enumerate(sb.audit()["entries"])
        if e["method"] == method and e["id"].lower() == rid.lower()
    ]


@pytest.fixture
def images(frozen):
    frozen.seed([{"id": RG, "location": "westeurope"}])
    # Minutes, not Azure's half hour: the passes poll every few seconds of the frozen clock.
    frozen.configure(replication_seconds=120.0, build_seconds=300.0)
    return frozen


def test_version_left_failed_by_a_patch_is_repaired_before_a_pool_pins_it(images, clients, tmp_path):
    sb = images
    root = write_images(tmp_path / "d", [image_version("1.0.0"), image_version("1.1.0")], pin="1.0.0")
    state = tmp_path / "state"
    assert not _failures(_apply_until_settled(sb, root, state))
    version_id = f"{DEF_ID}/versions/1.1.0"
    # Someone's (or an earlier apply's) PATCH of the version fails: Azure leaves it Failed.
    sb.inject_fault(
        method="PATCH", path="versions/1.1.0$", kind="lro", code="InternalExecutionError", count=1
    )
    current = clients.compute.gallery_image_versions.get("rg-img", "gal1", "win11", "1.1.0")
    clients.compute.gallery_image_versions.begin_update(
        "rg-img", "gal1", "win11", "1.1.0", {"tags": current.tags}, polling=False
    )
    sb.advance(600)
    assert sb.get(version_id)["properties"]["provisioningState"] == "Failed"
    before = len(sb.audit()["entries"])
    write_images(root, [image_version("1.0.0"), image_version("1.1.0")], pin="1.1.0")
    recaps = _apply_until_settled(sb, root, state)
    assert not _failures(recaps)
    repairs = [i for i in _writes(sb, "PATCH", version_id) if i >= before]
    pins = [i for i in _writes(sb, "PATCH", POOL_ID) if i >= before]
    assert repairs and pins, (repairs, pins)
    assert max(repairs) < min(pins), "the pool was pinned before its version was repaired"
    assert sb.get(version_id)["properties"]["provisioningState"] == "Succeeded"
    assert sb.get(POOL_ID)["tags"][PIN_TAG].lower() == version_id.lower()


def test_build_still_running_after_a_crash_is_waited_for_then_pinned(images, tmp_path):
    sb = images
    versions = [image_version("1.0.0"), image_version("1.1.0", build=True)]
    root = write_images(tmp_path / "d", versions, pin="1.1.0")
    dead = tmp_path / "state-of-the-apply-that-died"
    # The first apply gets as far as starting the Image Builder run, then is gone (its ledger with it).
    for _ in range(20):
        with sandbox_environ(sb):
            apply_json(root, dead, "--wait", "none")
        if [e for e in sb.audit()["entries"] if e["method"] == "POST" and e["id"].lower().endswith("/run")]:
            break
        sb.advance(60)
    else:
        raise AssertionError("the build never started")
    version_id = f"{DEF_ID}/versions/1.1.0"
    assert sb.get(version_id) is None  # still building
    recaps = _apply_until_settled(sb, root, tmp_path / "fresh-state")
    assert not _failures(recaps), _failures(recaps)  # never "the version is absent"
    pending = [p["why"] for p in recaps[0]["pending"]]
    assert any("building" in why for why in pending), pending
    runs = [e for e in sb.audit()["entries"] if e["method"] == "POST" and e["id"].lower().endswith("/run")]
    assert len(runs) == 1, "the run in flight was waited for, not started again"
    assert sb.get(version_id)["properties"]["provisioningState"] == "Succeeded"
    pins = _writes(sb, "PATCH", POOL_ID)
    made = min(
        i for i, e in enumerate(sb.audit()["entries"]) if e["id"].lower().startswith(version_id.lower())
    )
    assert pins and min(pins) > made
    assert sb.get(POOL_ID)["tags"][PIN_TAG].lower() == version_id.lower()
