"""A pool whose pinned version is quarantined (its rollout spent the failure budget) gets a plan warning
naming the pool, the version, failures vs budget and how to clear it; a warning alone is not a change."""

from __future__ import annotations

import json

import pytest
from e2e.plan_estate import PoolHosts, converged

from reconciler.model.plan import Severity
from reconciler.model.rollout import POOL_FAILURES_TAG, POOL_QUARANTINE_TAG
from reconciler.planner import plan
from reconciler.render import render

from .conftest import DEF_ID, NOW, POOL_ID, base_docs, find, observed_from, pool_doc

PINNED = (DEF_ID + "/versions/1.1.0").lower()
OLD = (DEF_ID + "/versions/1.0.0").lower()
SINCE = "2026-01-01T10:00:00+00:00"
HALT = "{strategy: surge, batchSize: 2, capacityFloor: 50, failureBudget: 1}"
ROLLBACK = "{strategy: surge, batchSize: 2, capacityFloor: 50, failureBudget: 1, onFailure: rollback}"

# (id, rollout policy, pool tags, hosts running, expected warning fragments or None)
CASES = [
    ("halted: pinned version quarantined", HALT,
     {POOL_QUARANTINE_TAG: f"{PINNED}|{SINCE}", POOL_FAILURES_TAG: f"2|{PINNED}|hpa-5"}, "1.0.0",
     ["HostPool pool-a: version 1.1.0 is quarantined (2 failed host(s), failure budget 1)",
      "rollout halted", "reconcile clear-quarantine pool-a"]),
    ("rolled back: pinned version quarantined", ROLLBACK,
     {POOL_QUARANTINE_TAG: f"{PINNED}|{SINCE}", POOL_FAILURES_TAG: f"2|{PINNED}|hpa-5"}, "1.0.0",
     ["version 1.1.0 is quarantined (2 failed host(s), failure budget 1)", "rolled back",
      "reconcile clear-quarantine pool-a"]),
    ("quarantined without a failure count", HALT, {POOL_QUARANTINE_TAG: PINNED}, "1.0.0",
     ["version 1.1.0 is quarantined (failure budget 1 spent)", "reconcile clear-quarantine pool-a"]),
    ("quarantine of an older version: the pin moved on, nothing to say", HALT,
     {POOL_QUARANTINE_TAG: f"{OLD}|{SINCE}", POOL_FAILURES_TAG: f"2|{OLD}|hpa-5"}, "1.0.0", None),
    ("failures within budget, no quarantine", HALT, {POOL_FAILURES_TAG: f"1|{PINNED}|hpa-5"}, "1.0.0", None),
    ("no rollout tags", HALT, {}, "1.0.0", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rollout", "tags", "running", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_quarantine_warning_table(load, rollout, tags, running, expected):
    desired = load(base_docs(pools=[pool_doc(rollout=rollout)]))
    resources = converged(desired, NOW, hosts={"pool-a": PoolHosts(4, version=running)})
    find(resources, "hostPools/pool-a")["tags"].update(tags)
    result = plan(desired, observed_from(resources), NOW)
    warnings = [d for d in result.diagnostics if "quarantined" in d.message]
    if expected is None:
        assert warnings == []
        return
    [warning] = warnings
    assert warning.severity is Severity.WARNING and warning.resource_id.lower() == POOL_ID.lower()
    for fragment in expected:
        assert fragment in warning.message
    assert POOL_QUARANTINE_TAG in warning.reason


def test_a_quarantine_warning_alone_is_not_a_change_and_every_renderer_shows_it(load):
    desired = load(base_docs(pools=[pool_doc(rollout=HALT)]))
    resources = converged(desired, NOW)  # every host already on the pin: nothing to do but warn
    find(resources, "hostPools/pool-a")["tags"][POOL_QUARANTINE_TAG] = f"{PINNED}|{SINCE}"
    result = plan(desired, observed_from(resources), NOW)
    assert not result.has_changes and not result.has_errors  # `plan --detailed-exitcode` exits 0
    [warning] = result.diagnostics
    text = render(result, "text")
    assert f"Warning: {warning.message}" in text and "No changes" in text
    assert f":warning: **Warning:** {warning.message}" in render(result, "markdown").replace("\\|", "|")
    [as_json] = json.loads(render(result, "json"))["diagnostics"]
    assert as_json == warning.to_dict() and as_json["severity"] == "warning"
