"""The shipped desired/ estate validates, and the JSON Schema agrees with the loader."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from .helpers import REPO, SHIPPED, run_cli


def _documents():
    for file in sorted(SHIPPED.rglob("*.yaml")):
        for doc in yaml.safe_load_all(file.read_text()):
            if doc is not None:
                # YAML dates become strings, as an editor's YAML→JSON conversion would leave them
                yield file.relative_to(REPO).as_posix(), json.loads(json.dumps(doc, default=str))


@pytest.fixture(scope="module")
def validator():
    from reconciler.spec import schema

    body = schema()
    jsonschema.Draft202012Validator.check_schema(body)
    return jsonschema.Draft202012Validator(body)


def test_validate_shipped_desired_exits_zero(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code, out, err = run_cli(["validate"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(
        "desired state OK: 5 file(s): 1 Settings, 2 Gallery, 2 ImageDefinition, 5 ImageVersion"
    )


def test_validate_as_a_process_reports_and_exits_one(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "apiVersion: avd.reconciler.io/v1alpha1\nkind: Gallery\nmetadata: {name: a-b}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--desired", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{tmp_path}/x.yaml:3:18: metadata.name: invalid gallery name 'a-b'")
    assert proc.stderr.rstrip().endswith("1 error in desired state " + str(tmp_path))
    assert "Traceback" not in proc.stderr + proc.stdout


def test_schema_command_prints_draft_2020_12(capsys):
    code, out, _ = run_cli(["schema"], capsys)
    body = json.loads(out)
    assert code == 0
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(body["discriminator"]["mapping"]) == {
        "Settings",
        "Gallery",
        "ImageDefinition",
        "ImageVersion",
        "ImageBuild",
        "HostPool",
    }
    rollout = body["$defs"]["Rollout"]["properties"]
    assert rollout["capacityFloor"]["default"] == 80 and rollout["drainGrace"]["default"] == "1h"


def test_schema_output_file(tmp_path, capsys):
    target = tmp_path / "schema.json"
    code, _, _ = run_cli(["schema", "-o", str(target)], capsys)
    assert code == 0 and json.loads(target.read_text())["$id"].endswith("desired-state.json")


def test_schema_accepts_every_shipped_document(validator):
    docs = list(_documents())
    assert len(docs) == 17
    for where, doc in docs:
        problems = [e.message for e in validator.iter_errors(doc)]
        assert problems == [], (where, doc["kind"], problems)


@pytest.mark.parametrize(
    "bad",
    [
        {
            "apiVersion": "avd.reconciler.io/v1alpha1",
            "kind": "Gallery",
            "metadata": {"name": "g"},
            "extra": 1,
        },
        {"apiVersion": "avd.reconciler.io/v1alpha1", "kind": "Nope", "metadata": {"name": "g"}},
        {"apiVersion": "v2", "kind": "Gallery", "metadata": {"name": "g"}},
        {"apiVersion": "avd.reconciler.io/v1alpha1", "kind": "Gallery", "metadata": {"name": "bad-name"}},
        {
            "apiVersion": "avd.reconciler.io/v1alpha1",
            "kind": "ImageDefinition",
            "metadata": {"name": "d"},
            "spec": {
                "gallery": "g",
                "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
                "osType": "BeOS",
            },
        },
    ],
)
def test_schema_rejects_bad_documents(validator, bad):
    assert list(validator.iter_errors(bad))
