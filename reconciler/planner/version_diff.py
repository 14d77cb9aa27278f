"""A declared version against what Azure holds: create it (or build it), update or adopt it, repair one a failed
write left `Failed`, refuse a change to a field Azure never lets change, then plan its replication."""

from __future__ import annotations

from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key, coded
from reconciler.planner.bodies import version_body
from reconciler.planner.context import Context
from reconciler.planner.diff import Outcome, compare
from reconciler.planner.replication import plan_replication
from reconciler.planner.version_build import plan_build, source_version_deps

# Fields Azure never lets change on a version: a new source means a new version number.
VERSION_IMMUTABLE = (
    "/properties/storageProfile",
    "/properties/publishingProfile/replicationMode",
    "/properties/publishingProfile/storageAccountType",
)
# Managed by retention once a version is superseded, so the declared defaults must not flip them back.
RETENTION_FIELDS = (
    "/properties/publishingProfile/excludeFromLatest",
    "/properties/publishingProfile/endOfLifeDate",
)


def source_id(version) -> str | None:
    """What a copied version is made from (None: Image Builder makes it)."""
    s = version.spec.source
    return s.managed_image_id or s.virtual_machine_id or s.snapshot_id or s.image_version_id


def plan_declared(ctx: Context, version, observed, superseded: bool, out: Outcome) -> None:
    label = f"ImageVersion {version.key}"
    body = version_body(version, source_id(version))
    if observed is None:
        parents = (version.definition.arm_id, version.definition.gallery.arm_id)
        deps = tuple(change_key(a, p) for p in parents for a in (Action.CREATE, Action.REPLACE))
        deps += source_version_deps(version)
        if version.build is None:
            out.changes.append(
                Change(
                    Action.CREATE,
                    "image-version",
                    version.arm_id,
                    f"{version.origin('spec')}: {label} is declared but does not exist",
                    after=body,
                    depends_on=deps,
                    reason_code=ChangeReason.MISSING,
                )
            )
        else:
            plan_build(ctx, version, deps, out)
        return
    ignore = ["/properties/publishingProfile/targetRegions"]
    if superseded:
        ignore += RETENTION_FIELDS
    if version.build is not None:
        ignore.append("/properties/storageProfile")
        if "replicationMode" not in ((observed.raw.get("properties") or {}).get("publishingProfile") or {}):
            ignore.append("/properties/publishingProfile/replicationMode")  # Image Builder set it from ours
    comparison = compare(observed.raw, body, ignore)
    frozen = comparison.touches(VERSION_IMMUTABLE)
    if frozen:
        fields = ", ".join(p.rsplit("/", 1)[-1] for p in frozen)
        out.diagnostics.append(
            Diagnostic(
                Severity.ERROR,
                version.arm_id,
                f"{label}: {fields} cannot change on an existing version; "
                "publish a new version number instead",
                version.origin("spec.source"),
            )
        )
    elif _left_failed(observed) and not _deleted_in(out, version.arm_id):
        out.changes.append(_repair(ctx, version, observed, comparison, label))
    else:
        action = Action.UPDATE if ctx.owned(observed) else Action.ADOPT
        if comparison.patch or action is Action.ADOPT:
            what = ", ".join(comparison.changed_paths) or "ownership tag"
            differ = "differ" if len(comparison.changed_paths) > 1 else "differs"
            code = (
                coded(ChangeReason.DRIFT, *comparison.changed_paths)
                if action is Action.UPDATE
                else ChangeReason.UNOWNED
            )
            out.changes.append(
                Change(
                    action,
                    "image-version",
                    version.arm_id,
                    f"{version.origin('spec')}: {label}: {what} {differ} from desired",
                    before=comparison.before,
                    after=comparison.after,
                    patch=comparison.patch,
                    fingerprint=observed.fingerprint,
                    reason_code=code,
                )
            )
    replication = plan_replication(
        version, observed, body["properties"]["publishingProfile"]["targetRegions"]
    )
    out.changes.extend(replication.changes)
    out.diagnostics.extend(replication.diagnostics)


def _left_failed(observed) -> bool:
    """A version a failed write (a PATCH of its fields or tags) left `Failed`. A failed region is not this:
    the replicate change removes and re-adds it (replication.py)."""
    if observed.provisioning_state != "Failed":
        return False
    return not any(r.state == "Failed" for r in observed.replication or ())


def _deleted_in(out: Outcome, version_id: str) -> bool:
    """Retention deletes it in this plan: a Failed version is deleted as it is (a failed DELETE is sent
    again by the next plan), never repaired first."""
    key = change_key(Action.DELETE, version_id)
    return any(c.key == key for c in out.changes)


def _repair(ctx: Context, version, observed, comparison, label: str) -> Change:
    """Send the desired (mutable) body again: Azure keeps a Failed version Failed until a write succeeds on
    it, and nothing may pin to or build from it meanwhile (version_ready.py makes them wait for this)."""
    action = Action.UPDATE if ctx.owned(observed) else Action.ADOPT
    return Change(
        action,
        "image-version",
        version.arm_id,
        f"{version.origin('spec')}: {label} was left Failed by a failed operation; send its desired "
        "fields again before anything uses it",
        before=comparison.before,
        after=comparison.after,
        patch=comparison.patch,
        fingerprint=observed.fingerprint,
        reason_code=ChangeReason.REPAIR,
    )
