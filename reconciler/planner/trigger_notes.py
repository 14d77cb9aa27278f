"""Trigger decisions as plan notes, and back.

A due or blocked release is not an Azure change (git must get the version first), so `plan` carries each as a
no-op change: reason code `release-due` with the document to write, or `release-blocked` with why, since when
and what would unblock it; `--detailed-exitcode` does not exit 2 for them. The controller reads the due builds
back from its cycle's plan (`planned_releases`) rather than evaluating the triggers a second time, so what it
writes to git is exactly what the plan said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Plan, Severity
from reconciler.planner.diff import Outcome
from reconciler.planner.trigger_model import BlockedRelease, DueBuild
from reconciler.spec.desired import DesiredState

RELEASE_DUE = str(ChangeReason.RELEASE_DUE)
RELEASE_BLOCKED = str(ChangeReason.RELEASE_BLOCKED)


def plan_notes(
    due: tuple[DueBuild, ...], blocked: tuple[BlockedRelease, ...], desired: DesiredState
) -> Outcome:
    """Each due build as a note; each blocked one as a note (on the ImageBuild) and a warning."""
    out = Outcome()
    for d in due:
        out.changes.append(
            Change(
                Action.NO_OP,
                "image-version",
                f"{d.definition.arm_id}/versions/{d.version}",
                f"{d.origin}: release due: {d.summary} (`reconcile release` writes it)",
                details={
                    "release": d.document,
                    "build": d.build,
                    "triggers": list(d.triggers),
                    "reasons": list(d.reasons),
                    "source": d.source,
                    "at": d.at.isoformat(),
                },
                reason_code=ChangeReason.RELEASE_DUE,
            )
        )
    for b in blocked:
        build = desired.image_build(b.build)
        resource = build.arm_id if build else b.build
        out.changes.append(
            Change(
                Action.NO_OP,
                "image-build",
                resource,
                f"{b.origin}: {b.message}",
                details={"blocked": b.to_dict()},
                reason_code=ChangeReason.RELEASE_BLOCKED,
            )
        )
        if b.waiting:
            continue  # passes by itself: a note, not a warning
        out.diagnostics.append(
            Diagnostic(Severity.WARNING, resource, f"{b.origin}: {b.message}", RELEASE_BLOCKED)
        )
    return out


@dataclass(frozen=True)
class PlannedReleases:
    due: tuple[DueBuild, ...] = ()
    blocked: tuple[BlockedRelease, ...] = ()


def planned_releases(plan: Plan, desired: DesiredState) -> PlannedReleases:
    """The due and blocked releases `plan` noted, as the trigger evaluation made them (`desired` is the state
    the plan was made from: it gives each due build's definition back)."""
    due, blocked = [], []
    for change in plan.changes:
        if change.reason_code == RELEASE_BLOCKED:
            blocked.append(BlockedRelease.from_dict(change.details["blocked"]))
        elif change.reason_code == RELEASE_DUE:
            d = change.details
            doc = d["release"]
            build = desired.image_build(d["build"])
            due.append(
                DueBuild(
                    d["build"],
                    desired.image_definition(doc["spec"]["definition"]),
                    doc["metadata"]["name"],
                    tuple(d["triggers"]),
                    tuple(d["reasons"]),
                    d["source"],
                    datetime.fromisoformat(d["at"]),
                    doc,
                    build.origin("spec.triggers") if build else "",
                )
            )
    return PlannedReleases(
        tuple(sorted(due, key=lambda x: x.build)), tuple(sorted(blocked, key=lambda x: x.build))
    )
