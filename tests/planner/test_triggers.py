"""Build triggers as pure decisions: due_builds(desired, observed, now) with its reasons and the next number."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from support.estate import converged
from support.image_estate import MARKETPLACE
from support.image_estate import build_doc as image_build_doc

from reconciler.model.marketplace import MarketplaceSku, MarketplaceVersions
from reconciler.model.plan import Action
from reconciler.planner import plan
from reconciler.planner.triggers import (
    RECIPE_TAG,
    RELEASE_DUE,
    RELEASED_TAG,
    SOURCE_TAG,
    due_builds,
    evaluate,
    recipe_hash,
)

from .conftest import DEF_ID, GALLERY_ID, SUB, base_docs, observed_from  # noqa: F401
from .docs import DEFINITION, GALLERY, SETTINGS

MS = MARKETPLACE


def build_doc(
    triggers: str = "{sourceImageUpdate: true}",
    versioning: str = "'{major}.{minor+1}.0'",
    step: str = "hello",
) -> str:
    release = (
        f"{{definition: win11, versioning: {versioning}, targetRegions: [{{name: westeurope, replicaCount: 2}}], "
        "excludeFromLatest: true, endOfLifeAfter: 90d}"
    )
    return image_build_doc(step=step, script="Write-Output hi", triggers=triggers, release=release)


def built_version(name: str, tags: dict[str, str] | None = None) -> str:
    tag_text = ", ".join(f"{k}: '{v}'" for k, v in (tags or {}).items())
    return f"""
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "{name}"}}
spec:
  definition: win11
  source: {{build: monthly}}
  targetRegions: [{{name: westeurope}}]
  tags: {{{tag_text}}}
