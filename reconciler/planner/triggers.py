"""Build triggers: which ImageBuilds are due for a new version, why, and the ImageVersion document to write.

`due_builds(desired, observed, now)` is pure (no I/O, no clock). A build takes part when it has a `release`
template (`ImageBuild.spec.release`); its triggers (`spec.triggers`, default `recipeChange`) are compared with
the newest declared version built from it, through the tags `reconcile release` writes on that version (its
spec.tags, which apply also PATCHes onto the Azure version):
  RELEASED_TAG  when it was released      → schedule: due when the schedule fired after that
  SOURCE_TAG    the resolved source       → sourceImageUpdate: due when the source's newest version is newer
  RECIPE_TAG    the recipe's hash         → recipeChange: due when the build's recipe hashes differently now
A hand-written version carries none of them: then its Azure publish date stands in for the release time, the
source counts as moved only when the newest source was published after it, and the recipe is taken as its own
(nothing to compare with). A declared version not yet built and without tags is pending: nothing is due
before it exists; a released one not yet built (or whose build failed) holds the next release back
(`waiting`). A release never pins `latest`: when the source's versions are unknown nothing is written.

A due build that cannot be released is blocked (why, since when, what unblocks it): no known source version,
a number past 32 bits, or a version that would push a pool's explicit pin out of retention (validation would
refuse the tree). One that waits for the marketplace to list its source in every target region is `waiting`.

Here: the decision per build. Elsewhere: the source (`trigger_source`), the number and document
(`trigger_version`), the results (`trigger_model`), the plan notes and reading them back (`trigger_notes`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from reconciler.model.marketplace import published_on, version_order
from reconciler.model.observed import Observed, norm_id
from reconciler.planner.diff import Outcome
from reconciler.planner.trigger_model import BlockedRelease, DueBuild
from reconciler.planner.trigger_notes import RELEASE_BLOCKED, RELEASE_DUE, plan_notes
from reconciler.planner.trigger_source import Source, marketplace_skus, resolve_source, tagged_source_version
from reconciler.planner.trigger_version import (
    RECIPE_TAG,
    RELEASED_TAG,
    SOURCE_TAG,
    TRIGGER_TAG,
    next_version,
    recipe_hash,
    release_folder,
    version_document,
)
from reconciler.spec.cron import last_fire
from reconciler.spec.desired import DesiredState
from reconciler.spec.naming import version_key

__all__ = [
    "RECIPE_TAG",
    "RELEASED_TAG",
    "RELEASE_BLOCKED",
    "RELEASE_DUE",
    "SOURCE_TAG",
    "TRIGGER_TAG",
    "BlockedRelease",
    "DueBuild",
    "TriggerReport",
    "due_builds",
    "evaluate",
    "marketplace_skus",
    "next_version",
    "recipe_hash",
    "release_folder",
]


@dataclass(frozen=True)
class TriggerReport:
    due: tuple[DueBuild, ...] = ()
    blocked: tuple[BlockedRelease, ...] = ()  # due, but cannot be released

    def outcome(self, desired: DesiredState) -> Outcome:
        """For `plan`: the due and blocked releases as notes (see `trigger_notes`)."""
        return plan_notes(self.due, self.blocked, desired)


def due_builds(desired: DesiredState, observed: Observed, now: datetime) -> list[DueBuild]:
    return list(evaluate(desired, observed, now).due)


def evaluate(
    desired: DesiredState, observed: Observed, now: datetime, only: str | None = None
) -> TriggerReport:
    due: list[DueBuild] = []
    blocked: list[BlockedRelease] = []
    # Two builds releasing into one definition in one pass get distinct numbers.
    taken: dict[str, set[str]] = {}
    for build in sorted(desired.image_builds, key=lambda b: b.name):
        if (only and build.name != only) or build.spec.effective_triggers is None:
            continue
        result = _evaluate_build(desired, observed, now, build, taken)
        if isinstance(result, DueBuild):
            due.append(result)
            taken.setdefault(result.definition.key, set()).add(result.version)
        elif result is not None:
            blocked.append(result)
    return TriggerReport(tuple(due), tuple(blocked))


# -- one build --------------------------------------------------------------------------------------------


def _evaluate_build(desired, observed, now, build, taken) -> DueBuild | BlockedRelease | None:
    spec = build.spec
    triggers, release = spec.effective_triggers, spec.release
    origin = build.origin("spec.release")
    definition = desired.image_definition(release.definition)
    if definition is None:
        return BlockedRelease(
            build.name,
            origin,
            f"spec.release.definition {release.definition!r} names no (single) ImageDefinition",
            "declare that ImageDefinition, or name one (gallery/definition) in spec.release.definition",
        )
    built = sorted(desired.versions_built_by(build), key=lambda v: v.sort_key)
    newest = built[-1] if built else None
    observed_newest = observed.image_versions.get(norm_id(newest.arm_id)) if newest else None
    tags = {**(observed_newest.tags if observed_newest else {}), **(newest.tags if newest else {})}
    released = _parse_time(tags.get(RELEASED_TAG))
    if released is None and observed_newest is not None and observed_newest.provisioning_state == "Succeeded":
        released = observed_newest.published_date
    if newest is not None and released is None:
        return None  # declared, not built yet: pending, nothing stacks on it
    source = resolve_source(desired, observed, build, definition)
    slot = last_fire(triggers.schedule.cron, triggers.schedule.time_zone, now) if triggers.schedule else None
    checks = (
        ("schedule", _schedule_fired(triggers.schedule, slot, released)),
        ("sourceImageUpdate", triggers.source_image_update and _source_moved(source, tags, newest, released)),
        ("recipeChange", triggers.recipe_change and _recipe_changed(build, tags, newest)),
    )
    fired = [name for name, why in checks if why]
    reasons = [why for _, why in checks if why]
    lag = _lag(source, tags, newest, released) if triggers.source_image_update else None
    if not fired:
        return BlockedRelease(build.name, origin, *lag, waiting=True) if lag else None
    if newest is not None and (observed_newest is None or observed_newest.provisioning_state != "Succeeded"):
        # One release at a time: the next would supersede a version nobody has seen pass, built from the same
        # recipe (whose failure may need a change), and its template would contend for the staging group.
        return BlockedRelease(
            build.name,
            origin,
            f"{'; '.join(reasons)}, but the last release {newest.name} is not built yet",
            f"apply builds {newest.name}; if its build failed, change the recipe (`reconcile status` says why), "
            f"and to build the newest source rather than the one {newest.name} pinned, delete {newest.file} in "
            "the same commit: the next release takes the number again",
            _since(fired, slot, source),
            waiting=True,
        )
    if lag:
        reasons.append(
            f"{source.ahead} is not listed in {', '.join(source.lagging)} yet, so {source.newest} is pinned"
        )
    since = _since(fired, slot, source)
    if source.floating and source.newest is None and source.ahead:
        return BlockedRelease(
            build.name,
            origin,
            f"{'; '.join(reasons)}, but no version of source {source.label} is listed in every target region "
            f"({', '.join(source.lagging)} lack {source.ahead})",
            f"wait until the marketplace lists it in {', '.join(source.lagging)}, or drop those from "
            "spec.release.targetRegions",
            since,
        )
    if source.floating and source.newest is None:
        return BlockedRelease(
            build.name,
            origin,
            f"{'; '.join(reasons)}, but no version of source {source.label} is known (never released as latest)",
            f"the source must list a version in {build.location} (check its name and region), or pin "
            "spec.source's version",
            since,
        )
    try:
        number = next_version(
            desired,
            observed,
            definition,
            release.versioning,
            now,
            _zone(triggers),
            taken.get(definition.key, set()),
        )
    except ValueError as exc:
        return BlockedRelease(
            build.name,
            origin,
            f"{'; '.join(reasons)}, but {exc}",
            "declare the next major version (say 2.0.0) by hand, or switch spec.release.versioning",
            since,
        )
    pushed_out = _pushes_out_a_pin(desired, definition, number)
    if pushed_out:
        why, unblock = pushed_out
        return BlockedRelease(build.name, origin, f"{'; '.join(reasons)}, but {why}", unblock, since, number)
    resolved = f"{source.label}/{source.newest}" if source.newest else source.label
    doc = version_document(
        build, number, fired, reasons, resolved, source.newest if source.floating else None, now
    )
    return DueBuild(
        build.name,
        definition,
        number,
        tuple(fired),
        tuple(reasons),
        resolved,
        now,
        doc,
        build.origin("spec.triggers"),
    )


def _lag(source: Source, tags, newest, released) -> tuple[str, str, str] | None:
    """(why, unblock, since) when the marketplace has a newer source version that some target region does not
    list yet and that version would move the source: the release waits for it (nothing to do but wait)."""
    if not source.ahead:
        return None
    ahead = replace(source, newest=source.ahead, published=published_on(source.ahead))
    if not _source_moved(ahead, tags, newest, released):
        return None
    published = ahead.published.isoformat() if ahead.published else None
    why = f"source {source.label} has {source.ahead}, not listed in {', '.join(source.lagging)} yet"
    return why, "none needed: the release follows once every target region lists it", published


def _since(fired, slot: datetime | None, source) -> str | None:
    """When the build became due: the earliest known moment among the triggers that fired."""
    moments = []
    if "schedule" in fired and slot is not None:
        moments.append(slot.astimezone(UTC))
    if "sourceImageUpdate" in fired and source.published is not None:
        moments.append(datetime.combine(source.published, datetime.min.time(), UTC))
    return min(moments).isoformat() if moments else None


def _pushes_out_a_pin(desired, definition, number: str) -> tuple[str, str] | None:
    """(why, what unblocks it) when the new version would push a version a pool pins explicitly out of the
    definition's retention: validation refuses such a tree, so git must not get it (the rule is
    spec.crossref's pin check; checked here so that plan says so before anything is written)."""
    retention = definition.spec.retention
    if not retention.delete_after_end_of_life:
        return None
    names = sorted(
        {v.name for v in desired.versions_of(definition)} | {number}, key=version_key, reverse=True
    )
    kept = set(names[: retention.keep_newest])
    for pool in sorted(desired.host_pools, key=lambda p: p.name):
        if pool.definition.key != definition.key or pool.pinned == "latest" or pool.pinned in kept:
            continue
        if pool.pinned not in names:
            continue  # an undeclared pin is a validation error of its own
        why = (
            f"with {number}, retention of {definition.key} keeps only the newest {retention.keep_newest} and "
            f"host pool {pool.name}'s pin {pool.pinned} would be deleted"
        )
        unblock = (
            f"move host pool {pool.name}'s pin to a newer version (or `latest`), or raise keepNewest of "
            f"{definition.key} to {retention.keep_newest + 1}"
        )
        return why, unblock
    return None


