"""A desired version whose name is soft-deleted, through `reconcile apply` (real CLI, real SDK, sandbox): the
gallery keeps deleted versions (softDelete is on by default in the desired state), someone deletes 1.1.0 outside
the reconciler, and the next apply re-declares it. Azure refuses the name until the version is purged or restored
(409, tests/fixtures/soft_delete.md), and no retry fixes that: apply must stop on that version with an error
that names it and says "soft-deleted", exit non-zero, and not send the PUT again and again. Once the operator
purges the name, the next apply converges."""

from __future__ import annotations

import json

import pytest
from support.image_estate import DEF_ID, GALLERY_ID, RG, version, write_desired

from reconciler.cli import main

VERSION_ID = f"{DEF_ID}/versions/1.1.0"


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def apply_json(capsys, desired) -> tuple[int, dict, str]:
    code = main(["apply", "--auto-approve", "--desired", str(desired), "-o", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["recap"] if out.strip().startswith("{") else {}, err


def refused_puts(sb) -> list[dict]:
    return [
        e
        for e in sb.audit()["entries"]
        if e["method"] == "PUT" and e["id"].lower() == VERSION_ID.lower() and e["status"] == 409
    ]


def test_a_soft_deleted_version_name_stops_apply_with_an_actionable_error_then_converges_once_purged(
    env, tmp_path, capsys, clients
):
    d = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0")], pin="1.0.0")
    code, recap, err = apply_json(capsys, d)
    assert code == 0 and not recap.get("failures"), (err[-2000:], recap.get("failures"))
    assert env.get(GALLERY_ID)["properties"]["softDeletePolicy"] == {"isSoftDeleteEnabled": True}

    gallery, definition = GALLERY_ID.rsplit("/", 1)[-1], DEF_ID.rsplit("/", 1)[-1]
    versions = clients.compute.gallery_image_versions
    versions.begin_delete(
        RG.rsplit("/", 1)[-1], gallery, definition, "1.1.0"
    ).result()  # outside the reconciler
    assert env.get(VERSION_ID) is None

    code, recap, err = apply_json(capsys, d)
    assert code != 0, err[-2000:]
    [failure] = recap["failures"]
    assert failure["kind"] == "image-version" and failure["id"].lower().endswith(VERSION_ID.lower()), failure
    assert "soft-deleted" in failure["why"] and "1.1.0" in failure["why"], failure
    assert len(refused_puts(env)) == 1, "a soft-deleted name is terminal: one PUT, no retry loop"
    assert env.get(f"{DEF_ID}/versions/1.0.0")["properties"]["provisioningState"] == "Succeeded"

    versions.begin_delete(  # the operator purges the name, as the error says
        RG.rsplit("/", 1)[-1], gallery, definition, "1.1.0", bypass_soft_delete=True
    ).result()
    code, recap, err = apply_json(capsys, d)
    assert code == 0 and not recap.get("failures"), (err[-2000:], recap.get("failures"))
    assert env.get(VERSION_ID)["properties"]["provisioningState"] == "Succeeded"
    assert main(["plan", "--desired", str(d), "--detailed-exitcode"]) == 0
