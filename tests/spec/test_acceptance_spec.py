"""ImageDefinition.spec.acceptance: errors name file, line and field; secrets only as Key Vault references."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.model.acceptance import TEST_NAME
from reconciler.spec.models.acceptance import HEALTH_CHECKS, TEST_NAME_PATTERN, Acceptance

from .test_triggers_spec import validate

DEFINITION = """apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {name: win11-acc}
spec:
  gallery: galbase
  identifier: {publisher: Base, offer: Win11, sku: acc}
  acceptance:
"""
# line 8 onwards: the acceptance block
GOOD = """    hosts: 1
    tests:
      - name: ehr-client-starts
        inline: ["Start-Process ehr.exe", "exit 0"]
        parameters: {EhrPath: 'C:\\Program Files\\Ehr', Retries: 3, ServicePassword: {keyVaultSecret: {vaultName: kv-base, secretName: ehr-svc}}}
        timeout: 5m
      - name: radiology-viewer
        scriptUri: https://example.blob.core.windows.net/tests/Test-Viewer.ps1
        sha256Checksum: 9cc595c6fa399b0a0ca1a98b1feba82739ed2d098766c921cadf4208baef3a7c
        parameters:
          - {name: Viewer, value: PacsView}
          - {name: ApiToken, keyVaultSecret: {vaultName: kv-base, secretName: pacs-token}}
        runAs: {user: svc-test, password: {keyVaultSecret: {vaultName: kv-base, secretName: svc-test}}}
        retries: 2
    agentChecks:
      require: [FSLogixHealthCheck, DomainJoinedCheck]
      minAgentVersion: 1.0.9742.0
