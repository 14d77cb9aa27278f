"""Marketplace lag per region: a new version reaches one region before another. A release pins one source
version for the build and all its target regions, so it takes the newest one every region lists, and says
which region lacks a newer one."""

from __future__ import annotations

import dataclasses

from reconciler.model.marketplace import MarketplaceSku, MarketplaceVersions
from reconciler.planner import plan
from reconciler.planner.trigger_notes import RELEASE_BLOCKED
from reconciler.planner.triggers import SOURCE_TAG, evaluate, marketplace_skus
from reconciler.render import render

from .conftest import SUB
from .test_triggers import DEC, MS, NOV, build_doc, built_version, estate

OLD, NEW = "26100.2314.261107", "26100.2605.261207"


def two_regions(load):
    doc = build_doc().replace(
        "targetRegions: [{name: westeurope, replicaCount: 2}]",
        "targetRegions: [{name: westeurope, replicaCount: 2}, {name: North Europe}]",
    )
    return estate(load, doc, built_version("1.5.0", {SOURCE_TAG: f"{MS}/{OLD}"}), built_at=NOV)


def listed(observed, **regions):
    market = {}
    for region, versions in regions.items():
        sku = MarketplaceSku(SUB, region, *MS.split("/"))
        market[sku.key] = MarketplaceVersions.of(sku, versions)
    return dataclasses.replace(observed, marketplace=market)


def test_every_target_region_is_listed(load):
    desired, _ = two_regions(load)
    assert sorted(s.location for s in marketplace_skus(desired)) == ["northeurope", "westeurope"]


def test_a_version_one_target_region_lacks_waits_and_says_which(load):
    desired, observed = two_regions(load)
    observed = listed(observed, westeurope=(OLD, NEW), northeurope=(OLD,))
    report = evaluate(desired, observed, DEC)
    assert report.due == ()
    [waiting] = report.blocked
    assert waiting.waiting and waiting.since == "2026-12-07"
    assert waiting.why == f"source {MS} has {NEW}, not listed in northeurope yet"
    result = plan(desired, observed, DEC)
    assert not [d for d in result.diagnostics if d.reason == RELEASE_BLOCKED], "a wait is no warning"
    text = render(result, "text", colour=False)
    assert "Releases waiting:" in text and f"has {NEW}, not listed in northeurope yet" in text, text


def test_once_every_region_lists_it_the_release_pins_it(load):
    desired, observed = two_regions(load)
    [due] = evaluate(desired, listed(observed, westeurope=(OLD, NEW), northeurope=(NEW, OLD)), DEC).due
    assert due.document["spec"]["source"]["sourceVersion"] == NEW and due.version == "1.6.0"


def test_a_release_due_for_another_reason_pins_what_every_region_lists(load):
    newer = "26100.3000.261214"
    desired, observed = two_regions(load)
    [due] = evaluate(desired, listed(observed, westeurope=(OLD, NEW, newer), northeurope=(OLD, NEW)), DEC).due
    assert due.document["spec"]["source"]["sourceVersion"] == NEW
    assert due.reasons[-1] == f"{newer} is not listed in northeurope yet, so {NEW} is pinned"
