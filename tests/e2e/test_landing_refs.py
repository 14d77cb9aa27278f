"""Resource groups and landing-zone references, end to end (real CLI, real SDK, sandbox):
- a resource group desired state uses but that does not exist is created first, tagged as ours, and apply
  converges; with Settings `resourceGroups: {create: false}` it is a one-line plan error instead;
- a missing subnet, user-assigned identity or Key Vault secret stops the plan (exit 1) with the desired
  file:line and the resource id, and apply writes nothing at all (the sandbox audit has no entry)."""

from __future__ import annotations

import json
import re

import pytest
from support.image_estate import RG, SUB, version, write_desired

from reconciler.cli import main

KV1 = f"{RG}/providers/Microsoft.KeyVault/vaults/kv1"
FRESH = f"/subscriptions/{SUB}/resourceGroups/rg-fresh"


@pytest.fixture
def env(cli_env):
    return cli_env


def estate(tmp_path, edit=None):
    root = write_desired(tmp_path / "d", [version("1.0.0"), version("1.1.0", build=True)], pin="1.1.0")
    path = root / "estate.yaml"
    text = path.read_text()
    if edit:
        text = edit(text)
        path.write_text(text)
    return root, text


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def writes(sb) -> list[dict]:
    return [e for e in sb.audit()["entries"] if e["method"] in ("PUT", "PATCH", "DELETE", "POST")]


def in_fresh_group(text: str) -> str:
    """The pool in a group that does not exist yet (its vault named by id: a bare name means the pool's group)."""
    text = text.replace("  friendlyName: Pool A\n", "  friendlyName: Pool A\n  resourceGroup: rg-fresh\n")
    return text.replace("{vaultName: kv1,", f"{{vaultId: {KV1},")


def test_missing_group_is_created_before_what_is_in_it_then_plan_is_empty(env, tmp_path, capsys):
    root, _ = estate(tmp_path, in_fresh_group)
    assert main(["plan", "--desired", str(root), "-o", "json"]) == 0
    plan = json.loads(capsys.readouterr()[0])
    group_key = f"create {FRESH.lower()}"
    creates = [c for c in plan["changes"] if c["kind"] == "resource-group"]
    assert [(c["action"], c["resource_id"]) for c in creates] == [("create", FRESH)]
    assert creates[0]["after"] == {"location": "westeurope", "tags": {"owner": "us"}}
    pool = next(c for c in plan["changes"] if c["kind"] == "host-pool" and c["action"] == "create")
    assert group_key in pool["depends_on"]
    assert group_key in plan["graph"]["levels"][0] and pool["key"] not in plan["graph"]["levels"][0]
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0, capsys.readouterr()
    capsys.readouterr()
    group = env.get(FRESH)
    assert group["tags"] == {"owner": "us"} and group["location"] == "westeurope"
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0
    assert not [e for e in env.audit()["entries"] if e["status"] >= 400]


def test_group_creation_turned_off_is_a_clear_error_and_nothing_is_written(env, tmp_path, capsys):
    def off(text: str) -> str:
        text = in_fresh_group(text)
        return text.replace(
            "  ownershipTag: {name: owner, value: us}\n",
            "  ownershipTag: {name: owner, value: us}\n  resourceGroups: {create: false}\n",
        )

    root, text = estate(tmp_path, off)
    assert main(["plan", "--desired", str(root)]) == 1
    err = capsys.readouterr()[0]
    line = line_of(text, "resourceGroup: rg-fresh")
    assert f"estate.yaml:{line}: resource group {FRESH} does not exist" in err
    assert "spec.resourceGroups.create is false" in err
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 1
    assert "nothing was applied" in capsys.readouterr()[1]
    assert writes(env) == []


MISSING = {
    "subnet": ("virtualNetworks/v/subnets/s", "virtualNetworks/v/subnets/gone", "subnetId:"),
    "identity": ("userAssignedIdentities/aib", "userAssignedIdentities/nobody", "identity:"),
    "secret": ("secretName: admin", "secretName: gone", "localAdmin:"),
}


@pytest.mark.parametrize("what", sorted(MISSING))
def test_missing_reference_stops_the_plan_with_file_line_and_id(env, tmp_path, capsys, what):
    old, new, field = MISSING[what]
    root, text = estate(tmp_path, lambda t: t.replace(old, new))
    before = len(env.audit()["entries"])
    assert main(["plan", "--desired", str(root)]) == 1
    out = capsys.readouterr()[0]
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, out
    gone = new.split(": ")[-1].rsplit("/", 1)[-1]
    assert re.search(
        rf"estate\.yaml:{line_of(text, field)}: .* /subscriptions/\S+/{gone} does not exist", errors[0]
    )
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 1
    capsys.readouterr()
    assert writes(env) == [] and len(env.audit()["entries"]) == before == 0
