"""Resource groups that desired state puts resources in: create the missing ones first, or refuse.

The groups of galleries (and so their definitions and versions), image builds (their templates) and host pools
(and so their session-host VMs) must exist before anything is written into them; Azure answers any write in a
missing group with ResourceGroupNotFound. A missing group becomes a `create resource-group` change, tagged with
the Settings default tags and the ownership tag, in the region of the first resource that uses it (galleries,
then builds, then pools, by name); every change inside that group depends on it, so it runs in an earlier wave.
With Settings `spec.resourceGroups.create: false` a missing group is an error instead, naming the file:line of
the first resource that uses it, and the plan stops before any write.

A group counts as present when the observation listed it or when an observed resource lives in it. Groups that
are only referenced (a staging resource group, a network's or a vault's group) are never created here: they are
landing-zone references (`planner.references`). An observation that did not list groups (`resource_groups is
None`) plans nothing here. Existing groups are never adopted, tagged or deleted: a group is a container, and
deleting one would delete what others keep in it.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.observed import norm_id, normalize_region
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key
from reconciler.planner.context import Context
from reconciler.planner.diff import Outcome

KIND = "resource-group"


def group_id_of(resource_id: str) -> str:
    """`/subscriptions/<s>/resourceGroups/<rg>` of any id inside a group (casing kept), or ""."""
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 4 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups":
        return f"/subscriptions/{parts[1]}/resourceGroups/{parts[3]}"
    return ""


def _users(ctx: Context):
    """(group id, location, origin, label) of every resource desired state places in a group, in a fixed order."""
    d = ctx.desired
    for kind, items in (("Gallery", d.galleries), ("ImageBuild", d.image_builds), ("HostPool", d.host_pools)):
        for item in sorted(items, key=lambda i: i.name):
            group = group_id_of(item.arm_id)
            yield group, item.location, item.origin("spec.resourceGroup"), f"{kind} {item.name}"


def _present(ctx: Context) -> set[str]:
    listed = ctx.observed.resource_groups or {}
    present = set(listed)
    obs = ctx.observed
    for collection in (obs.galleries, obs.image_templates, obs.host_pools):
        present.update(norm_id(group_id_of(key)) for key in collection)
    # VMs by far outnumber the rest, and the snapshot already knows their groups: one id per group, not per VM.
    present.update(norm_id(group_id_of(group)) for group in obs.vm_group_ids())
    return present


def plan_resource_groups(ctx: Context) -> Outcome:
    out = Outcome()
    if ctx.observed.resource_groups is None:
        return out
    present = _present(ctx)
    create = ctx.desired.settings.spec.resource_groups.create
    name, value = ctx.owner_tag
    tags = {**dict(ctx.desired.settings.spec.defaults.tags), name: value}
    seen: set[str] = set()
    for group, location, origin, label in _users(ctx):
        key = norm_id(group)
        if not group or key in present or key in seen:
            continue
        seen.add(key)
        if not create:
            out.diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    group,
                    f"{origin}: resource group {group} does not exist ({label} is in it) and Settings "
                    f"spec.resourceGroups.create is false; create the group or allow it",
                    origin,
                )
            )
            continue
        out.changes.append(
            Change(
                Action.CREATE,
                KIND,
                group,
                f"{origin}: resource group of {label} does not exist; create it before anything in it",
                after={"location": normalize_region(location), "tags": tags},
                reason_code=ChangeReason.MISSING,
            )
        )
    return out


def after_groups(changes: list[Change], groups: list[Change]) -> list[Change]:
    """`changes` with a dependency on the create of the group each one's resource lives in."""
    if not groups:
        return changes
    keys = {norm_id(g.resource_id): change_key(Action.CREATE, g.resource_id) for g in groups}
    out = []
    for change in changes:
        dep = keys.get(norm_id(group_id_of(change.resource_id)))
        if dep and change.kind != KIND and dep not in change.depends_on:
            change = replace(change, depends_on=(*change.depends_on, dep))
        out.append(change)
    return out
