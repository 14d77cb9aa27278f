"""Create a resource group the plan found missing (synchronous in ARM: one PUT, idempotent).

The group gets the planned tags (Settings defaults + the ownership tag) plus the apply's own (commit). A group
that exists by the time the action runs is left as it is (someone else made it): we never re-tag or adopt one.
"""

from __future__ import annotations

from reconciler.azure.references import create_resource_group, read_reference
from reconciler.azure.writes import HttpResponseError
from reconciler.engine.actions import register
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.actions.steps import http_failure
from reconciler.engine.outcome import Done, Outcome
from reconciler.model.plan import Action, Change


@register("resource-group", Action.CREATE)
def create_group(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"create resource group {change.name}"
    try:
        if read_reference(env.writer.conn, change.resource_id).found:
            return Done(False, f"resource group {change.name} already exists")
        after = change.after or {}
        tags = env.tags_for_write(after.get("tags"), None)
        create_resource_group(env.writer.conn, change.resource_id, after.get("location") or "", tags)
    except HttpResponseError as exc:
        return http_failure(what, exc)
    return Done(True, f"resource group {change.name} created")
