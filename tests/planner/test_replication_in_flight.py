"""The region diff never PATCHes a version whose own operation runs (Compute answers 409): while the version is
Creating/Updating or a region is still replicating, the plan says what the change waits for and writes nothing;
once the operation ended, the same difference is a REPLICATE."""

from __future__ import annotations

import pytest
from e2e.plan_estate import converged

from reconciler.model.plan import Action
from reconciler.planner import plan

from .conftest import NOW, base_docs, find, observed_from, version_doc


def _region_added(load):
    docs = base_docs()
    docs[4] = version_doc("1.1.0", regions=("westeurope", "northeurope"))
    desired = load(docs)
    resources = converged(desired, NOW)
    pp = find(resources, "versions/1.1.0")["properties"]["publishingProfile"]
    pp["targetRegions"] = [
        t for t in pp["targetRegions"] if t["name"].replace(" ", "").lower() != "northeurope"
    ]
    return desired, resources


@pytest.mark.parametrize("state", ["Creating", "Updating", "Deleting"])
def test_no_region_patch_while_the_version_operation_runs(load, state):
    desired, resources = _region_added(load)
    props = find(resources, "versions/1.1.0")["properties"]
    props["provisioningState"] = state
    props["replicationStatus"] = {
        "aggregatedState": "InProgress",
        "summary": [{"region": "West Europe", "state": "Replicating", "progress": 40}],
    }
    result = plan(desired, observed_from(resources), NOW)
    assert not [c for c in result.actionable if c.action is Action.REPLICATE]
    [waiting] = [c for c in result.changes if c.action is Action.NO_OP and c.name == "1.1.0"]
    assert "waits" in waiting.reason and waiting.details["add"] == ["northeurope"]


def test_a_region_still_replicating_blocks_the_patch_even_if_the_state_says_failed(load):
    desired, resources = _region_added(load)
    props = find(resources, "versions/1.1.0")["properties"]
    props["provisioningState"] = "Failed"
    props["replicationStatus"] = {
        "aggregatedState": "InProgress",
        "summary": [{"region": "West Europe", "state": "Replicating", "progress": 70}],
    }
    result = plan(desired, observed_from(resources), NOW)
    assert not [c for c in result.actionable if c.action is Action.REPLICATE]
    [waiting] = [c for c in result.changes if c.action is Action.NO_OP and c.name == "1.1.0"]
    assert "westeurope" in waiting.details["waiting"]


def test_once_the_operation_ended_the_same_difference_is_replicated(load):
    desired, resources = _region_added(load)
    result = plan(desired, observed_from(resources), NOW)
    [change] = [c for c in result.actionable if c.action is Action.REPLICATE]
    assert change.details["add"] == ["northeurope"]
