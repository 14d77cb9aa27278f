"""The acceptance estate: the rollout estate's definition with a suite declared on it, a validation pool
(hp-val, which hp-prod's ring gate names) and a production pool gated on it with a soak; and what the sandbox
audit says the suite did (run command PUTs per test).

Versions 1.0.0 and 2.0.0/3.0.0: the suite applies from 2.0.0 (`requiredFrom`), so the pools are provisioned on
1.0.0 without it and a test moves the pin to the version it proves.
"""

from __future__ import annotations

from pathlib import Path

from support.rollout import BASE, SUB, pool_doc, write_desired

VERSIONS = {"1.0.0": ["westeurope"], "2.0.0": ["westeurope"], "3.0.0": ["westeurope"]}
RING = {"batchSize": 1, "capacityFloor": 50, "drainGrace": "0s", "healthTimeout": "24h"}
TESTS = ("ehr-client-starts", "radiology-viewer-present", "edr-agent-running")

SUITE = """\
  acceptance:
    hosts: 1
    requiredFrom: 2.0.0
    agentChecks:
      require: [DomainJoinedCheck, FSLogixHealthCheck, SxSStackListenerCheck]
    tests:
      - name: ehr-client-starts
        timeout: 5m
        parameters: {ExePath: 'C:\\\\EHR\\\\EhrClient.exe'}
        inline: ["param([string]$ExePath)", "& $ExePath /healthcheck; exit $LASTEXITCODE"]
      - name: radiology-viewer-present
        timeout: 2m
        inline: ["if (-not (Test-Path 'C:\\\\PACS\\\\Viewer.exe')) { exit 1 }"]
      - name: edr-agent-running
        timeout: 2m
        inline: ["if ((Get-Service ContosoEdrAgent).Status -ne 'Running') { exit 1 }"]
"""


def pools(version: str, prod_version: str | None = None, soak: str = "6h") -> list[str]:
    gated = {**RING, "gate": {"after": "hp-val", "soak": soak}}
    return [
        pool_doc("hp-val", count=1, version=version, rollout=RING, prefix="val"),
        pool_doc("hp-prod", count=2, version=prod_version or version, rollout=gated, prefix="prod"),
    ]


def write(root: Path, version: str, prod_version: str | None = None, soak: str = "6h") -> Path:
    write_desired(root, VERSIONS, pools(version, prod_version, soak))
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "  features: [{name: SecurityType, value: TrustedLaunchSupported}]\n"
    assert anchor in text and BASE  # the rollout estate's definition, with the suite added under its spec
    path.write_text(text.replace(anchor, anchor + SUITE, 1), encoding="utf-8")
    return root


def version_id(name: str) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/galtest"
        f"/images/win11/versions/{name}"
    )


def run_command_puts(sb) -> dict[str, int]:
    """PUTs of acceptance run commands in the audit, per test name."""
    counts: dict[str, int] = {}
    for e in sb.audit()["entries"]:
        rid = e["id"].lower()
        if e["method"] == "PUT" and "/runcommands/avd-accept-" in rid:
            test = rid.rsplit("/avd-accept-", 1)[-1]
            counts[test] = counts.get(test, 0) + 1
    return counts