"""


def test_valid_acceptance(tmp_path, capsys):
    assert validate(tmp_path, capsys, DEFINITION + GOOD) == []


def test_test_name_rule_matches_the_model():
    assert TEST_NAME.pattern == TEST_NAME_PATTERN


def test_defaults_and_forms():
    spec = Acceptance.model_validate(
        {
            "tests": [
                {"name": "a", "inline": "exit 0", "parameters": [{"name": "X", "value": 1}]},
                {"name": "b", "inline": ["one", "two"]},
            ],
            "agentChecks": {"require": "all"},
        }
    )
    a, b = spec.tests
    assert spec.hosts == 1 and a.timeout.total_seconds() == 600 and a.expect_exit_code == 0 and a.retries == 0
    assert a.run_as is None and a.parameters["X"].value == "1" and b.script == "one\ntwo"
    assert tuple(spec.agent_checks.require) == HEALTH_CHECKS
    assert spec.applies_to("0.0.1")
    later = Acceptance.model_validate({"tests": [{"name": "a", "inline": "x"}], "requiredFrom": "1.6.0"})
    assert not later.applies_to("1.5.9") and later.applies_to("1.6.0") and later.applies_to("1.10.0")


def _one_test(body: str) -> str:
    return DEFINITION + "    tests:\n      - name: t1\n" + body


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            DEFINITION + "    tests:\n      - {name: Bad_Name, inline: x}\n",
            9,
            "spec.acceptance.tests[0].name",
            "should match pattern",
        ),
        (
            DEFINITION + "    tests:\n      - {name: a, inline: x}\n      - {name: a, inline: y}\n",
            8,
            "spec.acceptance.tests",
            "test 'a' is declared more than once",
        ),
        (
            _one_test("        timeout: 5m\n"),
            9,
            "spec.acceptance.tests[0]",
            "exactly one of inline or scriptUri",
        ),
        (
            _one_test("        inline: x\n        timeout: 2h\n"),
            11,
            "spec.acceptance.tests[0].timeout",
            "between 1m and 1h30m",
        ),
        (
            _one_test("        inline: x\n        retries: 4\n"),
            11,
            "spec.acceptance.tests[0].retries",
            "less than or equal to 3",
        ),
        (
            _one_test("        scriptUri: https://x.example/t.ps1\n"),
            9,
            "spec.acceptance.tests[0]",
            "scriptUri needs sha256Checksum",
        ),
        (
            _one_test("        scriptUri: https://x.example/t.ps1\n        sha256Checksum: abc\n"),
            11,
            "spec.acceptance.tests[0].sha256Checksum",
            "should match pattern",
        ),
        (
            _one_test("        inline: x\n        runAs: {user: svc, password: hunter2-literal}\n"),
            11,
            "spec.acceptance.tests[0].runAs.password",
            "a literal secret is not allowed here",
        ),
        (
            DEFINITION + "    agentChecks:\n      require: [FSLogixHealtCheck]\n",
            9,
            "spec.acceptance.agentChecks.require[0]",
            "unknown health check 'FSLogixHealtCheck'; did you mean 'FSLogixHealthCheck'?",
        ),
        (
            DEFINITION + "    agentChecks:\n      minAgentVersion: latest\n",
            9,
            "spec.acceptance.agentChecks.minAgentVersion",
            "should match pattern",
        ),
        (DEFINITION + "    hosts: 1\n", 7, "spec.acceptance", "at least one test or agentChecks"),
        (
            DEFINITION + "    tests: [{name: a, inline: x}]\n    hosts: 0\n",
            9,
            "spec.acceptance.hosts",
            "greater than or equal to 1",
        ),
        (
            DEFINITION + "    tests: [{name: a, inline: x}]\n    requiredFrom: 1.6\n",
            9,
            "spec.acceptance.requiredFrom",
            "write it as 1.6.0",
        ),
    ],
)
def test_errors_name_file_line_field(tmp_path, capsys, text, line, field, message):
    errors = validate(tmp_path, capsys, text)
    assert any(e[0] == line and e[1] == field and message in e[2] for e in errors), errors


def test_secret_looking_literal_parameter_is_refused_without_echo(tmp_path, capsys):
    text = _one_test("        inline: x\n        parameters: {DbPassword: s3cr3t-Value!}\n")
    errors = validate(tmp_path, capsys, text)
    assert [(e[0], e[1]) for e in errors] == [(11, "spec.acceptance.tests[0].parameters")], errors
    assert "looks like a secret" in errors[0][2] and "Key Vault" in errors[0][2]
    assert "s3cr3t" not in capsys.readouterr().err + str(errors)


def test_schema_carries_acceptance():
    from reconciler.spec.schema import schema

    text = str(schema())
    assert "agentChecks" in text and "FSLogixHealthCheck" in text and "expectExitCode" in text
    assert re.search(r"requiredFrom", text)


def test_shipped_clinical_definition_declares_acceptance():
    from reconciler.spec import load_desired

    desired = load_desired(str(Path(__file__).parents[2] / "desired"))
    clinical = desired.image_definition("win11-24h2-m365-clinical")
    names = [t.name for t in clinical.spec.acceptance.tests]
    assert {
        "ehr-client-starts",
        "radiology-viewer-present",
        "printer-queue-exists",
        "edr-agent-running",
    } <= set(names)
    assert "FSLogixHealthCheck" in clinical.spec.acceptance.agent_checks.require


SUBNET = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-test/subnets/snet-accept"


def test_where_test_vm_reads_alongside_pool_default(tmp_path, capsys):
    text = (
        DEFINITION
        + f"    tests: [{{name: a, inline: x}}]\n    where:\n      testVm: {{subnetId: {SUBNET}, vmSize: Standard_D4s_v5}}\n"
    )
    assert validate(tmp_path, capsys, text) == []
    spec = Acceptance.model_validate(
        {"tests": [{"name": "a", "inline": "x"}], "where": {"testVm": {"subnetId": SUBNET}}}
    )
    assert spec.test_vm.subnet_id == SUBNET and spec.test_vm.vm_size is None
    pool = Acceptance.model_validate({"tests": [{"name": "a", "inline": "x"}], "where": "pool", "hosts": 2})
    assert pool.test_vm is None and pool.hosts == 2


@pytest.mark.parametrize(
    ("block", "line", "field", "message"),
    [
        ("    where: testVm\n", 9, "spec.acceptance.where", "testVm needs a subnet"),
        ("    where: pol\n", 9, "spec.acceptance.where", "expected pool or {testVm"),
        (
            "    where: {testVm: {vmSize: Standard_D4s_v5}}\n",
            9,
            "spec.acceptance.where.testVm.subnetId",
            "required",
        ),
        (
            "    where: {testVm: {subnetId: /subscriptions/x/resourceGroups/r}}\n",
            9,
            "spec.acceptance.where.testVm.subnetId",
            "subnet",
        ),
        (
            f"    where: {{testVm: {{subnetId: {SUBNET}, vmSize: D4s}}}}\n",
            9,
            "spec.acceptance.where.testVm.vmSize",
            "should match pattern",
        ),
        (
            f"    where: {{testVm: {{subnetId: {SUBNET}, size: Standard_D4s_v5}}}}\n",
            9,
            "spec.acceptance.where.testVm.size",
            "",
        ),
        (
            f"    hosts: 2\n    where: {{testVm: {{subnetId: {SUBNET}}}}}\n",
            7,
            "spec.acceptance",
            "hosts counts validation pool hosts",
        ),
        (
            f"    agentChecks: {{require: [FSLogixHealthCheck]}}\n    where: {{testVm: {{subnetId: {SUBNET}}}}}\n",
            7,
            "spec.acceptance",
            "a test VM joins no host pool",
        ),
    ],
)
def test_where_errors_name_file_line_field(tmp_path, capsys, block, line, field, message):
    errors = validate(tmp_path, capsys, DEFINITION + "    tests: [{name: a, inline: x}]\n" + block)
    assert any(e[0] == line and e[1] == field and message in e[2] for e in errors), errors


def test_schema_carries_where():
    from reconciler.spec.schema import schema

    assert "testVm" in str(schema())
