"""The build-failure classifier: each known cause from a customization.log (the sandbox's and a docs-style one),
the failing customizer by position, the exit code, transient vs needs-a-change, and a bounded excerpt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.planner.build_diagnosis import MAX_EXCERPT, SETUPERR, Customizer, customizers_of, diagnose

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "build_logs"
RUNS = json.loads((LOGS / "runs.json").read_text())
STEPS = customizers_of(RUNS["template"])


def run(cause: str):
    return diagnose((LOGS / f"{cause}.log").read_text(), RUNS["messages"][cause]["message"], STEPS)


@pytest.mark.parametrize(
    "fixture, cause, customizer, exit_code, transient",
    [
        ("sysprep-appx", "sysprep-appx", "deprovision (Sysprep)", 1, False),
        ("exit-code", "script-exit-code", "install-apps", 1603, False),
        ("checksum", "checksum-mismatch", "copy-config", None, False),
        ("windows-update-timeout", "windows-update-timeout", "updates", None, False),
        ("restart-timeout", "windows-update-timeout", "reboot", None, False),
        ("build-timeout", "build-timeout", "install-apps", None, False),
        ("quota", "quota", None, None, False),
        ("sku-not-available", "sku-not-available", None, None, False),
        ("allocation-failed", "allocation-failed", None, None, True),
        ("internal-error", "internal-error", None, None, True),
    ],
)
def test_known_causes(fixture, cause, customizer, exit_code, transient):
    d = run(fixture)
    assert (d.cause, d.customizer, d.exit_code, d.transient) == (cause, customizer, exit_code, transient)
    assert d.hint and d.excerpt and len(d.excerpt) <= MAX_EXCERPT
    assert not any(line.startswith("[") and "PACKER" in line for line in d.excerpt), "prefixes are stripped"


def test_sysprep_appx_names_the_package_and_the_fix():
    d = run("sysprep-appx")
    assert d.details["package"] == "Microsoft.Edge.GameAssist_1.0.3336.0_x64__8wekyb3d8bbwe"
    assert "Remove-AppxPackage" in d.hint and "Remove-AppxProvisionedPackage" in d.hint
    assert SETUPERR in d.hint
    assert any("not provisioned for all users" in line for line in d.excerpt)


def test_exit_code_reports_the_allowed_codes_from_the_log():
    d = run("exit-code")
    assert "exited with 1603" in d.summary and "[0, 3010]" in d.summary
    assert "validExitCodes" in d.hint


def test_docs_style_log_without_operation_prefix():
    steps = (Customizer("PowerShell", "fslogix"), Customizer("PowerShell", "language-packs"))
    d = diagnose((LOGS / "docs-style-exit.log").read_text(), "Packer build command has failed", steps)
    assert (d.cause, d.customizer, d.exit_code) == ("script-exit-code", "language-packs", 2)
    assert d.excerpt[0].startswith("[INFO] (telemetry) Starting provisioner powershell")
    assert "Install-Language : The language pack download failed." in "\n".join(d.excerpt)
    assert not any("Builds finished" in line for line in d.excerpt), "Packer's summary repeats the error"


def test_build_timeout_without_a_log_still_has_a_cause_and_says_why_no_log():
    d = diagnose(
        None,
        "Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline exceeded'",
        STEPS,
        log_note="the staging storage account was not found",
    )
    assert d.cause == "build-timeout" and d.excerpt == ()
    assert d.log_note == "the staging storage account was not found"
    assert "log: the staging storage account was not found" in d.lines()


def test_unknown_failure_keeps_the_last_error_lines():
    log = "\n".join(
        ["PACKER OUT ==> azure-arm: Deploying deployment template ..."]
        + [f"PACKER OUT ==> azure-arm: step {i} ok" for i in range(30)]
        + ["PACKER OUT ==> azure-arm: ERROR: something odd happened", "PACKER OUT ==> azure-arm: cleanup"]
    )
    d = diagnose(log, "Packer build command has failed: exit status 1. During the image build…", ())
    assert d.cause == "unknown" and not d.transient
    assert d.excerpt == ("==> azure-arm: ERROR: something odd happened",)
    assert d.summary == "Packer build command has failed: exit status 1"


def test_lines_are_cause_hint_then_excerpt():
    lines = run("exit-code").lines()
    assert lines[0].startswith("cause: script-exit-code in customizer 'install-apps' (exit code 1603)")
    assert lines[1].startswith("hint: ") and lines[2] == "log excerpt:"
