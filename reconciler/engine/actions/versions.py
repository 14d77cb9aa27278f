"""Image versions: create from a source, update / adopt, deprecate (excludeFromLatest, EOL), delete.

A create's operation ends only when every region replicated; a region that fails ends it Failed
(`CrpPirReplicationJobsNotCompleted`). That is reported with the per-region state, and the next plan turns it
into a `replicate` change that removes and re-adds the region (replication.py). A delete re-reads, right
before it, every VM and host-pool pin that references the version, and never deletes one in use.
"""

from __future__ import annotations

import copy

from reconciler.azure.writes import HttpResponseError
from reconciler.azure.writes_lro import LroState
from reconciler.engine.actions import register
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.actions.steps import (
    http_failure,
    is_wait,
    lro_step,
    outcome_of_failure,
    settled,
    unsettled,
)
from reconciler.engine.outcome import Done, Failed, Outcome, WaitUntil
from reconciler.model.plan import Action, Change


def _regions_text(version) -> str:
    return ", ".join(f"{r}={version.replication_state_in(r)}" for r in sorted(version.region_names))


@register("image-version", Action.CREATE)
def create_version(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"create image version {change.name}"
    body = copy.deepcopy(change.after or {})
    body["tags"] = env.tags_for_write(body.get("tags"))
    try:
        status = lro_step(env, change.key, "put", change.resource_id, body, "replicating")
        if is_wait(status):
            if not env.progress_due(change.key):  # the operation's status is the check; progress is extra
                return status
            version = env.reader.version(change.resource_id)
            env.record_replication(version)
            if version is not None and version.replication:
                return WaitUntil(status.at, f"replicating: {_regions_text(version)}")
            return status
        version = env.reader.version(change.resource_id)
    except HttpResponseError as exc:
        return http_failure(what, exc)
    env.record_replication(version)
    if status.state is not LroState.SUCCEEDED:
        if version is not None and any(r.state == "Failed" for r in version.replication or ()):
            return Failed(
                f"{what}: replication failed ({_regions_text(version)}); the next apply removes and "
                "re-adds the failed region",
                error_code=status.error_code or "ReplicationFailed",
            )
        return outcome_of_failure(what, status.error_code, status.message)
    return Done(True, f"image version {change.name} created")


def _patch(change: Change, env: ActionEnv, properties: dict, tags: bool, why: str) -> Outcome:
    what = f"{change.action.value} image version {change.name}"
    mem = env.memory(change.key)
    try:
        if "body" not in mem:
            body: dict = {"properties": properties}
            if tags:
                current = env.reader.tags(change.resource_id)
                body["tags"] = env.tags_for_write(
                    (change.after or {}).get("tags"), current.tags if current else None
                )
            mem["body"] = body
        status = lro_step(env, change.key, "patch", change.resource_id, mem["body"], why)
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return settled(what, status, f"image version {change.name} {change.action.past}")


@register("image-version", Action.UPDATE, Action.ADOPT)
def update_version(change: Change, env: ActionEnv, ctx) -> Outcome:
    props = copy.deepcopy((change.after or {}).get("properties") or {})
    props.pop("storageProfile", None)  # immutable; the planner refuses changes to it
    (props.get("publishingProfile") or {}).pop("targetRegions", None)  # the replicate change owns regions
    return _patch(change, env, props, True, "updating")


@register("image-version", Action.DEPRECATE)
def deprecate_version(change: Change, env: ActionEnv, ctx) -> Outcome:
    profile = {k: v for k, v in (change.after or {}).items() if k in ("excludeFromLatest", "endOfLifeDate")}
    return _patch(change, env, {"publishingProfile": profile}, False, "deprecating")


@register("image-version", Action.DELETE)
def delete_version(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"delete image version {change.name}"
    try:
        mem = env.memory(change.key)
        if not mem["started"] and not mem["done"] and not env.ledger.lookup(change.resource_id, "delete"):
            if not env.reader.exists(change.resource_id):
                return Done(False, f"image version {change.name} already gone")
            users = env.reader.users_of_version(change.resource_id, env.subscriptions)
            if users:
                return Failed(
                    f"{what}: not deleted, still in use by {', '.join(users[:3])}", error_code="VersionInUse"
                )
        status = lro_step(env, change.key, "delete", change.resource_id, None, "deleting")
    except HttpResponseError as exc:
        return http_failure(what, exc)
    pending = unsettled(what, status)
    if pending is not None:
        return pending
    with env._lock:
        env.replication.pop(change.resource_id.lower(), None)
    return Done(True, f"image version {change.name} deleted")
