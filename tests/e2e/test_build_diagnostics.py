"""A failed Image Builder build, explained: for each known cause the sandbox fails the run that way and writes its
customization.log to the staging account (Azurite); `reconcile apply` reads it back through ARM (account,
listKeys) and the Blob SDK and names the customizer, exit code, cause and hint; `reconcile logs build` prints it.
"""

from __future__ import annotations

import json

import pytest
from support.image_estate import RG, version, write_desired

from reconciler.cli import main

STEPS = """  customize:
    - {type: PowerShell, name: install-apps, inline: ["choco install notepadplusplus -y"], validExitCodes: [0, 3010]}
    - type: File
      name: copy-config
      sourceUri: https://stcfg.blob.core.windows.net/cfg/app.json
      sha256Checksum: abababababababababababababababababababababababababababababababab
      destination: C:\\\\app.json
    - {type: WindowsUpdate, name: updates}
    - {type: WindowsRestart, name: reboot, restartTimeout: 10m}
  buildTimeout: 2h
"""


@pytest.fixture
def env(cli_env, module_azurite):
    cli_env.seed([{"id": RG, "location": "westeurope"}])
    cli_env.configure(blob_connection_string=module_azurite.connection_string)
    return cli_env


def desired(tmp_path):
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.0.0")
    estate = root / "estate.yaml"
    text = estate.read_text()
    start = text.index("  customize:\n")
    end = text.index("\n---", start)
    estate.write_text(text[:start] + STEPS.rstrip("\n") + text[end:])
    return root


def apply(capsys, root) -> tuple[int, dict, str]:
    code = main(["apply", "--auto-approve", "--desired", str(root), "-o", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)["recap"] if out.strip().startswith("{") else {}, err


CASES = [
    # fault, cause, the customizer, the exit code, words of the hint
    ({"cause": "sysprep-appx"}, "sysprep-appx", "deprovision (Sysprep)", 1, "Remove-AppxProvisionedPackage"),
    ({"cause": "exit-code", "exit_code": 1603}, "script-exit-code", "install-apps", 1603, "validExitCodes"),
    ({"cause": "checksum"}, "checksum-mismatch", "copy-config", None, "Get-FileHash"),
    ({"cause": "windows-update-timeout"}, "windows-update-timeout", "updates", None, "bigger spec.vmSize"),
    ({"cause": "restart-timeout"}, "windows-update-timeout", "reboot", None, "restartTimeout"),
    ({"cause": "build-timeout"}, "build-timeout", "install-apps", None, "spec.buildTimeout"),
    ({"cause": "quota"}, "quota", None, None, "quota increase"),
    ({"cause": "sku-not-available"}, "sku-not-available", None, None, "another spec.vmSize"),
    ({"cause": "allocation-failed"}, "allocation-failed", None, None, "running the build again"),
    ({"cause": "internal-error"}, "internal-error", None, None, "running the build again"),
]


@pytest.mark.parametrize(
    "fault, cause, customizer, exit_code, hint", CASES, ids=[c[1] + "-" + c[0]["cause"] for c in CASES]
)
def test_failed_build_is_explained_and_its_log_printed(
    env, tmp_path, capsys, fault, cause, customizer, exit_code, hint
):
    root = desired(tmp_path)
    env.inject_fault(kind="build", path=r"imageTemplates/monthly-[0-9a-f]+/run", count=1, **fault)
    code, recap, err = apply(capsys, root)
    assert code == 1, err
    [failure] = recap["failures"]
    why = failure["why"]
    assert failure["kind"] == "image-build"
    step = f" in customizer '{customizer}'" if customizer else ""
    exit_text = f" (exit code {exit_code})" if exit_code is not None else ""
    assert f"cause: {cause}{step}{exit_text}: " in why, why
    assert "hint: " in why and hint in why
    transient = cause in ("allocation-failed", "internal-error")
    assert why.splitlines()[0].endswith("[transient]" if transient else "[needs a change]")
    assert "log excerpt:" in why and "log: " not in why, "the log was read"
    excerpt = why.split("log excerpt:\n", 1)[1].splitlines()
    assert 0 < len(excerpt) <= 20
    # The account key never leaves the reader.
    assert "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" not in why + err

    code = main(["logs", "build", "monthly", "--desired", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.rstrip().endswith("PACKER OUT") and "Builds finished but no artifacts were created." in out
    assert "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" not in out + err


def test_logs_build_by_run_id_and_diagnose(env, tmp_path, capsys):
    root = desired(tmp_path)
    env.inject_fault(
        kind="build", path=r"imageTemplates/monthly-[0-9a-f]+/run", count=1, cause="sysprep-appx"
    )
    assert apply(capsys, root)[0] == 1
    code = main(["logs", "build", "monthly", "--desired", str(root)])
    out, err = capsys.readouterr()
    run_id = err.split(": run ", 1)[1].split(" ", 1)[0]
    assert code == 0 and len(run_id) == 36
    code = main(["logs", "build", "monthly", "--run", run_id, "--diagnose", "--desired", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("cause: sysprep-appx in customizer 'deprovision (Sysprep)'")
    code = main(
        ["logs", "build", "monthly", "--run", "00000000-0000-4000-8000-000000000000", "--desired", str(root)]
    )
    out, err = capsys.readouterr()
    assert (
        code == 1
        and "packerlogs/00000000-0000-4000-8000-000000000000/customization.log does not exist" in err
    )
    code = main(["logs", "build", "monthy", "--desired", str(root)])
    assert code == 1 and "did you mean 'monthly'" in capsys.readouterr().err


def test_without_a_log_the_failure_says_why(cli_env, tmp_path, capsys):
    """No Blob service: the sandbox makes no staging account; apply still reports the failure, with the reason
    the log could not be read."""
    cli_env.seed([{"id": RG, "location": "westeurope"}])
    root = desired(tmp_path)
    cli_env.configure(build_failure_share=1.0)
    code, recap, err = apply(capsys, root)
    assert code == 1
    [failure] = recap["failures"]
    assert "Customizer 'PowerShell' failed" in failure["why"]
    assert "log: the template has no staging resource group" in failure["why"]
