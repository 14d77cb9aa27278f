"""What the errors say: versions written as YAML numbers, did-you-mean for unknown references, and secret-bearing
fields that never print the value that failed (someone may have pasted the password itself)."""

from __future__ import annotations

import json

import pytest

from reconciler.spec import DesiredStateError, load_desired

from .helpers import BASE, INVALID, assemble, run_cli

POOL = """
apiVersion: avd.reconciler.io/v1alpha1
kind: HostPool
metadata: {{name: hp-case}}
spec:
  image: {{definition: {definition}, version: {version}}}
  sessionHosts:
    count: 2
    vmSize: Standard_D4s_v5
    namePrefix: avdcase
    subnetId: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/avd
    localAdmin: {{password: {{keyVaultSecret: {{vaultName: {vault}, secretName: {secret}}}}}}}
    join: {{type: entra}}
  rollout: {{gate: {{after: {after}}}}}
"""


def errors_of(tmp_path, text: str) -> list[str]:
    root = tmp_path / "desired"
    root.mkdir(exist_ok=True)
    (root / "base.yaml").write_text(BASE.joinpath("base.yaml").read_text())
    (root / "case.yaml").write_text(text)
    with pytest.raises(DesiredStateError) as caught:
        load_desired(root)
    return [str(e).split(": ", 1)[1] for e in caught.value.errors]


def pool(**kw) -> str:
    values = {"definition": "win11", "version": "latest", "vault": "kv-base", "secret": "local-admin"}
    return POOL.format(**{**values, "after": "hp-base", **kw})


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1.5", "expected Major.Minor.Patch, write it as 1.5.0 (YAML read 1.5 as a number)"),
        # The float is 1.1; the hint comes from the file's own text.
        ("1.10", "expected Major.Minor.Patch, write it as 1.10.0 (YAML read 1.10 as a number)"),
        ("2", "expected Major.Minor.Patch, write it as 2.0.0 (YAML read 2 as a number)"),
        ('"1.3"', "invalid image version '1.3': expected Major.Minor.Patch, write it as 1.3.0"),
    ],
)
def test_a_version_that_is_not_three_parts_says_how_to_write_it(tmp_path, written, expected):
    assert errors_of(tmp_path, pool(version=written)) == [f"spec.image.version: {expected}"]


def test_the_version_error_names_file_and_line(tmp_path, capsys, monkeypatch):
    desired = assemble(INVALID / "version-name-yaml-float", tmp_path)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["validate", "--desired", "desired"], capsys)
    assert code == 1 and desired.exists()
    assert err.splitlines()[0] == (
        "desired/case.yaml:3:18: metadata.name: expected Major.Minor.Patch, write it as 1.5.0 "
        "(YAML read 1.5 as a number)"
    )


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"definition": "win1"}, "spec.image.definition: unknown ImageDefinition 'win1'; did you mean 'win11'?"),
        ({"definition": "galbase/win12"}, "spec.image.definition: unknown ImageDefinition 'galbase/win12'; "
                                          "did you mean 'galbase/win11'?"),
        ({"after": "hp-bsae"}, "spec.rollout.gate.after: unknown HostPool 'hp-bsae'; did you mean 'hp-base'?"),
        ({"after": "zzz-nothing-alike"}, "spec.rollout.gate.after: unknown HostPool 'zzz-nothing-alike'"),
    ],
)  # fmt: skip
def test_unknown_references_suggest_the_closest_name(tmp_path, kw, expected):
    assert errors_of(tmp_path, pool(**kw)) == [expected]


