"""Acceptance across a plan: `latest` skips versions not accepted (failed ones everywhere), ring gates wait
for acceptance then soak, the preview shows the acceptance step, and failures are explained — pure."""

from __future__ import annotations

from datetime import timedelta

from e2e.plan_estate import PoolHosts, converged

from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, ACCEPTANCE_TAG, Acceptance, AcceptanceState
from reconciler.model.plan import Action
from reconciler.model.rollout import POOL_QUARANTINE_TAG
from reconciler.model.tags import PIN_TAG, ROLLED_OUT_TAG
from reconciler.planner import plan
from reconciler.planner.pool_target import PoolTarget
from reconciler.render import render

from .conftest import DEF_ID, NOW, find, observed_from, pool_doc, version_doc
from .docs import DEFINITION, GALLERY, SETTINGS

SUITE = """  acceptance:
    requiredFrom: 1.1.0
    agentChecks: {require: [FSLogixHealthCheck]}
    tests:
      - name: ehr-client-starts
        inline: ["exit 0"]
        timeout: 5m
        parameters: {Path: 'C:\\ehr.exe', SvcPassword: {keyVaultSecret: {vaultName: kv1, secretName: ehr}}}
      - {name: printer-queue, inline: ["exit 0"]}
"""
V10, V11 = (DEF_ID + "/versions/1.0.0").lower(), (DEF_ID + "/versions/1.1.0").lower()
VAL = "{strategy: surge, batchSize: 1, capacityFloor: 50}"
PROD = "{strategy: surge, batchSize: 2, capacityFloor: 50, gate: {after: pool-val, soak: 24h}}"


def docs(gated=True):
    pools = [pool_doc("pool-val", "latest", 2, VAL)]
    if gated:
        pools.append(pool_doc("pool-prod", "latest", 4, PROD))
    return [SETTINGS, GALLERY, DEFINITION + SUITE, version_doc("1.0.0"), version_doc("1.1.0"), *pools]


def estate(load, verdict: Acceptance | None, *, val_on="1.0.0", failure: str | None = None, gated=True):
    desired = load(docs(gated))
    hosts = {"pool-val": PoolHosts(2, version=val_on), "pool-prod": PoolHosts(4, version="1.0.0")}
    resources = converged(desired, NOW, hosts=hosts)
    for name in ("pool-val", "pool-prod") if gated else ("pool-val",):
        find(resources, f"hostPools/{name}")["tags"][PIN_TAG] = V10
    version = find(resources, "versions/1.1.0")
    if verdict is not None:
        version.setdefault("tags", {})[ACCEPTANCE_TAG] = verdict.to_tag()
    if failure:
        version["tags"][ACCEPTANCE_FAILURE_TAG] = failure
    return desired, resources


def pins(result) -> dict[str, str]:
    return {
        c.resource_id.rsplit("/", 1)[-1]: c.details["version"]
        for c in result.changes
        if c.action is Action.PIN
    }


def test_not_accepted_yet_only_the_validation_pool_takes_it_and_production_waits(load):
    desired, resources = estate(load, None)
    result = plan(desired, observed_from(resources), NOW)
    assert pins(result) == {"pool-val": "1.1.0"}  # pool-prod's latest stays 1.0.0
    [preview] = [r for r in result.rollouts if r.pool == "pool-val"]
    acc = preview.acceptance
    assert acc["role"] == "runs" and acc["state"] == "not run" and acc["held"] == ["pool-prod"]
    assert acc["tests"] == ["ehr-client-starts", "printer-queue"] and acc["checks"] == ["FSLogixHealthCheck"]
    assert acc["host"].startswith("hval-") and acc["starts_at"] > NOW.isoformat()
    assert any("acceptance passes" in a for a in preview.assumptions)
    assert not [r for r in result.rollouts if r.pool == "pool-prod"]
    text = render(result, "text")
    assert "acceptance" in text.lower()


def test_accepted_production_takes_it_and_its_gate_soaks_from_the_acceptance(load):
    accepted_at = NOW - timedelta(hours=1)
    verdict = Acceptance(AcceptanceState.PASSED, accepted_at.isoformat(), "hval-2")
    desired, resources = estate(load, verdict, val_on=None)
    find(resources, "hostPools/pool-val")["tags"][ROLLED_OUT_TAG] = (
        f"{V11}|{(NOW - timedelta(hours=3)).isoformat()}"
    )
    find(resources, "hostPools/pool-val")["tags"][PIN_TAG] = V11
    result = plan(desired, observed_from(resources), NOW)
    assert pins(result) == {"pool-prod": "1.1.0"}
    [prod] = [r for r in result.rollouts if r.pool == "pool-prod"]
    assert prod.gate["satisfied"] is False and prod.gate["acceptance"] == "passed"
    assert prod.gate["waits_until"] == (accepted_at + timedelta(hours=24)).isoformat()
    assert "soaks until " + (accepted_at + timedelta(hours=24)).isoformat() in prod.gate["reason"]
    assert prod.acceptance["role"] == "waits" and prod.acceptance["state"] == "passed"


