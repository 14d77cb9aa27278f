"""plan(): a version a failed write left `Failed` is repaired (its desired fields sent again) before a pool
pins it; a Failed version retention deletes is deleted, not repaired first."""

from __future__ import annotations

from e2e.plan_estate import converged

from reconciler.model.plan import Action, ChangeReason
from reconciler.model.tags import PIN_TAG
from reconciler.planner import plan

from .conftest import DEF_ID, NOW, base_docs, find, observed_from, pool_doc

V = {name: f"{DEF_ID}/versions/{name}" for name in ("1.0.0", "1.1.0", "1.2.0")}


def _by_action(result, action, name):
    return [c for c in result.actionable if c.action is action and c.name == name]


def test_failed_version_is_repaired_and_the_pin_waits_for_it(load):
    desired = load(base_docs(pools=[pool_doc(version="1.1.0")]))
    resources = converged(desired, NOW)
    find(resources, "versions/1.1.0")["properties"]["provisioningState"] = "Failed"
    pool = next(r for r in resources if r["type"].lower().endswith("/hostpools"))
    pool.setdefault("tags", {})[PIN_TAG] = V["1.0.0"].lower()
    result = plan(desired, observed_from(resources), NOW)
    [repair] = _by_action(result, Action.UPDATE, "1.1.0")
    assert repair.reason_code == ChangeReason.REPAIR
    assert repair.after["properties"]["publishingProfile"]
    [pin] = [c for c in result.actionable if c.action is Action.PIN]
    assert repair.key in pin.depends_on


def test_converged_version_is_not_repaired(load):
    desired = load(base_docs(pools=[pool_doc(version="1.1.0")]))
    result = plan(desired, observed_from(converged(desired, NOW)), NOW)
    assert not [c for c in result.actionable if c.reason_code == ChangeReason.REPAIR]


def test_failed_version_retention_deletes_is_only_deleted(load):
    desired = load(base_docs(versions=("1.0.0", "1.1.0", "1.2.0"), pools=[pool_doc(version="1.2.0")]))
    resources = converged(desired, NOW)
    old = find(resources, "versions/1.0.0")
    old["properties"]["provisioningState"] = "Failed"
    old["properties"]["publishingProfile"].update(
        excludeFromLatest=True, endOfLifeDate="2026-01-01T00:00:00Z"
    )
    result = plan(desired, observed_from(resources), NOW)
    changes = [c for c in result.actionable if c.name == "1.0.0"]
    assert [c.action for c in changes] == [Action.DELETE], changes
    assert not [c for c in changes if c.reason_code == ChangeReason.REPAIR]
