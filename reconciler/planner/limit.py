"""`--limit KIND/NAME`: narrow a plan to some resources and everything they depend on (like `-target`).

KIND is a change kind (gallery, image-definition, image-version, image-build, host-pool) or its desired-state
kind (Gallery, ImageDefinition, …). NAME is the resource name; for versions also `definition/x.y.z`, for
builds the ImageBuild name. Dependencies are kept so a limited plan is still safe to apply on its own.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.plan import Change, Plan
from reconciler.planner.fingerprint import restrict_fingerprints
from reconciler.planner.graph import order

KINDS = {
    "gallery": "gallery",
    "image-definition": "image-definition",
    "imagedefinition": "image-definition",
    "definition": "image-definition",
    "image-version": "image-version",
    "imageversion": "image-version",
    "version": "image-version",
    "image-build": "image-build",
    "imagebuild": "image-build",
    "build": "image-build",
    "host-pool": "host-pool",
    "hostpool": "host-pool",
    "pool": "host-pool",
}


class LimitError(ValueError):
    pass


def parse_target(text: str) -> tuple[str, str]:
    kind, sep, name = text.partition("/")
    if not sep or not name or kind.lower() not in KINDS:
        known = "gallery, image-definition, image-version, image-build, host-pool"
        raise LimitError(f"--limit {text!r}: expected KIND/NAME with KIND one of {known}")
    return KINDS[kind.lower()], name


def _matches(change: Change, kind: str, name: str) -> bool:
    if change.kind != kind:
        return False
    rid = change.resource_id.lower()
    name = name.lower()
    if change.name.lower() == name or change.details.get("build", "").lower() == name:
        return True
    if kind == "image-version" and "/" in name:
        definition, _, version = name.rpartition("/")
        return rid.endswith(f"/images/{definition.rsplit('/', 1)[-1]}/versions/{version}")
    return False


def limit_plan(plan: Plan, targets: list[str]) -> Plan:
    wanted = [parse_target(t) for t in targets]
    by_key = {c.key: c for c in plan.changes}
    keep: set[str] = set()
    stack = [c.key for c in plan.changes if any(_matches(c, k, n) for k, n in wanted)]
    while stack:
        key = stack.pop()
        if key in keep:
            continue
        keep.add(key)
        stack += [d for d in by_key[key].depends_on if d in by_key]
    changes, levels = order([c for c in plan.changes if c.key in keep])
    kept_ids = {c.resource_id.lower() for c in changes}
    return replace(
        plan,
        changes=changes,
        levels=levels,
        rollouts=tuple(r for r in plan.rollouts if r.pool_id.lower() in kept_ids),
        diagnostics=tuple(d for d in plan.diagnostics if d.resource_id.lower() in kept_ids),
        **restrict_fingerprints(plan, changes),
    )
