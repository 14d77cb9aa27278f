"""Galleries, image definitions and host pools: create, update, adopt, replace, delete; host-pool pins.

Creates PUT the desired body (plus our tags). Updates and adoptions read the resource first and PUT the
desired body with the tags merged (tags someone added by hand stay; ours win). Host pools are synchronous in
the AVD API. A pin moves the host pool's pin tag only once the version is replicated to the pool's region.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from reconciler.azure.writes import HttpResponseError
from reconciler.engine.actions import register
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.actions.steps import http_failure, lro_step, settled, unsettled
from reconciler.engine.outcome import Done, Failed, Outcome, ReasonCode
from reconciler.model.current import CurrentTags
from reconciler.model.plan import Action, Change
from reconciler.model.tags import PIN_TAG


def _body(change: Change, env: ActionEnv, current: CurrentTags | None) -> dict[str, Any]:
    body = copy.deepcopy(change.after or {})
    body["tags"] = env.tags_for_write(body.get("tags"), current.tags if current else None)
    return body


@register("gallery", Action.CREATE, Action.UPDATE, Action.ADOPT)
@register("image-definition", Action.CREATE, Action.UPDATE, Action.ADOPT)
def put_resource(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"{change.action.value} {change.kind} {change.name}"
    mem = env.memory(change.key)
    try:
        if "body" not in mem:
            current = env.reader.tags(change.resource_id) if change.action is not Action.CREATE else None
            mem["body"] = _body(change, env, current)
        status = lro_step(
            env, change.key, "put", change.resource_id, mem["body"], f"{change.kind} provisioning"
        )
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return settled(what, status, f"{change.kind} {change.name} {change.action.past}")


@register("gallery", Action.REPLACE)
@register("image-definition", Action.REPLACE)
def replace_resource(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"replace {change.kind} {change.name}"
    try:
        status = lro_step(env, change.key, "delete", change.resource_id, None, "deleting for replacement")
        pending = unsettled(what, status)
        if pending is not None:
            return pending
        status = lro_step(env, change.key, "put", change.resource_id, _body(change, env, None), "re-creating")
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return settled(what, status, f"{change.kind} {change.name} replaced")


@register("gallery", Action.DELETE)
@register("image-definition", Action.DELETE)
@register("image-build", Action.DELETE)
def delete_resource(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"delete {change.kind} {change.name}"
    try:
        if not env.reader.exists(change.resource_id) and not env.ledger.lookup(change.resource_id, "delete"):
            return Done(False, f"{change.kind} {change.name} already gone")
        status = lro_step(env, change.key, "delete", change.resource_id, None, "deleting")
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return settled(what, status, f"{change.kind} {change.name} deleted")


# -- host pools (synchronous) --------------------------------------------------------------------------------


@register("host-pool", Action.CREATE, Action.UPDATE, Action.ADOPT, Action.REPLACE)
def put_host_pool(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"{change.action.value} host pool {change.name}"
    try:
        current = env.reader.tags(change.resource_id)
        if change.action is Action.REPLACE and current is not None:
            env.writer.delete_host_pool(change.resource_id)
            current = None
        etag = current.etag if current else None
        env.writer.put_host_pool(change.resource_id, _body(change, env, current), if_match=etag)
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return Done(True, f"host pool {change.name} {change.action.past}")


@register("host-pool", Action.DELETE)
def delete_host_pool(change: Change, env: ActionEnv, ctx) -> Outcome:
    try:
        if not env.reader.exists(change.resource_id):
            return Done(False, f"host pool {change.name} already gone")
        env.writer.delete_host_pool(change.resource_id)
    except HttpResponseError as exc:
        return http_failure(f"delete host pool {change.name}", exc)
    return Done(True, f"host pool {change.name} deleted")


@register("host-pool", Action.PIN)
def pin_host_pool(change: Change, env: ActionEnv, ctx) -> Outcome:
    """Move the pin tag once the version is replicated to the pool's region (the plan may have been made
    while it still replicated; a failed region is the replicate change's business, not ours)."""
    version_id = str(change.after["tags"][PIN_TAG])
    region = str(change.details.get("region", ""))
    what = f"pin host pool {change.name} to {change.details.get('version', version_id)}"
    try:
        version = env.reader.version(version_id)
        env.record_replication(version)
        if version is not None and version.provisioning_state == "Failed":
            # Left Failed by a failed write: the plan's repair change runs first; never pin to it meanwhile.
            return Failed(f"{what}: the version is Failed", error_code="VersionNotReady")
        state = version.replication_state_in(region) if version is not None else "Absent"
        if state in ("Replicating", "Unknown"):
            # Back off from when the version was published, which every apply observes alike: a memory of our
            # own first look would restart at the 5 s floor in each `--wait none` pass or controller cycle.
            since = env.memory(change.key).setdefault("since", version.published_date or env.clock())
            wait = env.wait(since, f"waiting for {region}")
            return replace(wait, reason=ReasonCode.REPLICATION)
        if state != "Completed":
            return Failed(f"{what}: the version is {state.lower()} in {region}", error_code="VersionNotReady")
        current = env.reader.tags(change.resource_id)
        if current is None:
            return Failed(f"{what}: the host pool does not exist", error_code="ResourceNotFound")
        tags = {**current.tags, PIN_TAG: version_id}
        env.writer.patch_host_pool_tags(change.resource_id, tags, if_match=current.etag)
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return Done(True, f"host pool {change.name} pinned to {change.details.get('version', '')}")
