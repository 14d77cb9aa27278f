"""A good build is never thrown away for a failed PATCH after it: Image Builder made the version, apply's PATCH
of its own fields (tags, safety profile, end of life) failed and left it `Failed`, and the next pass repairs it
by sending that PATCH again (Azure's advice for a resource a failed update left Failed) instead of deleting it
as half-made. Nothing pins to it while it is Failed.

The production entry point (`reconcile apply --wait none`, pass after pass on the frozen sandbox clock) with one
injected failed operation (fault kind "lro": the PATCH is accepted, its operation ends Failed and the version
shows provisioningState Failed, as ARM does)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime

import pytest
from support.cli import apply_json
from support.image_estate import DEF_ID, POOL_ID, RG
from support.image_estate import version as image_version
from support.image_estate import write_desired as write_images
from support.sandbox import sandbox_environ, time_scale

from reconciler.cli import main
from reconciler.model.tags import PIN_TAG

VERSION_ID = f"{DEF_ID}/versions/1.1.0"
VERSIONS = [image_version("1.0.0"), image_version("1.1.0", build=True)]
RUNNING_SCALE = 2_000


@pytest.fixture
def images(frozen):
    frozen.seed([{"id": RG, "location": "westeurope"}])
    # Minutes, not Azure's hours: the passes poll every few seconds of the frozen clock.
    frozen.configure(replication_seconds=120.0, build_seconds=300.0)
    return frozen


def _pass(sb, root, state) -> dict:
    with sandbox_environ(sb):
        code, recap, err = apply_json(root, state, "--wait", "none")
    assert code in (0, 1, 2) and (recap or code == 0), err[-3000:]
    return recap or {}


def _advance(sb, recap: dict) -> None:
    waits = [
        datetime.fromisoformat(p["resumes_at"]) for p in recap.get("pending") or [] if p.get("resumes_at")
    ]
    sb.advance(max((min(waits) - sb.now()).total_seconds(), 30.0) if waits else 30.0)


def _settle(sb, root, state, recaps: list[dict], max_passes: int = 80) -> list[dict]:
    """Passes until one ends with nothing pending; every version state seen between passes is recorded."""
    for _ in range(max_passes):
        recap = _pass(sb, root, state)
        recaps.append(recap)
        if not recap.get("pending"):
            return recaps
        _advance(sb, recap)
    raise AssertionError(f"still pending after {max_passes} passes: {recaps[-1].get('pending')}")


def _failures(recaps: list[dict]) -> list[str]:
    return [f["why"] for r in recaps for f in r.get("failures") or ()]


def _entries(sb, method: str, rid: str) -> list[int]:
    return [
        i
        for i, e in enumerate(sb.audit()["entries"])
        if e["method"] == method and e["id"].lower() == rid.lower()
    ]


def _runs(sb) -> list[dict]:
    return [e for e in sb.audit()["entries"] if e["method"] == "POST" and e["id"].lower().endswith("/run")]


def _plan_exit(sb, root) -> int:
    with sandbox_environ(sb), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        return main(["plan", "--desired", str(root), "--detailed-exitcode"])


def _assert_repaired(sb, root, recaps: list[dict], patch_fault: dict) -> None:
    assert patch_fault["hits"] == 1, "the post-build PATCH must have failed once"
    assert not _failures(recaps), _failures(recaps)
    version = sb.get(VERSION_ID)
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert version["tags"].get("owner") == "us", version["tags"]  # apply's PATCH set them, not Image Builder
    assert len(_runs(sb)) == 1, "the template ran exactly once"
    assert _entries(sb, "DELETE", VERSION_ID) == [], "the built version was deleted"
    assert _entries(sb, "PUT", VERSION_ID) == [], "a built version is never PUT"
    patches = _entries(sb, "PATCH", VERSION_ID)
    assert len(patches) >= 2, patches  # the failed one, then the repair
    pins = _entries(sb, "PATCH", POOL_ID)
    assert pins and min(pins) > max(patches), "the pool was pinned to the version while it was Failed"
    assert sb.get(POOL_ID)["tags"][PIN_TAG].lower() == VERSION_ID.lower()
    assert _plan_exit(sb, root) == 0


def _fail_post_build_patch(sb) -> dict:
    return sb.inject_fault(
        method="PATCH", path="versions/1.1.0$", kind="lro", code="InternalExecutionError", count=1
    )


def test_failed_patch_after_a_build_is_sent_again_within_the_apply(sb, tmp_path):
    """One apply that waits (`--wait forever`, the sandbox clock running): the build action itself sees its
    PATCH fail and the version Failed, and sends the PATCH again instead of deleting the version."""
    sb.seed([{"id": RG, "location": "westeurope"}])
    sb.configure(replication_seconds=120.0, build_seconds=300.0)
    root = write_images(tmp_path / "d", VERSIONS, pin="1.1.0")
    fault = _fail_post_build_patch(sb)
    # 2 000x, not the session's 100 000x: a loaded machine's stall must not outrun the tokens' lifetimes.
    with time_scale(sb, RUNNING_SCALE), sandbox_environ(sb):
        code, recap, err = apply_json(root, tmp_path / "state", "--wait", "forever")
    assert code == 0 and recap["outcome"] == "succeeded", (err[-2000:], recap.get("failures"))
    _assert_repaired(sb, root, [recap], fault)


def test_apply_stopped_after_the_failed_patch_repairs_it_next_time(images, tmp_path):
    """Applies that stop after every step (`--wait none`, the frozen clock moved between them): the PATCH
    fails while no apply runs, so the next one finds a Failed version, its template still there; it repairs
    the version (a REPAIR update) and removes the template, and only then pins the pool."""
    sb = images
    root = write_images(tmp_path / "d", VERSIONS, pin="1.1.0")
    fault = _fail_post_build_patch(sb)
    recaps = []
    for _ in range(80):
        recaps.append(_pass(sb, root, tmp_path / "state"))
        _advance(sb, recaps[-1])
        if fault["hits"]:
            break
    else:
        raise AssertionError("the post-build PATCH was never sent")
    sb.advance(600)  # no apply runs while the PATCH's operation ends Failed
    assert sb.get(VERSION_ID)["properties"]["provisioningState"] == "Failed"
    templates = {
        e["id"]
        for e in sb.audit()["entries"]
        if e["method"] == "PUT" and "/imagetemplates/" in e["id"].lower()
    }
    assert [t for t in templates if sb.get(t) is not None], "the apply stopped before the template delete"
    _settle(sb, root, tmp_path / "state", recaps)
    _assert_repaired(sb, root, recaps, fault)
