"""A host pool's type is fixed at creation: Azure refuses a PUT or PATCH that changes `hostPoolType` (400, AVD's
validation shape; tests/fixtures/refusals.json "HostPoolTypeImmutable"). Through `reconcile apply` a type change
on an empty pool is a replacement (delete, then create), never a write the service refuses; on a pool that has
session hosts it is refused at plan with the reason and the desired file, and nothing at all is sent."""

from __future__ import annotations

import pytest
from support.image_estate import POOL_ID, RG, version, write_desired

from reconciler.cli import main

PERSONAL = "  friendlyName: Pool A\n  hostPoolType: Personal\n"


@pytest.fixture
def env(cli_env):
    sb = cli_env
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


def pool_writes(sb, since: int = 0) -> list[tuple[str, int]]:
    entries = sb.audit()["entries"][since:]
    return [(e["method"], e["status"]) for e in entries if e["id"].lower() == POOL_ID.lower()]


def estate(tmp_path, personal: bool):
    root = write_desired(tmp_path / "d", [version("1.0.0")], pin="1.0.0")
    path = root / "estate.yaml"
    if personal:
        path.write_text(path.read_text().replace("  friendlyName: Pool A\n", PERSONAL))
    return root


def test_changing_an_empty_pools_type_replaces_it_and_sends_nothing_azure_refuses(env, tmp_path, capsys):
    root = estate(tmp_path, personal=False)
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0
    assert env.get(POOL_ID)["properties"]["hostPoolType"] == "Pooled"
    before = len(env.audit()["entries"])
    root = estate(tmp_path, personal=True)
    capsys.readouterr()
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0, capsys.readouterr().err[-2000:]
    writes = pool_writes(env, before)
    assert [m for m, _ in writes if m in ("PUT", "PATCH", "DELETE")][:2] == ["DELETE", "PUT"], writes
    assert all(status < 400 for _, status in writes), writes  # no refused write on the way
    assert env.get(POOL_ID)["properties"]["hostPoolType"] == "Personal"
    # The replacement is created without the pin tag; the next apply sets it (one PATCH of tags).
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0
    assert all(status < 400 for _, status in pool_writes(env, before))
    assert main(["plan", "--desired", str(root), "--detailed-exitcode"]) == 0


def test_changing_the_type_of_a_pool_with_hosts_is_refused_at_plan_and_nothing_is_sent(env, tmp_path, capsys):
    root = estate(tmp_path, personal=False)
    assert main(["apply", "--auto-approve", "--desired", str(root)]) == 0
    host = f"{POOL_ID}/sessionHosts/ha-0.sandbox.local"
    env.seed([{"id": host, "properties": {"status": "Available", "sessions": 0, "allowNewSession": True}}])
    before = len(env.audit()["entries"])
    root = estate(tmp_path, personal=True)
    capsys.readouterr()
    code = main(["apply", "--auto-approve", "--desired", str(root)])
    out, err = capsys.readouterr()
    assert code == 1
    said = out + err
    assert "HostPool pool-a: hostPoolType cannot change in place and it cannot be replaced" in said, said[
        -3000:
    ]
    assert "it has 1 session host(s)" in said and "nothing was applied" in said
    assert f"{root / 'estate.yaml'}:" in said  # where the pool is declared
    assert [
        e for e in env.audit()["entries"][before:] if e["method"] in ("PUT", "PATCH", "DELETE", "POST")
    ] == []
    assert env.get(POOL_ID)["properties"]["hostPoolType"] == "Pooled"
