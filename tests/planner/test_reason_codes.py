"""Every planned change carries a machine-readable reason code beside its text, and the JSON plan shows it.

Each row starts from a converged estate and breaks one thing (as test_plan_table), then names the code the
resulting change must carry: what reads a plan decides from the code, never from the words of `reason`.
"""

from __future__ import annotations

import pytest
from e2e.plan_estate import PoolHosts, converged

from reconciler.model.plan import Plan
from reconciler.model.rollout import POOL_FAILURES_TAG, POOL_QUARANTINE_TAG
from reconciler.model.tags import PIN_TAG, ROLLED_OUT_TAG
from reconciler.planner import plan
from reconciler.render.json_render import plan_to_json_dict

from .conftest import DEF_ID, GALLERY_ID, NOW, base_docs, find, observed_from
from .docs import pool_doc
from .test_plan_table import drop, set_props, untag


def codes(result) -> list[tuple[str, str, str, str]]:
    return sorted((c.action.value, c.kind, c.name, c.reason_code) for c in result.actionable)


def pin(version: str):
    def mutate(resources):
        find(resources, "hostPools/pool-a")["tags"][PIN_TAG] = f"{DEF_ID}/versions/{version}".lower()

    return mutate


CASES = [
    ("missing → create/missing", drop("versions/1.1.0"), None,
     [("create", "image-version", "1.1.0", "missing")]),
    ("drift → update/drift:<field>",
     set_props(["galleries/gal1", "properties", "description"], "changed by hand"), None,
     [("update", "gallery", "gal1", "drift:/properties/description")]),
    ("untagged → adopt/unowned", lambda r: untag(find(r, "galleries/gal1")), None,
     [("adopt", "gallery", "gal1", "unowned")]),
    ("owned, undeclared → delete/not-declared",
     lambda r: r.append({**find(r, "galleries/gal1"), "id": GALLERY_ID + "old", "name": "gal1old"}), None,
     [("delete", "gallery", "gal1old", "not-declared")]),
    ("replica count changed → replicate/regions",
     lambda r: find(r, "versions/1.1.0")["properties"]["publishingProfile"]["targetRegions"][0].update(
         regionalReplicaCount=5), None, [("replicate", "image-version", "1.1.0", "regions")]),
    ("pin behind → pin/pin-moved", pin("1.0.0"), None, [("pin", "host-pool", "pool-a", "pin-moved")]),
    ("pin ahead of the desired version → pin/rollback", pin("1.2.0"), None,
     [("pin", "host-pool", "pool-a", "rollback")]),
    ("hosts on an older version → roll/pin-moved", lambda r: None, PoolHosts(2, version="1.0.0"),
     [("roll", "host-pool", "pool-a", "pin-moved")]),
    ("hosts on a newer version → roll/rollback", lambda r: None, PoolHosts(2, version="1.2.0"),
     [("roll", "host-pool", "pool-a", "rollback")]),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "hosts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_change_carries_the_code_of_its_reason(load, mutate, hosts, expected):
    desired = load(base_docs(pools=[pool_doc(count=2)]))
    resources = converged(desired, NOW, hosts={"pool-a": hosts} if hosts else None)
    mutate(resources)
    assert codes(plan(desired, observed_from(resources), NOW)) == sorted(expected)


def test_session_hosts_below_count_is_count_up(load):
    desired = load(base_docs(pools=[pool_doc(count=3)]))
    resources = converged(desired, NOW, hosts={"pool-a": PoolHosts(1)})
    [change] = [
        c for c in plan(desired, observed_from(resources), NOW).actionable if c.kind == "session-hosts"
    ]
    assert (change.action.value, change.reason_code) == ("create", "count-up")


def test_an_empty_subscription_plans_only_coded_changes_and_the_json_plan_shows_them(load):
    desired = load(base_docs())
    result = plan(desired, observed_from([]), NOW)
    assert result.changes and all(c.reason_code for c in result.changes)
    data = plan_to_json_dict(result)
    assert [c["reason_code"] for c in data["changes"]] == [c.reason_code for c in result.changes]
    assert Plan.from_dict(result.to_dict()) == result


def test_a_quarantined_pin_rolling_back_to_the_last_good_version_is_a_rollback(load):
    pinned, good = (f"{DEF_ID}/versions/{v}".lower() for v in ("1.1.0", "1.0.0"))
    rollback = "{strategy: surge, batchSize: 2, capacityFloor: 50, failureBudget: 1, onFailure: rollback}"
    desired = load(base_docs(pools=[pool_doc(count=2, rollout=rollback)]))
    resources = converged(desired, NOW, hosts={"pool-a": PoolHosts(2, version="1.0.0")})
    find(resources, "hostPools/pool-a")["tags"].update(
        {
            POOL_QUARANTINE_TAG: f"{pinned}|2026-01-01T10:00:00+00:00",
            POOL_FAILURES_TAG: f"2|{pinned}|hpa-5",
            ROLLED_OUT_TAG: f"{good}|2026-01-01T09:00:00+00:00",
        }
    )
    [roll] = [c for c in plan(desired, observed_from(resources), NOW).actionable if c.action.value == "roll"]
    assert roll.reason_code == "rollback"
