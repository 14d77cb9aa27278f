"""A real plan: round-trips through JSON, validates against the schema, carries fingerprints; --limit."""

from __future__ import annotations

import json

import jsonschema
import pytest
from e2e.plan_estate import PoolHosts, converged

from reconciler.model.fingerprint import GALLERY, field_digests, fingerprint_fields, resource_fingerprint
from reconciler.model.plan import Action, Plan
from reconciler.model.plan_schema import PLAN_SCHEMA
from reconciler.planner import plan
from reconciler.planner.limit import LimitError, limit_plan
from reconciler.render import render_json

from .conftest import NOW, base_docs, find, observed_from, pool_doc


@pytest.fixture
def busy_plan(load):
    """A drifted gallery and two ring-gated pools whose hosts must roll."""
    desired = load(base_docs(pools=[pool_doc(), pool_doc(name="pool-b", rollout="{gate: {after: pool-a}}")]))
    hosts = {
        "pool-a": PoolHosts(2, version="1.0.0", sessions=[1, 2]),
        "pool-b": PoolHosts(2, version="1.0.0"),
    }
    resources = converged(desired, NOW, hosts=hosts)
    find(resources, "galleries/gal1")["properties"]["description"] = "x"
    return plan(desired, observed_from(resources), NOW), resources


def test_json_round_trip_and_schema(busy_plan):
    result, _ = busy_plan
    data = json.loads(render_json(result))
    jsonschema.validate(data, PLAN_SCHEMA)
    assert Plan.from_dict(data) == result


def test_fingerprints_match_the_observed_json(busy_plan):
    result, resources = busy_plan
    gallery = find(resources, "galleries/gal1")
    assert result.fingerprints[gallery["id"].lower()] == resource_fingerprint(GALLERY, gallery)
    assert result.fingerprint_fields[gallery["id"].lower()] == field_digests(
        fingerprint_fields(GALLERY, gallery)
    )
    [roll_a, _] = [c for c in result.changes if c.action is Action.ROLL]
    hosts = [k for k in result.fingerprints if "/sessionhosts/" in k]
    assert len(hosts) == 4 and all(h in result.fingerprints for h in roll_a.details["session_host_ids"])


def test_limit_keeps_the_target_and_its_dependencies(busy_plan):
    result, _ = busy_plan
    limited = limit_plan(result, ["host-pool/pool-b"])
    assert sorted((c.action.value, c.name) for c in limited.changes) == [
        ("roll", "pool-a"),
        ("roll", "pool-b"),
    ]
    assert [r.pool for r in limited.rollouts] == ["pool-a", "pool-b"]
    assert limit_plan(result, ["Gallery/gal1"]).changes[0].action is Action.UPDATE
    with pytest.raises(LimitError):
        limit_plan(result, ["widget/x"])
