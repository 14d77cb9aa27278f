"""How `reconcile status` shows host pools and conditions, as text and as JSON.

Conditions are rendered from :mod:`reconciler.model.conditions` objects only; ``/status``, the metrics and
the notifications read the same objects, so what one shows the others show.
"""

from __future__ import annotations

from typing import Any

from reconciler.model.conditions import ConditionSet, ConditionStatus, ObjectConditions


def conditions_json(conditions: ConditionSet) -> list[dict[str, Any]]:
    return [obj.to_json() for obj in conditions]


def conditions_for(conditions: ConditionSet, kind: str, name: str) -> ObjectConditions | None:
    return next((o for o in conditions if o.kind.value == kind and o.name == name), None)


def render_conditions(obj: ObjectConditions | list[dict] | None) -> str:
    """An object's conditions, from the objects or from their JSON (the view-model's form)."""
    if obj is None:
        return ""
    items = [c.to_json() for c in obj.conditions] if isinstance(obj, ObjectConditions) else obj
    if not items:
        return ""
    lines = []
    for c in items:
        mark = {ConditionStatus.TRUE.value: "+", ConditionStatus.FALSE.value: "-"}.get(c["status"], "?")
        text = f": {c['message']}" if c["message"] else ""
        lines.append(
            f"  [{mark}] {c['type']}={c['status']} ({c['reason']}){text} since {c['lastTransitionTime']}"
        )
    return "\n".join(lines) + "\n"


def render_status(view: dict) -> str:
    """`reconcile status` as text, from the estate view-model (reconciler.render.estate_view)."""
    out = "".join(render_pool(p, p.get("conditions")) for p in view["pools"])
    return out + render_failed_builds(view["failed_builds"])


def render_pool(s: dict, conditions: ObjectConditions | list[dict] | None = None) -> str:
    if not s.get("exists"):
        return f"{s['pool']}: does not exist in Azure yet\n\n"
    lines = [f"{s['pool']}: {s['state']} ({s['mode']})"]
    running = ", ".join(f"{v}×{n}" for v, n in s["running"].items()) or "no hosts"
    pinned = s["pinned"] or "?"
    if not s["target_ready"] and s["target_why"]:
        pinned += f" (waits: {s['target_why']})"
    lines.append(f"  pinned {pinned}; running {running}")
    lines.append(
        f"  hosts {s['available']} available of {s['count']} wanted; floor {s['floor_hosts']}, "
        f"{s['strategy']} batch {s['batch_size']}"
    )
    for version, states in s["hosts"].items():
        lines.append(f"    {version}: " + ", ".join(f"{n} {state}" for state, n in states.items()))
    batch = (s.get("rollout") or {}).get("batch")
    if batch:
        lines.append("  rollout: " + batch_line(batch))
    if s["batch_in_progress"]:
        lines.append("  batch in progress: " + ", ".join(s["batch_in_progress"]))
    for vm in s.get("test_vms") or []:
        lines.append("  " + accept_vm_line(vm))
    for w in s["users_waiting"]:
        lines.append(f"  {w['host']}: {len(w['users'])} user(s) until {w['deadline']}; logoff {w['logoff']}")
    lines.append(
        "  maintenance window: "
        + ("open now" if s["window_open"] else f"closed, next opens {s['next_window'] or 'never'}")
    )
    if s["gate"]["why"]:
        lines.append(f"  ring gate: {s['gate']['why']}")
    f = s["failures"]
    lines.append(f"  failures {f['count']} of budget {f['budget']} (then {f['on_failure']})")
    for failed in s.get("failed_hosts") or []:
        lines.append(f"  failed host {failed['host']}: {failed['reason']}")
    if s["quarantined"]:
        lines.append(f"  QUARANTINED: {s['quarantined']} (reconcile clear-quarantine {s['pool']})")
    if s["next_check"]:
        lines.append(
            f"  next: {', '.join(s['next_step']) or 'check'} — {s['next_check']['why']} "
            f"at {s['next_check']['at']}"
        )
    for note in s["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n" + render_conditions(conditions) + "\n"


def accept_vm_line(vm: dict) -> str:
    """A test VM (acceptance `where: testVm`) in words: the suite's in progress, or one left to delete."""
    since = f" since {vm['since']}" if vm.get("since") else ""
    if vm["state"] == "running":
        return f"test VM {vm['name']}: acceptance of {vm['version']} running{since} ({vm['provisioning']})"
    if vm["state"] == "deleting":
        return f"test VM {vm['name']} ({vm['version']}): being deleted"
    return f"test VM {vm['name']} ({vm['version']}): to delete: {vm['reason']}"


def batch_line(batch: dict) -> str:
    """The rollout's progress in words; the dashboard shows the same numbers."""
    if batch["running"]:
        return f"batch {batch['current']} of {batch['total']} under way, {batch['to_go']} more to go"
    if not batch["done"]:
        return f"not started, {batch['total']} batch(es) to go"
    return f"{batch['done']} of {batch['total']} batch(es) done, {batch['to_go']} to go"


def render_failed_builds(builds: list[dict]) -> str:
    if not builds:
        return ""
    lines = ["Failed builds:"]
    for b in builds:
        cause = f"{b['cause']}, " if b["cause"] else ""
        lines.append(
            f"  {b['build']} → {b['version']}: {cause}{b['failed_runs']} failed run(s); {b['next']}"
            f" (`reconcile logs build {b['build']} --diagnose`)"
        )
        if b["message"]:
            lines.append(f"    {b['message']}")
    return "\n".join(lines) + "\n"
