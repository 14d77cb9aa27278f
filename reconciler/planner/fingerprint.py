"""Which observed resources each change depends on, and their fingerprints, so apply can refuse a stale plan.

A change depends on the resource it acts on and on what made the decision safe:
- pin: the image version it pins (its replication state);
- roll: the pool's session hosts (their versions, sessions, status decide the batches);
- delete of a version: the version (in-use is re-checked by apply right before deleting anyway).
The hash is reconciler.model.fingerprint over the observed REST JSON, the same function apply uses.
"""

from __future__ import annotations

from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Action, Change


def dependencies_of(change: Change) -> list[str]:
    ids = [change.resource_id]
    if change.action is Action.PIN:
        ids.append(str(change.after["tags"][next(iter(change.after["tags"]))]))
    if change.action is Action.ROLL:
        ids += list(change.details.get("session_host_ids", []))
    return [norm_id(i) for i in ids]


def collect_fingerprints(changes: tuple[Change, ...], observed: Observed) -> dict[str, str]:
    """Lower-cased id → fingerprint, for every observed resource some change depends on (absent ones too,
    as "absent", so a resource that appears after planning also makes the plan stale)."""
    out: dict[str, str] = {}
    for change in changes:
        if change.action is Action.NO_OP:
            continue
        for rid in dependencies_of(change):
            resource = observed.get(rid)
            out[rid] = resource.fingerprint if resource is not None else "absent"
    return dict(sorted(out.items()))
