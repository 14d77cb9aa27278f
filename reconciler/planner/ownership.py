"""Ownership: only resources carrying our ownership tag are ever deleted; untagged matches are adopted.

Deletion candidates are owned resources in the observed scope that the desired state no longer declares:
galleries, image definitions, host pools and Image Builder templates. Image versions are never deleted for
being undeclared — retention decides their fate. A delete that Azure would refuse (a gallery that still holds
definitions we keep, a host pool with session hosts, a running build) is reported instead of planned.
"""

from __future__ import annotations

from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key
from reconciler.planner.context import Context, leaf
from reconciler.planner.diff import Outcome


def plan_deletions(ctx: Context, wanted_templates: set[str]) -> Outcome:
    """`wanted_templates`: lower-cased ids of templates this plan still needs (builds not yet finished)."""
    out = Outcome()
    desired_galleries = {norm_id(g.arm_id) for g in ctx.desired.galleries}
    desired_definitions = {norm_id(d.arm_id) for d in ctx.desired.image_definitions}
    desired_pools = {norm_id(p.arm_id) for p in ctx.desired.host_pools}
    deleted_definitions: set[str] = set()
    for key, definition in sorted(ctx.observed.image_definitions.items()):
        if key in desired_definitions or not ctx.owned(definition):
            continue
        versions = ctx.observed.versions_of(key)
        if versions:
            out.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    definition.id,
                    f"image definition {definition.name} is no longer declared but still holds "
                    f"{len(versions)} version(s); it is kept until they are gone",
                    "ownership",
                )
            )
            continue
        deleted_definitions.add(key)
        out.changes.append(_delete("image-definition", definition, "is no longer declared in desired state"))
    for key, gallery in sorted(ctx.observed.galleries.items()):
        if key in desired_galleries or not ctx.owned(gallery):
            continue
        remaining = [d for d in ctx.observed.definitions_of(key) if norm_id(d.id) not in deleted_definitions]
        if remaining:
            out.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    gallery.id,
                    f"gallery {gallery.name} is no longer declared but still holds {len(remaining)} "
                    "image definition(s); it is kept",
                    "ownership",
                )
            )
            continue
        deps = tuple(change_key(Action.DELETE, d.id) for d in ctx.observed.definitions_of(key))
        out.changes.append(_delete("gallery", gallery, "is no longer declared in desired state", deps))
    for key, pool in sorted(ctx.observed.host_pools.items()):
        if key in desired_pools or not ctx.owned(pool):
            continue
        hosts = ctx.observed.hosts_of(key)
        if hosts:
            out.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    pool.id,
                    f"host pool {pool.name} is no longer declared but has {len(hosts)} session host(s); "
                    "remove them first",
                    "ownership",
                )
            )
            continue
        out.changes.append(_delete("host-pool", pool, "is no longer declared in desired state"))
    for key, template in sorted(ctx.observed.image_templates.items()):
        if key in wanted_templates or not ctx.owned(template) or template.is_running:
            continue
        why = (
            "its build finished" if template.last_run_state == "Succeeded" else "no declared version needs it"
        )
        out.changes.append(_delete("image-build", template, f"is no longer needed ({why})"))
    return out


def _delete(kind: str, resource, why: str, deps: tuple[str, ...] = ()) -> Change:
    return Change(
        Action.DELETE,
        kind,
        resource.id,
        f"ownership: {kind} {leaf(resource.id)} carries our ownership tag and {why}",
        before={"tags": dict(resource.tags or {})},
        depends_on=deps,
        fingerprint=resource.fingerprint,
        reason_code=ChangeReason.NOT_DECLARED,
    )
