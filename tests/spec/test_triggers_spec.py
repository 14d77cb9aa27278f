"""ImageBuild.spec.triggers / release and ImageVersion.spec.source.sourceVersion: errors name file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import ERROR_LINE, assemble, run_cli

BUILD = """apiVersion: avd.reconciler.io/v1alpha1
kind: ImageBuild
metadata: {name: build-case}
spec:
  identity: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-base/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib
  source: {platformImage: {publisher: p, offer: o, sku: s, version: SRCVERSION}}
  customize: [{type: PowerShell, name: hello, inline: ["Write-Host hi"]}]
"""
RELEASE = """  release:
    definition: win11
    versioning: VERSIONING
    targetRegions: [{name: westeurope}]
"""


def validate(tmp_path: Path, capsys, text: str) -> list[tuple[int, str, str]]:
    case = tmp_path / "case"
    case.mkdir()
    (case / "case.yaml").write_text(text)
    desired = assemble(case, tmp_path)
    code, out, err = run_cli(["validate", "--desired", str(desired)], capsys)
    found = [ERROR_LINE.match(line) for line in err.splitlines()]
    errors = [
        (int(m["line"]), m["field"], m["message"]) for m in found if m and m["file"].endswith("case.yaml")
    ]
    assert (code == 0) == (not errors), err
    return errors


def build(
    triggers: str = "", release: bool = True, version: str = "latest", versioning: str = "'{yyyy}.{mm}.{n}'"
):
    text = BUILD.replace("SRCVERSION", version) + triggers
    return text + (RELEASE.replace("VERSIONING", versioning) if release else "")


def test_valid_triggers_and_release(tmp_path, capsys):
    triggers = "  triggers:\n    schedule: {cron: '0 4 * * 3#2', timeZone: Europe/Amsterdam}\n    sourceImageUpdate: true\n"
    assert validate(tmp_path, capsys, build(triggers)) == []


@pytest.mark.parametrize(
    ("triggers", "kwargs", "line", "field", "message"),
    [
        (
            "  triggers:\n    schedule: {cron: '0 4 * * 3#9'}\n",
            {},
            9,
            "spec.triggers.schedule.cron",
            "must be 1-5",
        ),
        (
            "  triggers:\n    schedule: {cron: '@patch-tuesday+1d 4am'}\n",
            {},
            9,
            "spec.triggers.schedule.cron",
            "unknown shorthand",
        ),
        (
            "  triggers:\n    schedule: {cron: '@patch-tuesday', timeZone: Mars/Base}\n",
            {},
            9,
            "spec.triggers.schedule.timeZone",
            "unknown time zone",
        ),
        (
            "  triggers: {sourceImageUpdate: true}\n",
            {"release": False},
            4,
            "spec",
            "triggers need spec.release",
        ),
        (
            "  triggers: {sourceImageUpdate: true}\n",
            {"version": "26100.1.1"},
            4,
            "spec",
            "sourceImageUpdate needs a source on version `latest`",
        ),
        ("", {"versioning": "'{major}.{minor}.{patch+1}'"}, 10, "spec.release.versioning", "input should be"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, capsys, triggers, kwargs, line, field, message):
    [(got_line, got_field, got_message)] = validate(tmp_path, capsys, build(triggers, **kwargs))
    assert (got_line, got_field) == (line, field) and message in got_message


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        (
            "definition: win11",
            "definition: win12",
            9,
            "spec.release.definition",
            "unknown ImageDefinition 'win12'",
        ),
        (
            "[{name: westeurope}]",
            "[{name: northeurope}]",
            11,
            "spec.release.targetRegions",
            "must include the gallery's",
        ),
    ],
)
def test_release_template_is_checked_against_the_estate(tmp_path, capsys, old, new, line, field, message):
    [(got_line, got_field, got_message)] = validate(tmp_path, capsys, build().replace(old, new))
    assert (got_line, got_field) == (line, field) and message in got_message


def test_source_version_only_with_build(tmp_path, capsys):
    text = (
        "apiVersion: avd.reconciler.io/v1alpha1\nkind: ImageVersion\nmetadata: {name: 9.0.0}\nspec:\n"
        "  definition: win11\n"
        "  source: {managedImageId: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-base/"
        "providers/Microsoft.Compute/images/img, sourceVersion: 26100.1.1}\n"
        "  targetRegions: [{name: westeurope}]\n"
    )
    [(line, field, message)] = validate(tmp_path, capsys, text)
    assert (line, field) == (6, "spec.source") and "sourceVersion only goes with build" in message
