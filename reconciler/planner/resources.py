"""Galleries, image definitions and host pools (the AVD resource itself): create, update, replace, adopt.

Image versions, builds, pins and rollouts have their own modules; these three kinds are plain
desired-body-vs-observed diffs with a few immutable fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

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
    return _plan_kind(
        ctx,
        ctx.desired.galleries,
        "galleries",
        kind="gallery",
        body=gallery_body,
        label=lambda g: f"Gallery {g.name}",
        immutable=GALLERY_IMMUTABLE,
        replace_blocked=_gallery_in_use,
    )


def plan_definitions(ctx: Context) -> Outcome:
    return _plan_kind(
        ctx,
        ctx.desired.image_definitions,
        "image_definitions",
        kind="image-definition",
        body=definition_body,
        label=lambda d: f"ImageDefinition {d.key}",
        parents=lambda d: (d.gallery.arm_id,),
        immutable=DEFINITION_IMMUTABLE,
        replace_blocked=_definition_in_use,
    )


def plan_host_pools(ctx: Context) -> Outcome:
    return _plan_kind(
        ctx,
        ctx.desired.host_pools,
        "host_pools",
        kind="host-pool",
        body=host_pool_body,
        label=lambda p: f"HostPool {p.name}",
        immutable=HOST_POOL_IMMUTABLE,
        replace_blocked=_host_pool_in_use,
    )


# Why an existing resource cannot be replaced (None: it can), asked only when it exists.


def _gallery_in_use(ctx: Context, gallery: Any) -> str | None:
    definitions = ctx.observed.definitions_of(gallery.arm_id)
    return f"it holds {len(definitions)} image definition(s)" if definitions else None


def _definition_in_use(ctx: Context, definition: Any) -> str | None:
    versions = ctx.observed.versions_of(definition.arm_id)
    if not versions:
        return None
    return (
        f"it holds {len(versions)} version(s), which a replacement would delete; "
        "declare a new image definition and move the pins to it instead"
    )


def _host_pool_in_use(ctx: Context, pool: Any) -> str | None:
    hosts = ctx.observed.hosts_of(pool.arm_id)
    return f"it has {len(hosts)} session host(s)" if hosts else None


def _plan_kind(
    ctx: Context,
    declared: Iterable[Any],
    collection: str,
    *,
    kind: str,
    body: Callable[[Any], dict[str, Any]],
    label: Callable[[Any], str],
    immutable: tuple[str, ...],
    replace_blocked: Callable[[Context, Any], str | None],
    parents: Callable[[Any], tuple[str, ...]] = lambda _: (),
) -> Outcome:
    """Each declared resource of one kind, in ARM-id order, diffed against what is observed at its id."""
    out = Outcome()
    for resource in sorted(declared, key=lambda r: r.arm_id.lower()):
        observed = ctx.find(collection, resource.arm_id)
        result = diff_resource(
            kind=kind,
            resource_id=resource.arm_id,
            body=body(resource),
            observed=observed,
            owner_tag=ctx.owner_tag,
            origin=resource.origin("spec"),
            label=label(resource),
            parents=parents(resource),
            immutable=immutable,
            replace_blocked=replace_blocked(ctx, resource) if observed else None,
        )
        out.changes.extend(result.changes)
        out.diagnostics.extend(result.diagnostics)
    return out
