"""Blocked releases as pure decisions (a due build whose version git cannot get: why, since when, what unblocks
it), and the plan's release notes read back as the trigger evaluation made them."""

from __future__ import annotations

from reconciler.model.plan import Action
from reconciler.planner import plan
from reconciler.planner.trigger_notes import RELEASE_BLOCKED, planned_releases
from reconciler.planner.triggers import RELEASED_TAG, SOURCE_TAG, evaluate

from .docs import pool_doc
from .test_triggers import DEC, MS, NOV, build_doc, built_version, estate, with_market

OLD = {SOURCE_TAG: f"{MS}/26100.2314.261107"}


def _estate(load, pin: str):
    # keepNewest 2 (planner docs): 1.6.0 would leave 1.6.0 and 1.5.0.
    docs = [
        build_doc(),
        built_version("1.4.0", OLD),
        built_version("1.5.0", OLD),
        pool_doc(version=pin, count=0),
    ]
    desired, observed = estate(load, *docs, built_at=NOV)
    return desired, with_market(observed, "26100.2314.261107", "26100.2605.261207")


def test_a_version_that_pushes_an_explicit_pin_out_of_retention_is_blocked(load):
    desired, observed = _estate(load, "1.4.0")
    report = evaluate(desired, observed, DEC)
    assert report.due == ()
    [blocked] = report.blocked
    assert blocked.build == "monthly" and blocked.version == "1.6.0"
    assert blocked.why.startswith(f"source {MS} moved 26100.2314.261107 → 26100.2605.261207")
    assert "keeps only the newest 2 and host pool pool-a's pin 1.4.0 would be deleted" in blocked.why
    assert blocked.unblock == (
        "move host pool pool-a's pin to a newer version (or `latest`), or raise keepNewest of gal1/win11 to 3"
    )
    assert blocked.since == "2026-12-07T00:00:00+00:00", "the day the source was published"


def test_a_pin_retention_keeps_or_latest_does_not_block(load):
    for pin in ("1.5.0", "latest"):
        desired, observed = _estate(load, pin)
        report = evaluate(desired, observed, DEC)
        assert [d.version for d in report.due] == ["1.6.0"] and report.blocked == (), pin


def test_plan_notes_a_blocked_release_with_its_details_and_a_warning(load):
    desired, observed = _estate(load, "1.4.0")
    result = plan(desired, observed, DEC)
    [note] = [c for c in result.changes if c.reason_code == RELEASE_BLOCKED]
    assert note.action is Action.NO_OP and note.kind == "image-build"
    assert note.details["blocked"]["unblock"].startswith("move host pool pool-a's pin")
    assert not result.has_changes, "no Azure change: `--detailed-exitcode` stays 0"
    [warning] = [d for d in result.diagnostics if d.reason == RELEASE_BLOCKED]
    assert "to unblock: move host pool pool-a's pin" in warning.message
    assert planned_releases(result, desired).blocked == evaluate(desired, observed, DEC).blocked


def test_the_plan_gives_back_exactly_the_due_builds_it_was_made_with(load):
    desired, observed = _estate(load, "latest")
    result = plan(desired, observed, DEC)
    assert planned_releases(result, desired).due == evaluate(desired, observed, DEC).due
    again = type(result).from_dict(result.to_dict())  # a saved plan too
    assert planned_releases(again, desired).due == evaluate(desired, observed, DEC).due


def test_a_release_not_built_yet_holds_the_next_one_back(load):
    # 1.6.0 was released (its tags say when, from which source) but Azure does not have it: its build runs, or
    # failed. The source moves again: 1.7.0 would supersede a version nobody has seen pass, from the same recipe.
    released = {RELEASED_TAG: "2026-12-08T03:00:00+00:00", SOURCE_TAG: f"{MS}/26100.2605.261207"}
    docs = [
        build_doc(),
        built_version("1.5.0", OLD),
        built_version("1.6.0", released),
        pool_doc(version="latest", count=0),
    ]
    desired, observed = estate(load, *docs, built_at=NOV, skip=("1.6.0",))
    observed = with_market(observed, "26100.2314.261107", "26100.2605.261207", "26100.2700.261214")
    report = evaluate(desired, observed, DEC)
    assert report.due == ()
    [held] = report.blocked
    assert held.waiting and held.build == "monthly"
    assert held.why.endswith("but the last release 1.6.0 is not built yet"), held.why
    assert "26100.2605.261207 → 26100.2700.261214" in held.why
    built, observed_built = estate(load, *docs, built_at=NOV)  # once 1.6.0 exists, 1.7.0 is due
    observed_built = with_market(
        observed_built, "26100.2314.261107", "26100.2605.261207", "26100.2700.261214"
    )
    again = evaluate(built, observed_built, DEC)
    assert [d.version for d in again.due] == ["1.7.0"], again


def test_a_failed_release_whose_file_is_deleted_is_released_again_from_the_newest_source(load):
    # The hint of a held release: the fix commit deletes 1.6.0's file (Azure never had it), so the next release
    # takes 1.6.0 again, pinned to the newest source: one build and one rollout, not the old source and then
    # a second release right after it.
    released = {RELEASED_TAG: "2026-12-08T03:00:00+00:00", SOURCE_TAG: f"{MS}/26100.2605.261207"}
    held_docs = [build_doc(), built_version("1.5.0", OLD), built_version("1.6.0", released)]
    held_docs.append(pool_doc(version="latest", count=0))
    desired, observed = estate(load, *held_docs, built_at=NOV, skip=("1.6.0",))
    observed = with_market(observed, "26100.2314.261107", "26100.2605.261207", "26100.2700.261214")
    [held] = evaluate(desired, observed, DEC).blocked
    [failed] = [v for v in desired.image_versions if v.name == "1.6.0"]
    assert f"delete {failed.file} in the same commit" in held.unblock, held.unblock
    dropped = [d for d in held_docs if d is not held_docs[2]]
    desired, observed = estate(load, *dropped, built_at=NOV)
    observed = with_market(observed, "26100.2314.261107", "26100.2605.261207", "26100.2700.261214")
    [due] = evaluate(desired, observed, DEC).due
    assert due.version == "1.6.0" and due.source.endswith("/26100.2700.261214"), due
