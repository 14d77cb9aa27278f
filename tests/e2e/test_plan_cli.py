"""`reconcile plan` end to end: the real CLI, observing the sandbox over HTTPS with the real SDK clients.

Scenarios: empty subscription, a converged estate (exit 0 with --detailed-exitcode, "No changes"), a drifted
estate, a pin change on a pool with users (preview with batches and sessions), and the error paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from planner.docs import RG, SUB, base_docs

from e2e.plan_estate import PoolHosts, converged
from reconciler.cli import main
from reconciler.model.plan import Plan
from reconciler.model.tags import PIN_TAG
from reconciler.spec import load_desired


@pytest.fixture
def env(sb, monkeypatch):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_COLOR", "1")
    # Users stay signed in: at the session sandbox's time scale they would otherwise log off within ms.
    sb.configure(session_mean_seconds=1e12)
    assert SUB in sb.subscription_ids
    sb.seed([{"id": RG, "location": "westeurope"}])
    return sb


@pytest.fixture
def desired_dir(tmp_path: Path) -> Path:
    root = tmp_path / "desired"
    root.mkdir()
    (root / "estate.yaml").write_text("\n---\n".join(base_docs()))
    return root


def run_plan(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def seed_converged(sb, desired_dir: Path, **kwargs) -> list[dict]:
    resources = converged(load_desired(desired_dir), sb.now(), **kwargs)
    sb.seed(resources)
    return resources


def test_empty_subscription_plans_every_create(env, desired_dir, capsys):
    code, out, err = run_plan(capsys, "--desired", str(desired_dir), "--detailed-exitcode")
    assert code == 2, err
    assert "+ gallery gal1" in out and "+ image-definition win11" in out and "@ host-pool pool-a" in out
    # 5 resources plus the pool's session hosts
    assert out.rstrip().splitlines()[-1] == "Plan: 6 to create, 1 to pin."


def test_converged_estate_has_no_changes(env, desired_dir, capsys):
    seed_converged(env, desired_dir, hosts={"pool-a": PoolHosts(4, sessions=[1, 2, 0, 0])})
    code, out, err = run_plan(capsys, "--desired", str(desired_dir), "--detailed-exitcode", "--stats")
    assert code == 0, out + err
    assert out.strip() == "No changes. Azure matches the desired state."
    stats = json.loads(err.split("stats: ", 1)[1])
    assert stats["observed"]["session_hosts"] == 4
    assert stats["calls"]["gets"] == 0, "observation must use list calls only"


def test_drifted_estate_is_explained(env, desired_dir, capsys):
    resources = [r for r in converged(load_desired(desired_dir), env.now()) if not r["id"].endswith("1.0.0")]
    gallery = next(r for r in resources if r["id"].endswith("galleries/gal1"))
    gallery["properties"]["description"] = "edited in the portal"
    env.seed(resources)
    code, out, _ = run_plan(capsys, "--desired", str(desired_dir), "--detailed-exitcode")
    assert code == 2
    assert '~ /properties/description: "edited in the portal" → "test gallery"' in out
    assert "+ image-version 1.0.0" in out
    assert "estate.yaml:" in out
    assert out.rstrip().splitlines()[-1] == "Plan: 1 to create, 1 to update."


def test_pin_change_on_a_pool_with_users_previews_batches(env, desired_dir, capsys, tmp_path):
    resources = seed_converged(
        env, desired_dir, hosts={"pool-a": PoolHosts(4, version="1.0.0", sessions=[3, 0, 1, 5])}
    )
    pool = next(r for r in resources if r["id"].endswith("hostPools/pool-a"))
    pool["tags"][PIN_TAG] = pool["tags"][PIN_TAG].replace("1.1.0", "1.0.0")
    env.seed([pool])
    planfile = tmp_path / "plan.json"
    code, out, _ = run_plan(
        capsys, "--desired", str(desired_dir), "--detailed-exitcode", "--out", str(planfile)
    )
    assert code == 2
    assert "@ host-pool pool-a" in out and "↻ host-pool pool-a" in out
    # The preview is apply's decide() over a simulated timeline: hosts by VM name, the first cycle's writes.
    assert "now (first apply cycle): create 2 replacements on 1.1.0 (for ha-1, ha-2)" in out
    assert "batch 1 at " in out and ": ha-1 (0 sessions), ha-2 (1 session); sessions affected 1" in out
    assert "total: 4 hosts in 3 batches, 9 user sessions affected" in out
    saved = Plan.from_dict(json.loads(planfile.read_text()))
    assert saved.rollouts[0].sessions_affected == 9 and saved.fingerprints
    code, md, _ = run_plan(capsys, "--desired", str(desired_dir), "-o", "markdown")
    assert code == 0 and "| Batch | At (simulated) | Hosts | Sessions affected |" in md
    code, js, _ = run_plan(capsys, "--desired", str(desired_dir), "-o", "json", "--limit", "host-pool/pool-a")
    data = json.loads(js)
    assert data["format_version"] == 1 and data["summary"]["roll"] == 1 and data["summary"]["pin"] == 1


def test_invalid_desired_state_exits_1_with_file_and_line(env, tmp_path, capsys):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "x.yaml").write_text(
        "apiVersion: avd.reconciler.io/v1alpha1\nkind: Gallery\nmetadata: {name: g}\nspec: {colour: red}\n"
    )
    code, out, err = run_plan(capsys, "--desired", str(root))
    assert code == 1 and out == ""
    assert "x.yaml:4:" in err and "spec.colour" in err and "Traceback" not in err


def test_unreachable_azure_is_one_clean_line(env, desired_dir, capsys, monkeypatch):
    monkeypatch.setenv("RECONCILE_ARM_ENDPOINT", "https://127.0.0.1:9")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
    code, out, err = run_plan(capsys, "--desired", str(desired_dir))
    assert code == 1 and out == ""
    assert err.startswith("error: cannot read Azure:") and "Traceback" not in err
    assert env.client_secret not in err


def test_bad_limit_is_an_error(env, desired_dir, capsys):
    code, _, err = run_plan(capsys, "--desired", str(desired_dir), "--limit", "nonsense")
    assert code == 1 and "--limit" in err