def test_failed_is_excluded_everywhere_and_explained_with_a_hint(load):
    verdict = Acceptance(AcceptanceState.FAILED, NOW.isoformat(), "hval-2", "ehr-client-starts: exit 1")
    excerpt = "ehr-client-starts: exit 1: EhrClient.exe not found"
    desired, resources = estate(load, verdict, failure=excerpt)
    result = plan(desired, observed_from(resources), NOW)
    assert pins(result) == {} and not result.rollouts  # both pools stay on 1.0.0
    [warning] = [d for d in result.diagnostics if d.reason == "acceptance-failed"]
    assert excerpt in warning.message and "excluded from latest" in warning.message
    assert "reconcile accept 1.1.0 --rerun" in warning.message and "--force --reason" in warning.message


def test_a_suite_without_a_validation_pool_is_warned_about(load):
    desired, resources = estate(load, None, gated=False)
    result = plan(desired, observed_from(resources), NOW)
    assert [d.reason for d in result.diagnostics if d.reason.startswith("acceptance")] == [
        "acceptance-without-validation-pool"
    ]


def test_the_plan_carries_the_suite_to_apply_with_secrets_as_key_vault_uris_only(load):
    desired, resources = estate(load, None)
    result = plan(desired, observed_from(resources), NOW)
    [roll] = [c for c in result.changes if c.action is Action.ROLL]
    target = PoolTarget.from_details(roll.details["target"])
    assert target.validation and target.acceptance is not None
    ehr = target.acceptance.tests[0]
    assert ehr.parameters == (("Path", "C:\\ehr.exe"),)
    assert ehr.secret_parameters == (("SvcPassword", "https://kv1.vault.azure.net/secrets/ehr"),)
    assert ehr.timeout_seconds == 300 and target.acceptance.checks == ("FSLogixHealthCheck",)
    again = PoolTarget.from_details(target.to_details())
    assert (again.acceptance, again.validation, again.version_id) == (
        target.acceptance,
        True,
        target.version_id,
    )


def test_a_version_before_required_from_needs_no_acceptance(load):
    desired = load(docs())
    pool = desired.host_pool("pool-prod")
    assert PoolTarget.of(desired, pool).acceptance is None or desired.resolve_pin(pool).name == "1.1.0"
    v10 = desired.versions_of(pool.definition)[0]
    assert not pool.definition.spec.acceptance.applies_to(v10.name)


def test_the_text_plan_shows_the_acceptance_step_and_who_waits(load):
    desired, resources = estate(load, None)
    text = render(plan(desired, observed_from(resources), NOW), "text")
    line = next(line for line in text.splitlines() if "acceptance of 1.1.0" in line)
    assert "runs on hval-" in line and "ehr-client-starts, printer-queue" in line
    assert "checks FSLogixHealthCheck" in line and "pool-prod waits for it" in line


def test_a_pinned_version_quarantined_by_acceptance_says_why_and_how_out(load):
    pinned = [SETTINGS, GALLERY, DEFINITION + SUITE, version_doc("1.0.0"), version_doc("1.1.0")]
    pinned += [pool_doc("pool-val", "1.1.0", 2, VAL), pool_doc("pool-prod", "latest", 4, PROD)]
    desired = load(pinned)
    resources = converged(desired, NOW, hosts={"pool-val": PoolHosts(2), "pool-prod": PoolHosts(4, "1.0.0")})
    verdict = Acceptance(AcceptanceState.FAILED, NOW.isoformat(), "hval-2", "ehr-client-starts: exit 1")
    find(resources, "versions/1.1.0").setdefault("tags", {}).update(
        {ACCEPTANCE_TAG: verdict.to_tag(), ACCEPTANCE_FAILURE_TAG: "ehr-client-starts: exit 1: not found"}
    )
    find(resources, "hostPools/pool-val")["tags"][POOL_QUARANTINE_TAG] = f"{V11}|{NOW.isoformat()}"
    result = plan(desired, observed_from(resources), NOW)
    [warning] = [d for d in result.diagnostics if "is quarantined" in d.message]
    assert "failed acceptance on hval-2: ehr-client-starts: exit 1: not found" in warning.message
    assert "reconcile accept 1.1.0 --rerun" in warning.message


def test_the_fast_path_equals_the_reference_path_with_acceptance(load):
    for verdict in (None, Acceptance(AcceptanceState.PASSED, NOW.isoformat(), "hval-2")):
        desired, resources = estate(load, verdict)
        observed = observed_from(resources)
        fast, slow = plan(desired, observed, NOW), plan(desired, observed, NOW, reference=True)
        assert fast == slow and render(fast, "json") == render(slow, "json")
