"""The action registry, stale-plan detection and the recap text: small pure pieces of `apply`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.engine.actions import REGISTRY, dispatch, handler_for, register
from reconciler.engine.stale import stale_reasons, subscriptions_of
from reconciler.model.observed import Observed, ObservedGallery, ObserveScope
from reconciler.model.plan import Action, Change, Plan
from reconciler.render.recap import render_recap_text

SUB = "11111111-1111-4111-8111-111111111111"
GID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g1"
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_every_planned_kind_except_rollouts_has_a_handler():
    wanted = [("gallery", a) for a in (Action.CREATE, Action.UPDATE, Action.ADOPT, Action.DELETE)]
    wanted += [
        ("image-version", a) for a in (Action.CREATE, Action.REPLICATE, Action.DEPRECATE, Action.DELETE)
    ]
    wanted += [("image-build", Action.BUILD), ("image-build", Action.DELETE), ("host-pool", Action.PIN)]
    missing = [w for w in wanted if handler_for(Change(w[1], w[0], GID, "r")) is None]
    assert missing == []


def test_a_second_handler_for_the_same_pair_is_refused():
    handler_for(Change(Action.CREATE, "gallery", GID, "r"))  # load the built-in modules
    with pytest.raises(ValueError, match="two handlers for gallery create"):
        register("gallery", Action.CREATE)(lambda change, env, ctx: None)
    assert REGISTRY[("gallery", Action.CREATE)].__name__ == "put_resource"


def test_an_unknown_pair_fails_the_change_instead_of_raising():
    outcome = dispatch(Change(Action.ROLL, "no-such-kind", GID, "r"), env=None, ctx=None)
    assert outcome.error_code == "NotImplemented"


def _observed(*galleries) -> Observed:
    return Observed.build(ObserveScope.of([SUB]), NOW, galleries=list(galleries))


def test_stale_reasons_name_changed_created_and_deleted_resources():
    g = ObservedGallery(GID, "g1", raw={"id": GID, "properties": {"description": "a"}})
    changed = ObservedGallery(GID, "g1", raw={"id": GID, "properties": {"description": "b"}})
    other = GID.replace("g1", "g2")
    plan = Plan(
        changes=(Change(Action.UPDATE, "gallery", GID, "r", fingerprint=g.fingerprint),),
        generated_at=NOW.isoformat(),
        fingerprints={GID.lower(): g.fingerprint, other.lower(): "absent"},
    )
    assert stale_reasons(plan, _observed(g)) == []
    assert stale_reasons(plan, _observed(changed)) == [f"{GID.lower()}: changed since the plan was made"]
    created = ObservedGallery(other, "g2", raw={"id": other})
    assert stale_reasons(plan, _observed(g, created)) == [f"{other.lower()}: created since the plan was made"]
    assert stale_reasons(plan, _observed()) == [f"{GID.lower()}: deleted since the plan was made"]
    assert subscriptions_of(plan) == [SUB]


def test_recap_text_has_a_row_per_kind_totals_replication_and_failures():
    recap = {
        "kinds": {"gallery": {"ok": 1, "changed": 1}, "image-version": {"failed": 1}},
        "totals": {"ok": 1, "changed": 1, "failed": 1},
        "replication": {
            f"{GID}/images/d/versions/1.0.0".lower(): {"eastus": "Failed", "westeurope": "Completed"}
        },
        "failures": [{"id": f"create {GID}/images/d/versions/1.0.0", "kind": "image-version", "why": "boom"}],
        "skipped": [],
        "unfinished": [],
    }
    text = render_recap_text(recap)
    lines = text.splitlines()
    assert lines[0].startswith("APPLY RECAP")
    assert lines[1].split() == [
        "gallery",
        ":",
        "ok=1",
        "changed=1",
        "failed=0",
        "skipped=0",
        "waiting=0",
        "pending=0",
    ]
    assert "TOTAL" in lines[3] and "failed=1" in lines[3]
    assert "  g1/d/1.0.0: eastus=Failed westeurope=Completed" in lines
    assert "  create g1/d/1.0.0: boom" in lines
