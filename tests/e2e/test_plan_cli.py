"""`reconcile plan` end to end: the real CLI, observing the sandbox over HTTPS with the real SDK clients.

Scenarios: empty subscription, a converged estate (exit 0 with --detailed-exitcode, "No changes"), a drifted
estate, a pin change on a pool with users (preview with batches and sessions), the error paths (one line, cause
first: sign-in, endpoint, CA bundle, --limit, usage), full create bodies, and `reconcile show` of a saved plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from planner.docs import RG, SUB, base_docs
from support.estate import PoolHosts, converged

from reconciler.cli import main
from reconciler.model.plan import Plan
from reconciler.model.tags import PIN_TAG
from reconciler.planner.references import reference_ids
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
    refs = len(
        reference_ids(load_desired(desired_dir))
    )  # one GET per landing-zone reference, lists otherwise
    assert stats["calls"]["gets"] == refs, "observation must use list calls only"


def test_drifted_estate_is_explained(env, desired_dir, capsys):
    resources = [r for r in converged(load_desired(desired_dir), env.now()) if not r["id"].endswith("1.0.0")]
    gallery = next(r for r in resources if r["id"].endswith("galleries/gal1"))
    gallery["properties"]["description"] = "edited in the portal"
    env.seed(resources)
    code, out, _ = run_plan(capsys, "--desired", str(desired_dir), "--detailed-exitcode")
    assert code == 2
    assert '~ /properties/description: "edited in the portal" → "test gallery"' in out
    assert "Gallery gal1: /properties/description differs from desired" in out
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
    assert data["format_version"] == 2 and data["summary"]["roll"] == 1 and data["summary"]["pin"] == 1


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
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "error: cannot sign in to Azure: EnvironmentCredential: 127.0.0.1:9: connection refused"
    )
    assert env.client_secret not in err


def test_unreachable_arm_endpoint_names_the_endpoint_first(env, desired_dir, capsys, monkeypatch):
    monkeypatch.setenv("RECONCILE_ARM_ENDPOINT", "https://127.0.0.1:9")
    code, out, err = run_plan(capsys, "--desired", str(desired_dir))
    assert (code, out) == (1, "")
    assert err == "error: cannot connect to 127.0.0.1:9: connection refused\n"


def test_wrong_client_secret_is_one_line_cause_first(env, desired_dir, capsys, monkeypatch):
    wrong = "not-the-secret-Zq81"
    monkeypatch.setenv("AZURE_CLIENT_SECRET", wrong)
    code, out, err = run_plan(capsys, "--desired", str(desired_dir))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "None None" not in err
    assert err.startswith("error: cannot sign in to Azure: EnvironmentCredential: AADSTS7000215"), err
    assert "(while listing " in err
    assert wrong not in err and env.client_secret not in err


def test_an_http_error_from_azure_is_status_code_and_message_first(env, tmp_path, capsys):
    root = tmp_path / "other"
    root.mkdir()
    other = "99999999-9999-4999-8999-999999999999"
    (root / "estate.yaml").write_text("\n---\n".join(base_docs()).replace(SUB, other))
    code, out, err = run_plan(capsys, "--desired", str(root))
    assert (code, out) == (1, "")
    assert err.startswith(
        f"error: Azure answered 404 SubscriptionNotFound: The subscription '{other}' could not"
    )
    assert err.count("\n") == 1 and err.rstrip().endswith(f"in {other})")


def test_untrusted_endpoint_says_which_bundle_to_set(env, desired_dir, capsys, monkeypatch):
    monkeypatch.delenv("RECONCILE_CA_BUNDLE")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    code, _, err = run_plan(capsys, "--desired", str(desired_dir))
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: cannot sign in to Azure:") and "RECONCILE_CA_BUNDLE" in err


def test_bad_limit_is_an_error(env, desired_dir, capsys):
    code, _, err = run_plan(capsys, "--desired", str(desired_dir), "--limit", "nonsense")
    assert code == 1 and "--limit" in err
    code, _, err = run_plan(capsys, "--desired", str(desired_dir), "--limit", "galery/gal1")
    assert code == 1 and err.count("\n") == 1 and err.rstrip().endswith("did you mean 'gallery'?")


def test_limit_that_matches_nothing_is_an_error_with_a_suggestion(env, desired_dir, capsys):
    code, out, err = run_plan(
        capsys, "--desired", str(desired_dir), "--limit", "gallery/gal2", "--detailed-exitcode"
    )
    assert (code, out) == (1, "")
    assert err == (
        "error: --limit 'gallery/gal2' matches no resource in the plan or the desired state; "
        "did you mean 'gallery/gal1'?\n"
    )
    # The right name under the wrong kind is found too.
    code, _, err = run_plan(capsys, "--desired", str(desired_dir), "--limit", "gallery/pool-a")
    assert code == 1 and "did you mean 'host-pool/pool-a'?" in err


def test_limit_on_a_converged_resource_is_not_an_error(env, desired_dir, capsys):
    seed_converged(env, desired_dir, hosts={"pool-a": PoolHosts(2, sessions=[0, 0])})
    code, out, err = run_plan(
        capsys, "--desired", str(desired_dir), "--limit", "host-pool/pool-a", "--detailed-exitcode"
    )
    assert code == 0, err
    assert out.strip() == "No changes. Azure matches the desired state."


def test_usage_error_exits_1_not_the_changes_pending_code(env, desired_dir, capsys):
    code, out, err = run_plan(capsys, "--desired", str(desired_dir), "--detailed-exitcode", "--bogus")
    assert (code, out) == (1, "")
    assert err == "error: unrecognized arguments: --bogus (see `reconcile plan --help`)\n"


def test_text_plan_shows_full_create_bodies_not_cuts_or_blobs(env, desired_dir, capsys):
    code, out, _ = run_plan(capsys, "--desired", str(desired_dir))
    assert code == 0
    assert "..." not in out
    block = out.split("  + session-hosts pool-a  (create)", 1)[1].split("\n\n", 1)[0]
    assert '"gate_pool_id"' not in block and "target:" not in block
    assert 'image: "gal1/win11/1.1.0"' in block
    assert "      session_hosts: {" in block and "          + namePrefix" in block
    # Nested bodies, one field a line, keys aligned in their block.
    gallery = out.split("  + gallery gal1  (create)", 1)[1].split("\n\n", 1)[0]
    assert '      + location   = "westeurope"' in gallery
    assert "      + properties = {" in gallery and '          + description      = "test gallery"' in gallery


def test_show_renders_a_saved_plan_in_every_format(env, desired_dir, capsys, tmp_path, monkeypatch):
    planfile = tmp_path / "p.json"
    code, planned, _ = run_plan(capsys, "--desired", str(desired_dir), "--out", str(planfile))
    assert code == 0
    monkeypatch.setenv("RECONCILE_ARM_ENDPOINT", "https://127.0.0.1:9")  # show reads only the file
    assert main(["show", str(planfile)]) == 0
    text = capsys.readouterr().out
    header, body = text.split("\n\n", 1)
    assert header.startswith(f"Saved plan {planfile}, made ")
    assert body == planned
    assert main(["show", str(planfile), "-o", "json"]) == 0
    assert capsys.readouterr().out == planfile.read_text()
    assert main(["show", str(planfile), "-o", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("### Reconcile plan — Plan: 6 to create, 1 to pin.") and f"`{planfile}`" in md