"""


def with_market(observed, *versions: str):
    sku = MarketplaceSku(SUB, "westeurope", *MS.split("/"))
    return dataclasses.replace(observed, marketplace={sku.key: MarketplaceVersions.of(sku, versions)})


def estate(load, *docs, built_at: datetime, skip=()):
    desired = load([SETTINGS, GALLERY, DEFINITION, *docs])
    keys = {f"gal1/win11/{s}" for s in skip}
    return desired, observed_from(converged(desired, built_at, skip_versions=keys), built_at)


NOV = datetime(2026, 11, 20, tzinfo=UTC)
DEC = datetime(2026, 12, 15, tzinfo=UTC)


def test_source_moved_names_both_versions_and_the_next_number(load):
    desired, observed = estate(
        load, build_doc(), built_version("1.5.0", {SOURCE_TAG: f"{MS}/26100.2314.261107"}), built_at=NOV
    )
    observed = with_market(observed, "26100.2314.261107", "26100.2605.261207", "26100.999.240101")
    [due] = due_builds(desired, observed, DEC)
    assert due.version == "1.6.0"
    assert due.triggers == ("sourceImageUpdate",)
    assert due.reasons == (f"source {MS} moved 26100.2314.261107 → 26100.2605.261207 (published 2026-12-07)",)
    assert due.summary.endswith("next version 1.6.0")
    spec = due.document["spec"]
    assert spec["source"] == {"build": "monthly", "sourceVersion": "26100.2605.261207"}, (
        "pinned, never latest"
    )
    assert spec["tags"][SOURCE_TAG] == f"{MS}/26100.2605.261207"
    assert spec["tags"][RECIPE_TAG] == recipe_hash(desired.image_build("monthly"))
    assert spec["targetRegions"] == [{"name": "westeurope", "replicaCount": 2}]
    assert spec["excludeFromLatest"] is True and spec["endOfLifeDate"] == "2027-03-15"


def test_same_source_and_recipe_is_not_due(load):
    b = build_doc("{sourceImageUpdate: true, recipeChange: true}")
    desired, _ = estate(load, b, built_at=NOV)
    tags = {SOURCE_TAG: f"{MS}/26100.2605.261207", RECIPE_TAG: recipe_hash(desired.image_build("monthly"))}
    desired, observed = estate(load, b, built_version("1.5.0", tags), built_at=NOV)
    assert due_builds(desired, with_market(observed, "26100.2605.261207"), DEC) == []


def test_numeric_not_string_order_of_marketplace_versions(load):
    desired, observed = estate(
        load, build_doc(), built_version("1.5.0", {SOURCE_TAG: f"{MS}/26100.999.240101"}), built_at=NOV
    )
    # As strings "26100.999" > "26100.2605"; as numbers it is older.
    [due] = due_builds(desired, with_market(observed, "26100.999.240101", "26100.2605.261207"), DEC)
    assert due.document["spec"]["source"]["sourceVersion"] == "26100.2605.261207"


def test_hand_written_version_uses_its_publish_date(load):
    desired, observed = estate(load, build_doc(), built_version("1.5.0"), built_at=NOV)
    [due] = due_builds(desired, with_market(observed, "26100.2605.261207"), DEC)
    assert due.reasons == (f"source {MS} has 26100.2605.261207 (published 2026-12-07), newer than 1.5.0",)
    assert due_builds(desired, with_market(observed, "26100.2314.261107"), DEC) == []


def test_declared_version_not_built_yet_is_pending(load):
    desired, observed = estate(load, build_doc(), built_version("1.5.0"), built_at=NOV, skip=("1.5.0",))
    assert due_builds(desired, with_market(observed, "26100.2605.261207"), DEC) == []


def test_schedule_fires_after_the_newest_release(load):
    b = build_doc(
        "{schedule: {cron: '@patch-tuesday+1d 04:00', timeZone: Europe/Amsterdam}, recipeChange: false}"
    )
    released = {RELEASED_TAG: "2026-11-11T03:00:00+00:00"}
    desired, observed = estate(load, b, built_version("1.5.0", released), built_at=NOV)
    observed = with_market(observed, "26100.2605.261207")
    assert due_builds(desired, observed, datetime(2026, 12, 9, 2, 59, tzinfo=UTC)) == []
    [due] = due_builds(desired, observed, datetime(2026, 12, 9, 3, 0, tzinfo=UTC))
    assert due.triggers == ("schedule",)
    assert due.reasons == (
        "schedule @patch-tuesday+1d 04:00 (Europe/Amsterdam) fired at 2026-12-09T04:00:00+01:00",
    )


def test_recipe_change_since_the_newest_version(load):
    old = build_doc("{}", step="hello")
    desired, _ = estate(load, old, built_at=NOV)
    tags = {RECIPE_TAG: recipe_hash(desired.image_build("monthly"))}
    desired, observed = estate(
        load, build_doc("{}", step="changed"), built_version("1.5.0", tags), built_at=NOV
    )
    [due] = due_builds(desired, with_market(observed, "26100.2605.261207"), DEC)
    assert due.reasons == ("recipe changed since 1.5.0",) and due.version == "1.6.0"
    # Triggers and the release template are not the recipe.
    assert recipe_hash(desired.image_build("monthly")) != tags[RECIPE_TAG]
    same, _ = estate(load, build_doc("{sourceImageUpdate: true}", step="hello"), built_at=NOV)
    assert recipe_hash(same.image_build("monthly")) == tags[RECIPE_TAG]


def test_first_release_and_a_latest_source_never_pinned_blind(load):
    desired, observed = estate(load, build_doc("{}"), built_at=NOV)
    report = evaluate(desired, observed, DEC)
    assert report.due == () and "no version of source" in report.blocked[0].why
    [due] = due_builds(desired, with_market(observed, "26100.2605.261207"), DEC)
    assert due.reasons == ("no version built from ImageBuild monthly yet",) and due.version == "1.0.0"


@pytest.mark.parametrize(
    ("existing", "now", "expected"),
    [
        (("2026.11.1", "2026.12.1"), DEC, "2026.12.2"),
        (("2026.11.1",), DEC, "2026.12.1"),
        ((), datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027.1.1"),
    ],
)
def test_date_versioning(load, existing, now, expected):
    b = build_doc(
        "{sourceImageUpdate: true, schedule: {cron: '0 0 * * *', timeZone: Europe/Amsterdam}}",
        versioning="'{yyyy}.{mm}.{n}'",
    )
    tags = {SOURCE_TAG: f"{MS}/26100.1.240101", RELEASED_TAG: "2026-01-01T00:00:00+00:00"}
    desired, observed = estate(load, b, *(built_version(v, tags) for v in existing), built_at=NOV)
    [due] = due_builds(desired, with_market(observed, "26100.2605.261207"), now)
    assert due.version == expected


def test_plan_shows_release_due_as_a_note_not_a_change(load):
    desired, observed = estate(
        load, build_doc(), built_version("1.5.0", {SOURCE_TAG: f"{MS}/26100.2314.261107"}), built_at=NOV
    )
    result = plan(desired, with_market(observed, "26100.2605.261207"), DEC)
    [note] = [c for c in result.changes if c.reason_code == RELEASE_DUE]
    assert note.action is Action.NO_OP and note.resource_id.endswith("/versions/1.6.0")
    assert "release due: ImageBuild monthly: source " in note.reason and "next version 1.6.0" in note.reason
    assert note.details["release"]["spec"]["source"]["sourceVersion"] == "26100.2605.261207"
    assert not result.has_changes and not result.has_errors and result.diagnostics == ()


def test_builds_without_release_are_not_evaluated(load):
    desired, observed = estate(load, *base_docs()[3:-1], built_at=NOV)
    assert evaluate(desired, observed, DEC + timedelta(days=400)).due == ()


def test_renderers_label_a_due_release(load):
    from reconciler.render import render

    desired, observed = estate(
        load, build_doc(), built_version("1.5.0", {SOURCE_TAG: f"{MS}/26100.2314.261107"}), built_at=NOV
    )
    result = plan(desired, with_market(observed, "26100.2605.261207"), DEC)
    text = render(result, "text", colour=False)
    assert "Releases due (run `reconcile release`" in text and "+ image-version 1.6.0: " in text
    assert "**Releases due**" in render(result, "markdown")
    assert '"reason_code": "release-due"' in render(result, "json")


def test_a_part_beyond_32_bits_blocks_the_release(load):
    desired, observed = estate(
        load,
        build_doc(),
        built_version("1.2147483647.0", {SOURCE_TAG: f"{MS}/26100.2314.261107"}),
        built_at=NOV,
    )
    report = evaluate(desired, with_market(observed, "26100.2605.261207"), DEC)
    assert report.due == () and "1.2147483648.0 has a part beyond 32 bits" in report.blocked[0].why


BASE_DEFINITION = DEFINITION.replace("name: win11}", "name: base}").replace("offer: O", "offer: B")


def test_gallery_source_moves_to_the_newest_version_not_excluded_from_latest(load):
    b = build_doc().replace(
        "source: {platformImage: {publisher: MicrosoftWindowsDesktop, offer: office-365, sku: win11-24h2-avd-m365}}",
        "source: {imageVersion: {definition: base}}",
    )
    base_versions = [
        f'''
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {{name: "{n}"}}
spec:
  definition: base
  source: {{managedImageId: {GALLERY_ID.rsplit("/providers", 1)[0]}/providers/Microsoft.Compute/images/src-{n.replace(".", "-")}}}
  targetRegions: [{{name: westeurope}}]
  excludeFromLatest: {str(n == "3.0.0").lower()}
'''
        for n in ("1.0.0", "2.0.0", "3.0.0")
    ]
    desired, observed = estate(
        load,
        BASE_DEFINITION,
        *base_versions,
        b,
        built_version("1.5.0", {SOURCE_TAG: "gal1/base/1.0.0"}),
        built_at=NOV,
    )
    [due] = due_builds(desired, observed, DEC)
    assert due.reasons == ("source gal1/base moved 1.0.0 → 2.0.0 (published 2026-11-20)",), (
        "3.0.0 is excluded from latest"
    )
    assert due.document["spec"]["source"] == {"build": "monthly", "sourceVersion": "2.0.0"}