def _schedule_fired(schedule, at: datetime | None, released: datetime | None) -> str | None:
    if schedule is None or at is None or (released is not None and at <= released):
        return None
    return f"schedule {schedule.cron} ({schedule.time_zone}) fired at {at.isoformat()}"


def _source_moved(source: Source, tags, newest, released: datetime | None) -> str | None:
    if source.newest is None:
        return None
    before = tagged_source_version(tags.get(SOURCE_TAG), source.label)
    published = f" (published {source.published.isoformat()})" if source.published else ""
    if before is not None:
        if version_order(source.newest) > version_order(before):
            return f"source {source.label} moved {before} → {source.newest}{published}"
        return None
    # A hand-written version: no source recorded, so compare dates (the source's against its publish).
    if (
        newest is not None
        and released is not None
        and source.published
        and source.published > released.date()
    ):
        return f"source {source.label} has {source.newest}{published}, newer than {newest.name}"
    return None


def _recipe_changed(build, tags, newest) -> str | None:
    if newest is None:
        return f"no version built from ImageBuild {build.name} yet"
    if tags.get(RECIPE_TAG) not in (None, recipe_hash(build)):
        return f"recipe changed since {newest.name}"
    return None


def _zone(triggers) -> ZoneInfo:
    return ZoneInfo(triggers.schedule.time_zone if triggers.schedule else "UTC")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None
