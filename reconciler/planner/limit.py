"""`--limit KIND/NAME`: narrow a plan to some resources and everything they depend on (like `-target`).

KIND is a change kind (gallery, image-definition, image-version, image-build, host-pool) or its desired-state
kind (Gallery, ImageDefinition, …). NAME is the resource name; for versions also `definition/x.y.z`, for
builds the ImageBuild name. Dependencies are kept so a limited plan is still safe to apply on its own.

A target that names nothing (no change in the plan, and no resource of the desired state when it is given) is
an error with the closest address, never a quiet "No changes": a typo must not read as "converged".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reconciler.model.plan import Change, Plan
from reconciler.planner.fingerprint import restrict_fingerprints
from reconciler.planner.graph import order
from reconciler.spec import DesiredState
from reconciler.spec.suggest import closest, did_you_mean

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
        hint = did_you_mean(kind, sorted(set(KINDS.values()))) if sep and name else ""
        raise LimitError(f"--limit {text!r}: expected KIND/NAME with KIND one of {known}{hint}")
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


def _change_addresses(change: Change) -> list[str]:
    names = [change.name]
    if change.details.get("build"):
        names.append(change.details["build"])
    if change.kind == "image-version":
        parts = change.resource_id.rstrip("/").split("/")
        names.append(f"{parts[-3]}/{parts[-1]}")
    return [f"{change.kind}/{n}" for n in names]


def desired_addresses(desired: DesiredState) -> list[str]:
    """`kind/name` of every resource the desired state declares, in the forms `--limit` accepts."""
    out = [f"gallery/{g.name}" for g in desired.galleries]
    out += [f"image-definition/{d.name}" for d in desired.image_definitions]
    out += [f"image-version/{v.definition.name}/{v.name}" for v in desired.image_versions]
    out += [f"image-version/{v.definition.key}/{v.name}" for v in desired.image_versions]
    out += [f"image-version/{v.name}" for v in desired.image_versions]
    out += [f"image-build/{b.name}" for b in desired.image_builds]
    out += [f"host-pool/{p.name}" for p in desired.host_pools]
    return out


def _unmatched(target: str, kind: str, name: str, plan: Plan, known: list[str]) -> str:
    addresses = sorted({a for c in plan.changes for a in _change_addresses(c)} | set(known))
    wanted = f"{kind}/{name}"
    # The right name under the wrong kind (`gallery/pool-a`), else the closest spellings.
    near = [a for a in addresses if a.rsplit("/", 1)[-1].lower() == name.lower()][:2]
    near = near or closest(wanted, addresses, n=2, cutoff=0.5)
    hint = "; did you mean " + " or ".join(repr(a) for a in near) + "?" if near else ""
    return f"--limit {target!r} matches no resource in the plan or the desired state{hint}"


def limit_plan(plan: Plan, targets: list[str], known: Iterable[str] | None = None) -> Plan:
    """`plan` narrowed to `targets` and their dependencies. `known`: addresses of desired resources
    (`desired_addresses`); a target naming one of them without a change is fine (it is converged)."""
    wanted = [parse_target(t) for t in targets]
    known_list = list(known or ())
    known_lower = {a.lower() for a in known_list}
    for target, (kind, name) in zip(targets, wanted, strict=True):
        in_plan = any(_matches(c, kind, name) for c in plan.changes)
        if not in_plan and f"{kind}/{name}".lower() not in known_lower:
            raise LimitError(_unmatched(target, kind, name, plan, known_list))
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
