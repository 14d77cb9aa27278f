"""A version whose source image does not exist, through `reconcile apply` (real CLI, real SDK, sandbox): Azure
refuses the version's create (404 ResourceNotFound on the source; tests/fixtures/refusals.json), so apply
reports that version failed, creates nothing half-way and goes on with independent work; once the platform team
has the image back, the next apply creates the version and `reconcile plan --detailed-exitcode` exits 0."""

from __future__ import annotations

import json

import pytest
from support.image_estate import DEF_ID, RG, version, write_desired
from support.image_sources import managed_image, source_image_id

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


def refused_puts(sb, rid: str) -> list[dict]:
    return [
        e
        for e in sb.audit()["entries"]
        if e["method"] == "PUT" and e["id"].lower() == rid.lower() and e["status"] == 404
    ]


def test_a_version_from_a_deleted_image_fails_then_converges_once_the_image_is_back(
    env, tmp_path, capsys, clients
):
    source = source_image_id("1.1.0")
    clients.compute.images.begin_delete("rg-img", source.rsplit("/", 1)[-1]).result()
    d = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0")], pin="1.0.0")
    code, recap, err = apply_json(capsys, d)
    assert code == 1, err[-2000:]
    [failure] = recap["failures"]
    assert failure["kind"] == "image-version" and failure["id"].lower().endswith(
        f"{DEF_ID}/versions/1.1.0".lower()
    )
    assert "ResourceNotFound" in failure["why"] and "src-1-1-0" in failure["why"], failure
    assert refused_puts(env, f"{DEF_ID}/versions/1.1.0"), "the create never met the refusal"
    assert env.get(f"{DEF_ID}/versions/1.1.0") is None  # refused, not half made
    assert env.get(f"{DEF_ID}/versions/1.0.0")["properties"]["provisioningState"] == "Succeeded"

    env.seed([managed_image(source)])  # the platform team restores the golden image
    code, recap, err = apply_json(capsys, d)
    assert code == 0 and not recap.get("failures"), (err[-2000:], recap.get("failures"))
    assert env.get(f"{DEF_ID}/versions/1.1.0")["properties"]["provisioningState"] == "Succeeded"
    assert main(["plan", "--desired", str(d), "--detailed-exitcode"]) == 0


def test_a_build_from_a_version_the_same_apply_creates_waits_for_it_and_converges(env, tmp_path, capsys):
    """Image Builder refuses a template whose source version does not exist (400 BadSharedImageVersionSource),
    so the template must not be sent before the version it is built from."""
    d = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.1.0")
    path = d / "estate.yaml"
    text = path.read_text()
    platform = "source: {platformImage: {publisher: MicrosoftWindowsDesktop, offer: office-365, sku: win11-24h2-avd-m365}}"
    assert platform in text
    path.write_text(text.replace(platform, 'source: {imageVersion: {definition: win11, version: "1.0.0"}}'))
    code, recap, err = apply_json(capsys, d)
    assert code == 0 and not recap.get("failures"), (err[-2000:], recap.get("failures"))
    entries = env.audit()["entries"]
    templates = [
        i for i, e in enumerate(entries) if "/imagetemplates/" in e["id"].lower() and e["method"] == "PUT"
    ]
    assert templates and all(entries[i]["status"] < 400 for i in templates), [entries[i] for i in templates]
    source = f"{DEF_ID}/versions/1.0.0".lower()
    source_puts = [i for i, e in enumerate(entries) if e["method"] == "PUT" and e["id"].lower() == source]
    assert source_puts and min(source_puts) < min(templates), (
        "the template was sent before its source version"
    )
    assert env.get(f"{DEF_ID}/versions/1.1.0")["properties"]["provisioningState"] == "Succeeded"
    assert main(["plan", "--desired", str(d), "--detailed-exitcode"]) == 0
