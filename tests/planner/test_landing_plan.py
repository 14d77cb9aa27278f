"""The landing-zone part of planning, as tables: which resource groups are created (or refused), how they order
before what is in them, and which references are judged (pure: no sandbox)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from reconciler.model.landing import ObservedResourceGroup, ReferenceRead
from reconciler.model.plan import Action
from reconciler.planner import plan
from reconciler.planner.references import reference_ids

from .conftest import NOW, SUB, base_docs, observed_from

IMG = f"/subscriptions/{SUB}/resourceGroups/rg-img"


def with_groups(observed, *ids):
    groups = {i.lower(): ObservedResourceGroup(i, "westeurope") for i in ids}
    return replace(observed, resource_groups=MappingProxyType(groups))


def test_groups_not_listed_plan_nothing(load):
    result = plan(load(base_docs()), observed_from([]), NOW)
    assert not [c for c in result.changes if c.kind == "resource-group"]


def test_a_missing_group_is_created_first_and_everything_in_it_waits(load):
    result = plan(load(base_docs()), with_groups(observed_from([])), NOW)
    groups = [c for c in result.changes if c.kind == "resource-group"]
    assert [(c.action, c.resource_id) for c in groups] == [(Action.CREATE, IMG)]
    assert groups[0].after == {"location": "westeurope", "tags": {"owner": "us"}}
    assert result.levels[0] == (groups[0].key,)
    inside = [c for c in result.actionable if c.kind != "resource-group"]
    assert inside and all(groups[0].key in c.depends_on for c in inside)


def test_an_existing_group_is_left_alone(load):
    result = plan(load(base_docs()), with_groups(observed_from([]), IMG.upper()), NOW)
    assert not [c for c in result.changes if c.kind == "resource-group"]


def test_creation_turned_off_is_an_error_naming_file_line_and_group(load):
    docs = base_docs()
    docs[0] = docs[0].rstrip("\n") + "\n  resourceGroups: {create: false}\n"
    result = plan(load(docs), with_groups(observed_from([])), NOW)
    assert result.has_errors and not [c for c in result.changes if c.kind == "resource-group"]
    (error,) = [d for d in result.diagnostics if d.resource_id == IMG]
    assert error.message.startswith(f"{error.reason}: resource group {IMG} does not exist")
    assert "estate.yaml:" in error.reason


def test_references_are_judged_only_when_read(load):
    desired = load(base_docs())
    ids = reference_ids(desired)
    assert any(i.endswith("/subnets/s") for i in ids) and any(
        i.endswith("/vaults/kv1/secrets/admin") for i in ids
    )
    observed = observed_from([])
    assert not plan(desired, observed, NOW).has_errors  # not read: not judged
    reads = {i.lower(): ReferenceRead(i, 200) for i in ids}
    subnet = next(i for i in ids if i.endswith("/subnets/s"))
    reads[subnet.lower()] = ReferenceRead(subnet, 404, "NotFound")
    result = plan(desired, replace(observed, references=MappingProxyType(reads)), NOW)
    (error,) = [d for d in result.diagnostics if d.severity.value == "error"]
    assert error.resource_id == subnet and f"subnet {subnet} does not exist" in error.message
    reads[subnet.lower()] = ReferenceRead(subnet, 403, "AuthorizationFailed")
    result = plan(desired, replace(observed, references=MappingProxyType(reads)), NOW)
    assert "cannot be read: 403 AuthorizationFailed" in result.diagnostics[0].message
