"""An acceptance test's secret parameter, end to end: `reconcile apply` (real CLI in process, real SDK) reads
the Key Vault secret from the sandbox's Key Vault data plane and hands it to the run command as a protected
parameter; the value is never in the apply's output, the history, the version's tags, the run command as ARM
returns it, or the sandbox audit. A secret that cannot be read blocks the suite (no verdict: it says nothing
about the image) and production stays where it was. So does a secret in a vault that does not grant the
reconciler's identity `get`: Key Vault's 403, and the reconciler says which vault, secret and permission."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from support.acceptance import run_command_puts, version_id, write
from support.cli import apply_pass, drive, history
from support.estate import seed_estate
from support.rollout import SUB, versions_running
from support.sandbox import sandbox_environ, stored

from reconciler.cli import main
from reconciler.model.acceptance import AcceptanceState, acceptance_of
from reconciler.spec import load_desired

VALUE = "Qz7-printer-spooler-Secret"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-pools/providers/Microsoft.KeyVault/vaults/kv-test"
# A vault the platform team made without an access policy for the reconciler.
LOCKED = f"/subscriptions/{SUB}/resourceGroups/rg-pools/providers/Microsoft.KeyVault/vaults/kv-locked"
PRINT_TEST = """\
      - name: printer-queue
        timeout: 2m
        parameters:
          Queue: ClinicPrinters
          SpoolerPassword: {keyVaultSecret: {vaultName: VAULT, secretName: SECRET}}
        inline: ["param([string]$Queue, [string]$SpoolerPassword)", "Get-Printer -Name $Queue"]
"""


def estate(sb, tmp_path, secret: str, vault: str = "kv-test"):
    root = write(tmp_path / "d", "1.0.0")
    seed_estate(sb, load_desired(root))
    sb.seed([{"id": LOCKED, "location": "westeurope", "properties": {"accessPolicies": []}}])
    sb.seed([{"id": f"{v}/secrets/printer-spooler", "properties": {"value": VALUE}} for v in (VAULT, LOCKED)])
    drive(sb, root)
    write(root, "2.0.0")
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "      - name: edr-agent-running\n"
    test = PRINT_TEST.replace("VAULT", vault).replace("SECRET", secret)
    path.write_text(text.replace(anchor, test + anchor, 1), encoding="utf-8")
    return root


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def stored_runs(sb) -> list[dict]:
    return stored(sb, "Microsoft.Compute/virtualMachines/runCommands")


def every_trace(sb, root, outputs, runs_ever) -> str:
    """Everything a person or a later process can read: outputs, history, tags, run commands, the audit."""
    stored = runs_ever + stored_runs(sb)
    return "\n".join(
        [
            *outputs,
            json.dumps(history(root.parent / "state")),
            json.dumps((sb.get(version_id("2.0.0")) or {}).get("tags") or {}),
            json.dumps(stored),
            json.dumps(sb.audit()),
        ]
    )


def test_a_secret_parameter_reaches_the_run_command_and_is_never_shown(frozen, tmp_path):
    root = estate(frozen, tmp_path, "printer-spooler")
    outputs: list[str] = []
    runs: list[dict] = []  # the run commands as stored while they exist (the verdict deletes them)

    def watch(_n, result):
        outputs.extend([result.stderr, json.dumps(result.recap)])
        runs.extend(stored_runs(frozen))

    drive(frozen, root, on_cycle=watch)
    assert any("printer-queue" in r["id"] for r in runs)
    verdict = acceptance_of(dict(frozen.get(version_id("2.0.0"))["tags"]))
    assert verdict.state is AcceptanceState.PASSED
    assert run_command_puts(frozen)["printer-queue"] == 1
    assert versions_running(frozen, "hp-prod") == {"2.0.0": 2}
    assert VALUE not in every_trace(frozen, root, outputs, runs)


@pytest.mark.parametrize(
    "vault, secret, reason",
    [
        ("kv-test", "printer-spooler-absent", "(HTTP 404)"),
        (
            "kv-locked",
            "printer-spooler",
            "(HTTP 403 AccessDenied: the reconciler has no secrets 'get' permission in vault kv-locked's "
            "access policies)",
        ),
    ],
    ids=["absent", "no-access"],
)
def test_a_secret_that_cannot_be_read_blocks_the_suite_without_a_verdict(
    frozen, tmp_path, vault, secret, reason
):
    root = estate(frozen, tmp_path, secret, vault)
    outputs: list[str] = []
    for _ in range(12):
        result = apply_pass(frozen, root)
        outputs += [result.stderr, json.dumps(result.recap)]
        frozen.advance(1800)
    verdict = acceptance_of(dict(frozen.get(version_id("2.0.0"))["tags"]))
    assert verdict is None or verdict.state is AcceptanceState.RUNNING
    assert "printer-queue" not in run_command_puts(frozen)
    assert versions_running(frozen, "hp-prod") == {"1.0.0": 2}
    said = "\n".join(outputs)
    assert (
        f"cannot read Key Vault secret https://{vault}.vault.azure.net/secrets/{secret} {reason}" in said
    ), said
    assert VALUE not in every_trace(frozen, root, outputs, [])


def test_a_missing_secret_given_by_vault_id_stops_the_plan_at_its_line_and_apply_writes_nothing(
    frozen, tmp_path
):
    root = estate(frozen, tmp_path, "printer-spooler")
    path = root / "estate.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "{vaultName: kv-test, secretName: printer-spooler}", f"{{vaultId: {VAULT}, secretName: spooler-gone}}"
    )
    path.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "spooler-gone" in t)
    before = len(frozen.audit()["entries"])
    with sandbox_environ(frozen):
        code, out, err = run_cli(["plan", "--desired", str(root)])
        assert code == 1
        said = out + err
        assert f"estate.yaml:{line}" in said and f"{VAULT}/secrets/spooler-gone" in said, said
        assert "acceptance test printer-queue" in said
        code, _, err = run_cli(["apply", "--desired", str(root), "--auto-approve"])
    assert code == 1
    assert len(frozen.audit()["entries"]) == before
