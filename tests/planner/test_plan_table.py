"""plan(desired, observed, now): tables of (desired, Azure as observed) → expected changes.

Each row starts from a converged estate (tests/e2e/plan_estate.converged) and breaks one thing, so the
expected changes are exactly what that one difference should cause.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from e2e.plan_estate import PoolHosts, converged

from reconciler.model.plan import Action, Severity
from reconciler.model.tags import PIN_TAG
from reconciler.planner import plan

from .conftest import DEF_ID, GALLERY_ID, NOW, base_docs, find, observed_from, version_doc


def summary(p):
    return sorted((c.action.value, c.kind, c.name) for c in p.changes)


def untag(r):
    r["tags"] = {k: v for k, v in r["tags"].items() if k != "owner"}


def set_props(path, value):
    def mutate(resources):
        r = find(resources, path[0])
        node = r
        for key in path[1:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def drop(suffix):
    def mutate(resources):
        resources[:] = [r for r in resources if not r["id"].lower().endswith(suffix.lower())]

    return mutate


CASES = [
    ("converged: nothing to do", base_docs(), lambda r: None, []),
    ("gallery description drifted → update", base_docs(),
     set_props(["galleries/gal1", "properties", "description"], "changed by hand"),
     [("update", "gallery", "gal1")]),
    ("untagged gallery that matches → adopt", base_docs(), lambda r: untag(find(r, "galleries/gal1")),
     [("adopt", "gallery", "gal1")]),
    ("missing version → create", base_docs(), drop("versions/1.1.0"),
     [("create", "image-version", "1.1.0")]),
    ("host pool maxSessionLimit drifted → update", base_docs(),
     set_props(["hostPools/pool-a", "properties", "maxSessionLimit"], 3), [("update", "host-pool", "pool-a")]),
    ("region added in desired → replicate",
     base_docs()[:4] + [version_doc("1.1.0", regions=("westeurope", "northeurope"))] + base_docs()[5:],
     lambda r: find(r, "versions/1.1.0")["properties"]["publishingProfile"]["targetRegions"].pop(0),
     [("replicate", "image-version", "1.1.0")]),
    ("replica count changed in Azure → replicate", base_docs(),
     lambda r: find(r, "versions/1.1.0")["properties"]["publishingProfile"]["targetRegions"][0].update(
         regionalReplicaCount=5), [("replicate", "image-version", "1.1.0")]),
    ("pin moved in Azure → pin back", base_docs(),
     lambda r: find(r, "hostPools/pool-a")["tags"].update({PIN_TAG: (DEF_ID + "/versions/1.0.0").lower()}),
     [("pin", "host-pool", "pool-a")]),
    ("owned gallery no longer declared → delete", base_docs(),
     lambda r: r.append({**find(r, "galleries/gal1"), "id": GALLERY_ID + "old", "name": "gal1old"}),
     [("delete", "gallery", "gal1old")]),
    ("untagged gallery not declared → left alone", base_docs(),
     lambda r: r.append({**find(r, "galleries/gal1"), "id": GALLERY_ID + "x", "name": "gal1x", "tags": {}}), []),
]  # fmt: skip


@pytest.mark.parametrize(("docs", "mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plan_table(load, docs, mutate, expected):
    desired = load(docs)
    resources = converged(desired, NOW)
    mutate(resources)
    result = plan(desired, observed_from(resources), NOW)
    assert [(a, k, n) for a, k, n in summary(result) if a != "no-op"] == sorted(expected)
    assert not result.diagnostics


def test_empty_subscription_creates_everything_in_dependency_order(load):
    desired = load(base_docs())
    result = plan(desired, observed_from([]), NOW)
    assert summary(result) == sorted(
        [
            ("create", "gallery", "gal1"),
            ("create", "image-definition", "win11"),
            ("create", "image-version", "1.0.0"),
            ("create", "image-version", "1.1.0"),
            ("create", "host-pool", "pool-a"),
            ("pin", "host-pool", "pool-a"),
            ("create", "session-hosts", "sessionHosts"),
        ]
    )
    position = {c.key: i for i, c in enumerate(result.changes)}
    for change in result.changes:
        for dep in change.depends_on:
            assert position[dep] < position[change.key], f"{dep} must come before {change.key}"
    keys = [c.key.split(" ")[0] + " " + c.name for c in result.changes]
    assert (
        keys.index("create gal1")
        < keys.index("create win11")
        < keys.index("create 1.1.0")
        < keys.index("pin pool-a")
    )
    assert len(result.levels) >= 3
    assert result.changes[0].reason.startswith(str(desired.files[0]) if desired.files else "")


def test_the_reason_names_the_file_and_line(load):
    desired = load(base_docs())
    resources = converged(desired, NOW)
    find(resources, "galleries/gal1")["properties"]["description"] = "x"
    change = plan(desired, observed_from(resources), NOW).changes[0]
    assert "estate.yaml:" in change.reason and "/properties/description" in change.reason
    assert change.patch == [{"op": "replace", "path": "/properties/description", "value": "test gallery"}]
    assert change.fingerprint.startswith("sha256:")


def test_immutable_definition_field_with_versions_is_an_error_not_an_update(load):
    desired = load(base_docs())
    resources = converged(desired, NOW)
    find(resources, "images/win11")["properties"]["osType"] = "Linux"
    result = plan(desired, observed_from(resources), NOW)
    assert not [c for c in result.changes if c.kind == "image-definition"]
    [diag] = result.diagnostics
    assert diag.severity is Severity.ERROR and "osType" in diag.message and "cannot change" in diag.message


def test_immutable_definition_field_without_versions_is_a_replacement(load):
    desired = load(base_docs(versions=(), pools=[]))
    resources = converged(desired, NOW)
    find(resources, "images/win11")["properties"]["identifier"]["sku"] = "other"
    result = plan(desired, observed_from(resources), NOW)
    assert summary(result) == [("replace", "image-definition", "win11")]
    assert result.changes[0].details == {"immutable": ["identifier"]}


def test_changed_version_source_is_an_error(load):
    desired = load(base_docs())
    resources = converged(desired, NOW)
    find(resources, "versions/1.1.0")["properties"]["storageProfile"]["source"]["id"] = "/other/image"
    result = plan(desired, observed_from(resources), NOW)
    assert [c for c in result.actionable if c.kind == "image-version"] == []
    assert any("storageProfile" in d.message and d.severity is Severity.ERROR for d in result.diagnostics)


def test_removing_a_region_needs_the_safety_flag(load):
    docs = base_docs()
    desired = load(docs)
    resources = converged(desired, NOW)
    regions = find(resources, "versions/1.1.0")["properties"]["publishingProfile"]["targetRegions"]
    regions.append({**regions[0], "name": "North Europe"})
    result = plan(desired, observed_from(resources), NOW)
    assert not result.actionable
    assert "allowDeletionOfReplicatedLocations" in result.diagnostics[0].message
    docs[4] = version_doc("1.1.0", extra="  safetyProfile: {allowDeletionOfReplicatedLocations: true}")
    result = plan(load(docs), observed_from(resources), NOW)
    update, change = result.actionable  # the safety flag first, then the removal it allows
    assert update.action is Action.UPDATE and "/properties/safetyProfile" in update.reason
    assert change.action is Action.REPLICATE and change.details["remove"] == ["northeurope"]
    assert update.key in change.depends_on


def test_a_failed_region_is_retried(load):
    desired = load(base_docs())
    resources = converged(desired, NOW)
    props = find(resources, "versions/1.1.0")["properties"]
    props["provisioningState"] = "Failed"
    props["replicationStatus"] = {
        "aggregatedState": "Failed",
        "summary": [
            {"region": "West Europe", "state": "Failed", "details": "internal error", "progress": 40}
        ],
    }
    result = plan(desired, observed_from(resources), NOW)
    [change] = result.actionable
    assert change.action is Action.REPLICATE and change.details["retry"] == ["westeurope"]


def test_ownership_tag_missing_on_a_version_is_adopted(load):
    desired = load(base_docs())
    resources = converged(desired, NOW)
    untag(find(resources, "versions/1.0.0"))
    [change] = plan(desired, observed_from(resources), NOW).actionable
    assert change.action is Action.ADOPT and change.name == "1.0.0"
    assert {"op": "add", "path": "/tags/owner", "value": "us"} in change.patch


def test_deleted_definitions_with_versions_are_kept_with_a_warning(load):
    desired = load(base_docs(versions=(), pools=[]))
    resources = converged(desired, NOW)
    orphan = {**find(resources, "images/win11"), "id": DEF_ID + "old", "name": "win11old"}
    version = {
        "id": DEF_ID + "old/versions/1.0.0",
        "name": "1.0.0",
        "location": "westeurope",
        "tags": {"owner": "us"},
        "type": "Microsoft.Compute/galleries/images/versions",
        "properties": {"provisioningState": "Succeeded"},
    }
    result = plan(desired, observed_from([*resources, orphan, version]), NOW)
    assert not result.actionable
    assert result.diagnostics[0].severity is Severity.WARNING


def test_pool_pin_waits_for_replication_to_its_region(load):
    docs = base_docs()
    docs[-1] = docs[-1].replace("spec:\n", "spec:\n  location: northeurope\n", 1)
    docs[4] = version_doc("1.1.0", regions=("westeurope", "northeurope"))
    desired = load(docs)
    resources = converged(desired, NOW, hosts={"pool-a": PoolHosts(2, version="1.0.0")})
    regions = find(resources, "versions/1.1.0")["properties"]["publishingProfile"]["targetRegions"]
    regions[:] = [r for r in regions if r["name"] != "North Europe"]
    find(resources, "hostPools/pool-a")["tags"][PIN_TAG] = (DEF_ID + "/versions/1.0.0").lower()
    result = plan(desired, observed_from(resources), NOW)
    by_action = {c.action: c for c in result.changes}
    replicate, pin, roll = by_action[Action.REPLICATE], by_action[Action.PIN], by_action[Action.ROLL]
    assert replicate.details["add"] == ["northeurope"]
    assert replicate.key in pin.depends_on and pin.key in roll.depends_on
    assert pin.reason.endswith(
        "; moves once the version is replicated to northeurope (now: the version is not replicated to northeurope)"
    )
    assert result.rollouts[0].blocked[0] == "waits: the version is not replicated to northeurope"
    # Apply runs the roll only after the replication: the preview's first cycle is that one, and says so.
    preview = result.rollouts[0]
    assert {s["op"] for s in preview.now} == {"create"} and {s["version"] for s in preview.now} == {"1.1.0"}
    assert preview.end == "converged"
    assert preview.assumptions and preview.assumptions[0].startswith("the version is replicated by")


def test_plan_is_deterministic(load):
    desired = load(base_docs())
    resources = converged(
        desired, NOW, hosts={"pool-a": PoolHosts(4, version="1.0.0", sessions=[1, 2, 3, 4])}
    )
    find(resources, "galleries/gal1")["properties"]["description"] = "x"
    first = plan(desired, observed_from(resources), NOW).to_dict()
    resources.reverse()
    second = plan(desired, observed_from(resources), NOW + timedelta(0)).to_dict()
    assert first == second
