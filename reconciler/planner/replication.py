"""Where an image version is replicated: regions to add or remove, replica counts, failed regions to retry.

Regions are compared as a keyed set by normalised name (never by list position: Terraform's azurerm issues
#5569/#3543 show what diffing regions as a list does). A version must be replicated in a pool's region before
that pool's pin may move to it; `readiness` answers that for the pin and the rollout preview.

Nothing writes a version whose provisioning or replication is still running: Compute answers such a PATCH with
409 (`Conflict` "The request failed due to conflict with a concurrent request", `OperationNotAllowed` "...marked
for deletion"), so the region diff waits for the operation to end and is planned from what it left.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from reconciler.model.observed import ObservedImageVersion
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key
from reconciler.planner.bodies import target_regions
from reconciler.planner.diff import Outcome
from reconciler.planner.patches import regions_patch


def _observed_regions(observed: ObservedImageVersion) -> dict[str, dict[str, Any]]:
    default = observed.replica_count or 1
    return {
        r.name: {
            "name": r.name,
            "regionalReplicaCount": r.regional_replica_count or default,
            "storageAccountType": r.storage_account_type or observed.storage_account_type,
            "excludeFromLatest": bool(r.exclude_from_latest),
        }
        for r in observed.target_regions
    }


BUSY_STATES = ("Creating", "Updating", "Deleting")


def operation_in_flight(observed: ObservedImageVersion) -> str | None:
    """Why the version cannot be written now (an operation of its own is running), or None."""
    if observed.provisioning_state in BUSY_STATES:
        return f"its {observed.provisioning_state.lower()} operation is still running"
    busy = sorted(r.region for r in observed.replication or () if r.state == "Replicating")
    if busy:
        return f"replication to {', '.join(busy)} is still in progress"
    return None


def plan_replication(
    version, observed: ObservedImageVersion, regions: list[dict[str, Any]] | None = None
) -> Outcome:
    """A REPLICATE change when the regions differ (or a region failed), plus errors for what cannot change.

    While the version's own operation runs, the difference is only reported (a no-op that says what it waits
    for): the PATCH would be refused, and the regions it would compare are not final yet. `regions`: the
    version's `target_regions`, when the caller has them already (in its body)."""
    out = Outcome()
    wanted = {r["name"]: r for r in (target_regions(version) if regions is None else regions)}
    have = _observed_regions(observed)
    if wanted == have and not any(r.state == "Failed" for r in observed.replication or ()):
        return out  # the usual case (10,000 versions in the large estate): same regions, nothing to retry
    origin = version.origin("spec.targetRegions")
    label = f"ImageVersion {version.key}"
    add = sorted(set(wanted) - set(have))
    remove = sorted(set(have) - set(wanted))
    counts = {
        n: [have[n]["regionalReplicaCount"], wanted[n]["regionalReplicaCount"]]
        for n in sorted(set(wanted) & set(have))
        if have[n]["regionalReplicaCount"] != wanted[n]["regionalReplicaCount"]
    }
    excludes = sorted(
        n for n in set(wanted) & set(have) if have[n]["excludeFromLatest"] != wanted[n]["excludeFromLatest"]
    )
    for n in sorted(set(wanted) & set(have)):
        if have[n]["storageAccountType"] and have[n]["storageAccountType"] != wanted[n]["storageAccountType"]:
            out.diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    version.arm_id,
                    f"{label}: storageAccountType in {n} cannot change "
                    f"({have[n]['storageAccountType']} → {wanted[n]['storageAccountType']}); publish a new version",
                    origin,
                )
            )
    if remove and not version.spec.safety_profile.allow_deletion_of_replicated_locations:
        out.diagnostics.append(
            Diagnostic(
                Severity.ERROR,
                version.arm_id,
                f"{label}: removing {', '.join(remove)} needs "
                "safetyProfile.allowDeletionOfReplicatedLocations: true",
                origin,
            )
        )
        remove = []
    retry = sorted(r.region for r in observed.replication or () if r.state == "Failed" and r.region in wanted)
    if not (add or remove or counts or excludes or retry):
        return out
    busy = operation_in_flight(observed)
    if busy is not None:
        out.changes.append(
            Change(
                Action.NO_OP,
                "image-version",
                version.arm_id,
                f"{origin}: {label}: the target regions change waits: {busy}",
                fingerprint=observed.fingerprint,
                details={"waiting": busy, "add": add, "remove": remove},
                reason_code=ChangeReason.REGIONS,
            )
        )
        return out
    final = {**{n: have[n] for n in have if n not in remove}, **wanted}
    before = {"properties": {"publishingProfile": {"targetRegions": [have[n] for n in sorted(have)]}}}
    after = {"properties": {"publishingProfile": {"targetRegions": [final[n] for n in sorted(final)]}}}
    parts = []
    if add:
        parts.append(f"add {', '.join(add)}")
    if remove:
        parts.append(f"remove {', '.join(remove)}")
    parts += [f"replicas in {n} {a} → {b}" for n, (a, b) in counts.items()]
    if excludes:
        parts.append(f"excludeFromLatest in {', '.join(excludes)}")
    if retry:
        parts.append(f"retry failed replication in {', '.join(retry)} (remove and re-add, as Azure advises)")
    out.changes.append(
        Change(
            Action.REPLICATE,
            "image-version",
            version.arm_id,
            f"{origin}: {label}: " + "; ".join(parts),
            before=before,
            after=after,
            patch=_patch(before, after),
            # An update first: it may be what allows the removal (safetyProfile).
            depends_on=tuple(
                change_key(a, version.arm_id)
                for a in (Action.CREATE, Action.BUILD, Action.UPDATE, Action.ADOPT)
            ),
            fingerprint=observed.fingerprint,
            details={"add": add, "remove": remove, "replica_counts": counts, "retry": retry},
            reason_code=ChangeReason.REGIONS,
        )
    )
    return out


def _patch(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    regions = regions_patch(
        before["properties"]["publishingProfile"]["targetRegions"],
        after["properties"]["publishingProfile"]["targetRegions"],
        "/properties/publishingProfile/targetRegions",
    )
    return jsonpatch.make_patch(before, after).patch if regions is None else regions


def readiness(observed: ObservedImageVersion | None, region: str) -> str | None:
    """None when `observed` is usable for new hosts in `region`; otherwise why not (for the preview)."""
    if observed is None:
        return "the version does not exist yet"
    state = observed.replication_state_in(region)
    if state == "Completed":
        return None
    if state == "Absent":
        return f"the version is not replicated to {region}"
    return f"replication to {region} is {state.lower()}"