def test_unknown_gallery_build_and_build_source_suggest_too(tmp_path):
    text = """
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {name: def2}
spec: {gallery: galbsae, identifier: {publisher: a, offer: b, sku: c}}
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {name: 3.0.0}
spec: {definition: win11, source: {build: build-bsae}, targetRegions: [{name: westeurope}]}
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageBuild
metadata: {name: from-gallery}
spec:
  identity: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-base/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-aib
  source: {imageVersion: {definition: win-11, version: 1.2.1}}
  customize: [{type: PowerShell, name: hello, inline: ["Write-Host hello"]}]
"""
    assert sorted(errors_of(tmp_path, text)) == [
        "spec.gallery: unknown Gallery 'galbsae'; did you mean 'galbase'?",
        "spec.source.build: unknown ImageBuild 'build-bsae'; did you mean 'build-base'?",
        "spec.source.imageVersion.definition: unknown ImageDefinition 'win-11'; did you mean 'win11'?",
    ]


SECRET = "Tr0ub4dor&3!xyz"


@pytest.mark.parametrize("field", ["secret", "vault"])
def test_a_secret_pasted_into_a_key_vault_reference_is_never_echoed(tmp_path, field):
    [error] = errors_of(tmp_path, pool(**{field: f'"{SECRET}"'}))
    assert SECRET not in error
    name = "secretName" if field == "secret" else "vaultName"
    assert error.startswith(f"spec.sessionHosts.localAdmin.password.keyVaultSecret.{name}: invalid Key Vault")
    assert "value not shown" in error


@pytest.mark.parametrize(
    "argv", [["validate"], ["validate", "-o", "json"], ["plan"], ["apply", "--auto-approve"]]
)
def test_no_command_prints_a_pasted_secret(tmp_path, capsys, monkeypatch, argv):
    desired = assemble(INVALID / "password-pasted-into-secret-name", tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli([*argv, "--desired", str(desired)], capsys)
    assert code == 1
    text = out + err
    assert "keyVaultSecret.secretName" in text and "invalid Key Vault secret name (value not shown" in text
    assert "keyVaultSecret.vaultName" in text and "invalid Key Vault name (value not shown" in text
    for secret in (SECRET, "P@ss w0rd!", "Tr0ub4dor"):
        assert secret not in out + err


def test_a_literal_password_is_refused_without_echo(tmp_path):
    text = pool().replace(
        "{password: {keyVaultSecret: {vaultName: kv-base, secretName: local-admin}}}",
        f'{{password: "{SECRET}"}}',
    )
    [error] = errors_of(tmp_path, text)
    assert error.startswith("spec.sessionHosts.localAdmin.password: a literal secret is not allowed here")
    assert SECRET not in error


def test_a_number_where_text_is_expected_says_to_quote_it(tmp_path):
    text = pool().replace("vmSize: Standard_D4s_v5", "vmSize: 4")
    assert errors_of(tmp_path, text) == [
        'spec.sessionHosts.vmSize: expected text, but YAML read 4 as a number; quote it: "4"'
    ]


def test_a_number_in_a_secret_field_is_not_echoed_either(tmp_path):
    [error] = errors_of(tmp_path, pool(secret="98127364"))
    assert error.endswith("secretName: expected text, but YAML read a number (value not shown); quote it")
    assert "98127364" not in error


def test_validate_json_lists_every_error_with_its_position(tmp_path, capsys, monkeypatch):
    desired = assemble(INVALID / "version-name-yaml-float", tmp_path)
    code, out, err = run_cli(["validate", "--desired", str(desired), "-o", "json"], capsys)
    assert (code, err) == (1, "")
    [error] = json.loads(out)["errors"]
    assert error == {
        "file": f"{desired}/case.yaml",
        "line": 3,
        "col": 18,
        "field": "metadata.name",
        "message": "expected Major.Minor.Patch, write it as 1.5.0 (YAML read 1.5 as a number)",
    }


def test_an_unknown_kind_suggests_the_closest(tmp_path):
    text = "apiVersion: avd.reconciler.io/v1alpha1\nkind: Galery\nmetadata: {name: g2}\n"
    [error] = errors_of(tmp_path, text)
    assert error.startswith("kind: unknown kind 'Galery' (did you mean 'Gallery'?); expected one of Settings")
