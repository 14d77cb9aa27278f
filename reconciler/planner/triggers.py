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
before it exists. A release never pins `latest`: when the source's versions are unknown nothing is written.

A due build is not an Azure change (git must get the new version first), so `plan` shows it as a note (a no-op
change with reason code `release-due`) and `plan --detailed-exitcode` does not exit 2 for it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from reconciler.model.marketplace import MarketplaceSku, published_on, sku_key, version_order
from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity
from reconciler.planner.bodies import content_hash
from reconciler.planner.diff import Outcome
from reconciler.spec.cron import last_fire
from reconciler.spec.desired import DesiredState
from reconciler.spec.models.image_build import VERSIONING_DATE
from reconciler.spec.naming import version_key
from reconciler.spec.state import ImageBuild, ImageDefinition

RELEASED_TAG = "avd-reconciler-released"
SOURCE_TAG = "avd-reconciler-source"
RECIPE_TAG = "avd-reconciler-recipe"
TRIGGER_TAG = "avd-reconciler-trigger"
RELEASE_DUE = str(ChangeReason.RELEASE_DUE)
RELEASE_BLOCKED = "release-blocked"
_INT32 = 2**31 - 1


@dataclass(frozen=True)
class DueBuild:
    """One build that is due: its new version's number and document, and why (one line per trigger)."""

    build: str
    definition: ImageDefinition
    version: str
    triggers: tuple[str, ...]  # "schedule", "sourceImageUpdate", "recipeChange"
    reasons: tuple[str, ...]
    source: str  # e.g. "MicrosoftWindowsDesktop/office-365/win11-24h2-avd-m365/26100.2605.241207"
    at: datetime
    document: dict[str, Any] = field(repr=False)
    origin: str = ""

    @property
    def summary(self) -> str:
        return f"ImageBuild {self.build}: {'; '.join(self.reasons)}; next version {self.version}"


@dataclass(frozen=True)
class TriggerReport:
    due: tuple[DueBuild, ...] = ()
    blocked: tuple[tuple[str, str, str], ...] = ()  # (build name, origin, why): due but cannot be released

    def outcome(self, desired: DesiredState) -> Outcome:
        """For `plan`: each due build as a note (a no-op change, reason RELEASE_DUE: git gets the version
        first, so it is no Azure change and `--detailed-exitcode` stays 0), each blocked one as a warning."""
        out = Outcome()
        for d in self.due:
            out.changes.append(
                Change(
                    Action.NO_OP,
                    "image-version",
                    f"{d.definition.arm_id}/versions/{d.version}",
                    f"{d.origin}: release due: {d.summary} (`reconcile release` writes it)",
                    details={"release": d.document},
                    reason_code=ChangeReason.RELEASE_DUE,
                )
            )
        for name, origin, why in self.blocked:
            build = desired.image_build(name)
            out.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    build.arm_id if build else name,
                    f"{origin}: release of {name} blocked: {why}",
                    RELEASE_BLOCKED,
                )
            )
        return out


def due_builds(desired: DesiredState, observed: Observed, now: datetime) -> list[DueBuild]:
    return list(evaluate(desired, observed, now).due)


def evaluate(
    desired: DesiredState, observed: Observed, now: datetime, only: str | None = None
) -> TriggerReport:
    due: list[DueBuild] = []
    blocked: list[tuple[str, str, str]] = []
    # Two builds releasing into one definition in one pass get distinct numbers.
    taken: dict[str, set[str]] = {}
    for build in sorted(desired.image_builds, key=lambda b: b.name):
        if (only and build.name != only) or build.spec.effective_triggers is None:
            continue
        result = _evaluate_build(desired, observed, now, build, taken)
        if isinstance(result, DueBuild):
            due.append(result)
            taken.setdefault(result.definition.key, set()).add(result.version)
        elif result:
            blocked.append((build.name, build.origin("spec.release"), result))
    return TriggerReport(tuple(due), tuple(blocked))


