"""Which observed resources each change depends on, and their fingerprints, so apply can refuse a stale plan.

A change depends on the resource it acts on and on what made the decision safe:
- pin: the image version it pins (its configuration: target regions, exclude-from-latest…);
- roll, and create/update/delete of a pool's session hosts: the host pool, its session hosts as observed
  (each host's fingerprint includes its VM's, so a VM deleted or rebuilt counts) and the version it is
  pinned to (new hosts are built from it);
- delete of a version: the version (in-use is re-checked by apply right before deleting anyway).
Fingerprints cover configuration only (reconciler.model.fingerprint says which fields count, and why), so a
plan survives users signing in and out. Next to each fingerprint the plan keeps a short digest per counting
field (`fingerprint_fields`), so a refusal can name the field that changed.
"""

from __future__ import annotations

from reconciler.model.field_digests import FieldDigests
from reconciler.model.fingerprint import field_digests
from reconciler.model.observed import Observed, norm_id
from reconciler.model.plan import Action, Change, Plan
from reconciler.model.tags import PIN_TAG

HOSTS_KIND = "session-hosts"


def _pool_of(change: Change) -> str | None:
    """The host pool id whose session hosts `change` acts on (a roll, or a session-hosts change)."""
    if change.action is Action.ROLL:
        return norm_id(change.resource_id)
    if change.kind == HOSTS_KIND:
        return norm_id(change.resource_id).removesuffix("/sessionhosts")
    return None


def dependencies_of(change: Change, observed: Observed | None = None) -> list[str]:
    """Ids (lower-cased) `change` depends on. Without `observed`, only those the change itself names."""
    ids = [change.resource_id]
    if change.action is Action.PIN:
        ids.append(str(change.after["tags"][next(iter(change.after["tags"]))]))
    if change.action is Action.ROLL:
        ids += list(change.details.get("session_host_ids", []))
    pool = _pool_of(change)
    if pool is not None:
        ids.append(pool)
        observed_pool = observed.host_pools.get(pool) if observed is not None else None
        if observed is not None:
            ids += [h.id for h in observed.hosts_of(pool)]
        if observed_pool is not None and observed_pool.tags.get(PIN_TAG):
            ids.append(observed_pool.tags[PIN_TAG])  # the version new hosts are built from
    if change.kind == HOSTS_KIND:
        ids.remove(change.resource_id)  # "<pool>/sessionHosts" names a collection, not a resource
    return list(dict.fromkeys(norm_id(i) for i in ids))


def collect_fingerprints(
    changes: tuple[Change, ...], observed: Observed, *, shared: bool = True
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(lower-cased id → fingerprint, for every observed resource some change depends on, absent ones too
    as "absent", so a resource that appears after planning also makes the plan stale; lower-cased id →
    {field label → short digest}, for each of them that exists). `shared`: both from one pass over each
    resource's fields, each distinct value encoded and hashed once (False: each resource on its own, through
    reconciler.model.fingerprint, the reference the tests hold the shared path to)."""
    prints: dict[str, str] = {}
    digests: dict[str, dict[str, str]] = {}
    cache = FieldDigests() if shared else None
    for change in changes:
        if change.action is Action.NO_OP:
            continue
        for rid in dependencies_of(change, observed):
            if rid in prints:  # a pool's hosts are named by each change on the pool
                continue
            resource = observed.get(rid)
            if resource is None:
                prints[rid] = "absent"
                continue
            key = resource.key  # the observed key, not a copy per plan
            if cache is not None:
                prints[key], digests[key] = cache.fingerprint_and_digests(
                    resource.unsorted_fingerprint_fields
                )
            else:
                prints[key], digests[key] = resource.fingerprint, field_digests(resource.fingerprint_fields)
    ordered = dict(sorted(prints.items()))
    return ordered, {rid: digests[rid] for rid in ordered if rid in digests}


def restrict_fingerprints(plan: Plan, changes: tuple[Change, ...]) -> dict:
    """The `fingerprints` and `fingerprint_fields` of `plan` that `changes` (a subset) depend on, for
    `--limit`: what the kept changes name, and the session hosts of the pools they act on."""
    ids: set[str] = set()
    prefixes: list[str] = []
    for change in changes:
        ids.update(dependencies_of(change))
        pool = _pool_of(change)
        if pool is not None:
            prefixes.append(pool + "/sessionhosts/")
    starts = tuple(prefixes)
    keep = {rid for rid in plan.fingerprints if rid in ids or (starts and rid.startswith(starts))}
    return {
        "fingerprints": {rid: fp for rid, fp in plan.fingerprints.items() if rid in keep},
        "fingerprint_fields": {rid: f for rid, f in plan.fingerprint_fields.items() if rid in keep},
    }
