"""Galleries, image definitions and host pools (the AVD resource itself): create, update, replace, adopt.

Image versions, builds, pins and rollouts have their own modules; these three kinds are plain
desired-body-vs-observed diffs with a few immutable fields.
"""

from __future__ import annotations

from reconciler.planner.bodies import definition_body, gallery_body, host_pool_body
from reconciler.planner.context import Context
from reconciler.planner.diff import Outcome, diff_resource

# JSON pointers that cannot change in place (Azure answers PropertyChangeNotAllowed).
DEFINITION_IMMUTABLE = tuple(
    f"/properties/{f}" for f in ("osType", "osState", "hyperVGeneration", "architecture", "identifier")
)
HOST_POOL_IMMUTABLE = ("/properties/hostPoolType", "/location")
GALLERY_IMMUTABLE = ("/location",)


def plan_galleries(ctx: Context) -> Outcome:
    out = Outcome()
    for gallery in sorted(ctx.desired.galleries, key=lambda g: g.arm_id.lower()):
        observed = ctx.find("galleries", gallery.arm_id)
        definitions = ctx.observed.definitions_of(gallery.arm_id) if observed else ()
        result = diff_resource(
            kind="gallery",
            resource_id=gallery.arm_id,
            body=gallery_body(gallery),
            observed=observed,
            owner_tag=ctx.owner_tag,
            origin=gallery.origin("spec"),
            label=f"Gallery {gallery.name}",
            immutable=GALLERY_IMMUTABLE,
            replace_blocked=f"it holds {len(definitions)} image definition(s)" if definitions else None,
        )
        _merge(out, result)
    return out


def plan_definitions(ctx: Context) -> Outcome:
    out = Outcome()
    for definition in sorted(ctx.desired.image_definitions, key=lambda d: d.arm_id.lower()):
        observed = ctx.find("image_definitions", definition.arm_id)
        versions = ctx.observed.versions_of(definition.arm_id) if observed else ()
        blocked = None
        if versions:
            blocked = (
                f"it holds {len(versions)} version(s), which a replacement would delete; "
                "declare a new image definition and move the pins to it instead"
            )
        result = diff_resource(
            kind="image-definition",
            resource_id=definition.arm_id,
            body=definition_body(definition),
            observed=observed,
            owner_tag=ctx.owner_tag,
            origin=definition.origin("spec"),
            label=f"ImageDefinition {definition.key}",
            parents=(definition.gallery.arm_id,),
            immutable=DEFINITION_IMMUTABLE,
            replace_blocked=blocked,
        )
        _merge(out, result)
    return out


def plan_host_pools(ctx: Context) -> Outcome:
    out = Outcome()
    for pool in sorted(ctx.desired.host_pools, key=lambda p: p.arm_id.lower()):
        observed = ctx.find("host_pools", pool.arm_id)
        hosts = ctx.observed.hosts_of(pool.arm_id) if observed else ()
        result = diff_resource(
            kind="host-pool",
            resource_id=pool.arm_id,
            body=host_pool_body(pool),
            observed=observed,
            owner_tag=ctx.owner_tag,
            origin=pool.origin("spec"),
            label=f"HostPool {pool.name}",
            immutable=HOST_POOL_IMMUTABLE,
            replace_blocked=f"it has {len(hosts)} session host(s)" if hosts else None,
        )
        _merge(out, result)
    return out


def _merge(into: Outcome, other: Outcome) -> None:
    into.changes.extend(other.changes)
    into.diagnostics.extend(other.diagnostics)