def marketplace_skus(desired: DesiredState) -> list[MarketplaceSku]:
    """The SKUs to list: each triggered build's platform source on `latest`, in the build's region."""
    out = []
    for build in desired.image_builds:
        p = build.spec.source.platform_image
        if build.spec.effective_triggers is None or p is None or p.version != "latest":
            continue
        out.append(MarketplaceSku(build.subscription_id, build.location, p.publisher, p.offer, p.sku))
    return out


def recipe_hash(build: ImageBuild) -> str:
    """What makes a build's output: source, steps, VM, timeouts, identity; not its triggers, release or tags."""
    recipe = build.spec.model_dump(
        by_alias=True,
        mode="json",
        include={
            "source",
            "customize",
            "vm_size",
            "os_disk_size_gb",
            "subnet_id",
            "build_timeout",
            "staging_resource_group",
            "identity",
        },
    )
    return content_hash(recipe)


# -- one build --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    label: str  # publisher/offer/sku, or the definition key, or the version id
    newest: str | None  # resolved version (None: unknown)
    published: date | None
    floating: bool  # on `latest`: what the release must pin


def _evaluate_build(desired, observed, now, build, taken) -> DueBuild | str | None:
    spec = build.spec
    triggers, release = spec.effective_triggers, spec.release
    definition = desired.image_definition(release.definition)
    if definition is None:
        return f"spec.release.definition {release.definition!r} names no (single) ImageDefinition"
    built = sorted(desired.versions_built_by(build), key=lambda v: v.sort_key)
    newest = built[-1] if built else None
    observed_newest = observed.image_versions.get(norm_id(newest.arm_id)) if newest else None
    tags = {**(observed_newest.tags if observed_newest else {}), **(newest.tags if newest else {})}
    released = _parse_time(tags.get(RELEASED_TAG))
    if released is None and observed_newest is not None and observed_newest.provisioning_state == "Succeeded":
        released = observed_newest.published_date
    if newest is not None and released is None:
        return None  # declared, not built yet: pending, nothing stacks on it
    source = _resolve_source(desired, observed, build, definition)
    checks = (
        ("schedule", triggers.schedule is not None and _schedule_fired(triggers.schedule, released, now)),
        ("sourceImageUpdate", triggers.source_image_update and _source_moved(source, tags, newest, released)),
        ("recipeChange", triggers.recipe_change and _recipe_changed(build, tags, newest)),
    )
    fired = [name for name, why in checks if why]
    reasons = [why for _, why in checks if why]
    if not fired:
        return None
    if source.floating and source.newest is None:
        return f"{'; '.join(reasons)}, but no version of source {source.label} is known (never released as latest)"
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
        return f"{'; '.join(reasons)}, but {exc}"
    resolved = f"{source.label}/{source.newest}" if source.newest else source.label
    doc = version_document(build, number, fired, reasons, resolved, source, now)
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


def _schedule_fired(schedule, released: datetime | None, now: datetime) -> str | None:
    at = last_fire(schedule.cron, schedule.time_zone, now)
    if at is None or (released is not None and at <= released):
        return None
    return f"schedule {schedule.cron} ({schedule.time_zone}) fired at {at.isoformat()}"


def _source_moved(source: _Source, tags, newest, released: datetime | None) -> str | None:
    if source.newest is None:
        return None
    before = _tagged_source_version(tags.get(SOURCE_TAG), source.label)
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


def _tagged_source_version(tag: str | None, label: str) -> str | None:
    """The version out of a SOURCE_TAG value, when it names the same source (a changed source is a recipe
    change, not a source update)."""
    if not tag or "/" not in tag:
        return None
    head, _, version = tag.rpartition("/")
    return version if head.lower() == label.lower() else None


def _resolve_source(desired, observed, build, definition) -> _Source:
    src = build.spec.source
    if src.platform_image is not None:
        p = src.platform_image
        label = f"{p.publisher}/{p.offer}/{p.sku}"
        if p.version != "latest":
            return _Source(label, p.version, published_on(p.version), False)
        found = observed.marketplace.get(sku_key(build.location, p.publisher, p.offer, p.sku))
        newest = found.newest if found else None
        return _Source(label, newest, published_on(newest) if newest else None, True)
    if src.image_version_id is not None:
        head, _, version = src.image_version_id.rstrip("/").rpartition("/versions/")
        return _Source(head, version, None, False)
    ref = src.image_version
    # As version_build.build_source resolves it: the same gallery as the definition the versions go into.
    name = ref.definition.split("/")[-1]
    definition_id = f"{definition.gallery.arm_id}/images/{name}"
    label = f"{definition.gallery.name}/{name}"
    if ref.version != "latest":
        return _Source(label, ref.version, None, False)
    usable = [
        v
        for v in observed.versions_of(definition_id)
        if v.provisioning_state == "Succeeded" and not v.exclude_from_latest
    ]
    if not usable:
        return _Source(label, None, None, True)
    best = max(usable, key=lambda v: version_order(v.name))
    published = best.published_date.date() if best.published_date else None
    return _Source(label, best.name, published, True)


def next_version(
    desired, observed, definition, scheme: str, now: datetime, zone: ZoneInfo, taken: set[str] = frozenset()
) -> str:
    """The next number: after the newest declared (or existing) version, or year.month.n in `zone`.
    Raises ValueError when a part would pass 32 bits (Azure's limit for each part)."""
    names = {v.name for v in desired.versions_of(definition)} | set(taken)
    names |= {v.name for v in observed.versions_of(definition.arm_id)}
    keys = sorted(version_key(n) for n in names if _is_version(n))
    if scheme == VERSIONING_DATE:
        local = now.astimezone(zone)
        same_month = [k[2] for k in keys if k[0] == local.year and k[1] == local.month]
        candidate = (local.year, local.month, max(same_month, default=0) + 1)
    else:
        major, minor, _ = keys[-1] if keys else (1, -1, 0)
        candidate = (major, minor + 1, 0)
    if max(candidate) > _INT32:
        raise ValueError(f"the next version {'.'.join(map(str, candidate))} has a part beyond 32 bits")
    return ".".join(map(str, candidate))


def _is_version(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)


def version_document(
    build, number, fired, reasons, resolved, source: _Source, now: datetime
) -> dict[str, Any]:
    """The ImageVersion document `reconcile release` writes (YAML names, as a person would write it)."""
    release = build.spec.release
    spec: dict[str, Any] = {"definition": release.definition, "source": {"build": build.name}}
    if source.floating:
        spec["source"]["sourceVersion"] = source.newest
    spec["targetRegions"] = [
        r.model_dump(by_alias=True, exclude_defaults=True, mode="json") for r in release.target_regions
    ]
    spec["replicaCount"] = release.replica_count
    spec["storageAccountType"] = release.storage_account_type
    spec["excludeFromLatest"] = release.exclude_from_latest
    if release.end_of_life_after is not None:
        spec["endOfLifeDate"] = (now + release.end_of_life_after).date().isoformat()
    spec["tags"] = {
        **release.tags,
        RELEASED_TAG: now.isoformat(),
        SOURCE_TAG: resolved,
        RECIPE_TAG: recipe_hash(build),
        TRIGGER_TAG: ",".join(fired),
    }
    return {
        "apiVersion": "avd.reconciler.io/v1alpha1",
        "kind": "ImageVersion",
        "metadata": {
            "name": number,
            "annotations": {
                "release.avd.reconciler.io/trigger": "; ".join(reasons),
                "release.avd.reconciler.io/source": resolved,
                "release.avd.reconciler.io/released-at": now.isoformat(),
            },
        },
        "spec": spec,
    }


def release_folder(definition: ImageDefinition) -> str:
    """Where released versions live under desired/: versions/<definition>/ (the loader reads it recursively)."""
    return f"versions/{definition.name}"
