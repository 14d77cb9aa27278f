"""The dashboard's Pools page: rings as a flow, and per pool its pin, hosts by version and state, rollout
progress (the batch line `reconcile status` prints), the capacity chart, conditions and failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.render.dashboard_html import _e, _facts, _state, _table


def _ring_label(i: int, n: int) -> str:
    if n == 1:
        return "ring"
    return "validation" if i == 0 else "production" if i == n - 1 else f"ring {i + 1}"


def _rings(view: Mapping[str, Any]) -> str:
    rings = view.get("rings") or []
    if not rings:
        return ""
    items = "".join(
        f"<li><strong>{_e(_ring_label(i, len(rings)))}</strong>: "
        + ", ".join(f'<a href="#pool-{_e(p)}">{_e(p)}</a>' for p in ring)
        + "</li>"
        for i, ring in enumerate(rings)
    )
    return f'<h3>Rings</h3><ol class="rings" aria-label="Rollout rings, in order">{items}</ol>'


def capacity_chart(pool: Mapping[str, Any], width: int = 360, height: int = 120) -> str:
    """Available hosts against the floor: observed samples (solid), then the planned batches (dashed)."""
    observed = [s["available"] for s in pool.get("capacity") or ()]
    planned = [b["available"] for b in (pool.get("rollout") or {}).get("planned_capacity") or ()]
    points = observed + planned
    floor, count = pool.get("floor_hosts") or 0, pool.get("count") or 0
    if not points:
        return ""
    top = max([count, floor, *points, 1])
    step = (width - 40) / max(1, len(points) - 1)

    def xy(i: int, v: int) -> str:
        return f"{30 + i * step:.1f},{height - 15 - (height - 30) * v / top:.1f}"

    fy = height - 15 - (height - 30) * floor / top
    solid = " ".join(xy(i, v) for i, v in enumerate(observed))
    dashed = " ".join(xy(i, v) for i, v in enumerate(points) if i >= max(0, len(observed) - 1))
    title = (
        f"Capacity of {pool['pool']}: {pool.get('available')} available now, floor {floor}; "
        f"{len(observed)} observed sample(s), {len(planned)} planned batch(es)"
    )
    return (
        f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="cap-{_e(pool["pool"])}"><title id="cap-{_e(pool["pool"])}">{_e(title)}</title>'
        f'<line x1="30" x2="{width - 10}" y1="{fy:.1f}" y2="{fy:.1f}" stroke="#a40e26" stroke-dasharray="4 3"/>'
        f'<text x="2" y="{fy + 4:.1f}" font-size="10" fill="#a40e26">floor</text>'
        f'<text x="2" y="14" font-size="10" fill="#4a5560">{_e(top)}</text>'
        + (f'<polyline fill="none" stroke="#0550ae" stroke-width="2" points="{solid}"/>' if observed else "")
        + (
            f'<polyline fill="none" stroke="#0550ae" stroke-dasharray="5 4" points="{dashed}"/>'
            if planned
            else ""
        )
        + "".join(
            f'<circle cx="{xy(i, v).split(",")[0]}" cy="{xy(i, v).split(",")[1]}" r="3" fill="#0550ae"/>'
            for i, v in enumerate(observed)
        )
        + "</svg>"
    )


def _progress(batch: Mapping[str, Any] | None) -> str:
    """The rollout's batch line (the same numbers as `reconcile status`) with a bar of batches done."""
    if not batch:
        return "not rolling"
    bar = (
        f'<progress max="{_e(batch["total"])}" value="{_e(batch["done"])}">'
        f"{_e(batch['done'])} of {_e(batch['total'])}</progress>"
    )
    if batch["running"]:
        head = f'<span class="batch">batch {_e(batch["current"])} of {_e(batch["total"])}</span>'
        under_way = ", ".join(_e(h) for h in batch.get("in_progress") or ())
        return f"{head} {bar} under way: {under_way}; {_e(batch['to_go'])} more to go"
    if not batch["done"]:
        return f'<span class="batch">not started</span>: {_e(batch["total"])} batch(es) to go'
    head = f'<span class="batch">{_e(batch["done"])} of {_e(batch["total"])} done</span>'
    return f"{head} {bar} {_e(batch['to_go'])} batch(es) to go"


def _pool(p: Mapping[str, Any]) -> str:
    anchor = f'id="pool-{_e(p["pool"])}"'
    if not p.get("exists"):
        return f'<section class="pool" {anchor}><h2>{_e(p["pool"])}</h2><p>Does not exist in Azure yet.</p></section>'
    rollout = p.get("rollout") or {}
    progress = _progress(rollout.get("batch"))
    pinned = _e(p.get("pinned"))
    if not p.get("target_ready") and p.get("target_why"):
        pinned += f" (waits: {_e(p['target_why'])})"
    window = (
        "open now" if p.get("window_open") else f"closed, next opens {_e(p.get('next_window') or 'never')}"
    )
    gate = p.get("gate") or {}
    facts = [
        ("State", f"{_state(p.get('state'))} ({_e(p.get('mode'))})"),
        ("Pinned", pinned),
        ("Resolved", _e(p.get("effective_target"))),
        ("Rollout", progress),
        (
            "Hosts",
            f"{_e(p.get('available'))} available of {_e(p.get('count'))} wanted; floor {_e(p.get('floor_hosts'))}",
        ),
        ("Strategy", f"{_e(p.get('strategy'))}, batch {_e(p.get('batch_size'))}"),
        ("Maintenance window", window),
    ]
    if p.get("gate_after"):
        facts.append(
            (
                "Gate",
                f"after {_e(p['gate_after'])}: " + (_e(gate.get("why")) if gate.get("why") else "satisfied"),
            )
        )
    if rollout.get("to"):
        facts.append(
            (
                "Whole rollout",
                f"{_e(', '.join(rollout.get('from') or []) or '—')} → {_e(rollout['to'])}: "
                f"{_e(rollout.get('drained'))} drained, {_e(rollout.get('messaged'))} users messaged, "
                f"{_e(rollout.get('logged_off'))} logged off; {_e(rollout.get('batches_left'))} batch(es) left, "
                f"{_e(rollout.get('end'))}"
                + (f" at {_e(rollout['finishes_at'])}" if rollout.get("finishes_at") else ""),
            )
        )
    f = p.get("failures") or {}
    facts.append(
        ("Failures", f"{_e(f.get('count'))} of budget {_e(f.get('budget'))} (then {_e(f.get('on_failure'))})")
    )
    if p.get("quarantined"):
        facts.append(("Quarantined", f'<span class="bad">{_e(p["quarantined"])}</span>'))
    if p.get("next_check"):
        nc = p["next_check"]
        facts.append(
            (
                "Next",
                f"{_e(', '.join(p.get('next_step') or []) or 'check')}: {_e(nc['why'])} at {_e(nc['at'])}",
            )
        )
    states = sorted({s for v in p.get("hosts", {}).values() for s in v})
    host_rows = [
        [_e(version), *[_e(counts.get(s, 0)) for s in states], _e(sum(counts.values()))]
        for version, counts in p.get("hosts", {}).items()
    ]
    out = [
        f'<section class="pool" {anchor} aria-labelledby="h-{_e(p["pool"])}">',
        f'<h2 id="h-{_e(p["pool"])}">{_e(p["pool"])}</h2>',
        _facts(facts),
        _table(f"Hosts of {p['pool']} by version and state", ("Version", *states, "Total"), host_rows),
        "<h3>Capacity against the floor</h3>",
        capacity_chart(p) or '<p class="muted">No samples yet.</p>',
    ]
    if p.get("batch_in_progress"):
        out.append("<p>Batch in progress: " + ", ".join(_e(h) for h in p["batch_in_progress"]) + "</p>")
    waiting = [
        [_e(w["host"]), _e(len(w["users"])), _e(w["deadline"]), _e(w["logoff"])]
        for w in p.get("users_waiting") or ()
    ]
    if waiting:
        out.append(_table("Users being signed out", ("Host", "Users", "Deadline", "Logoff"), waiting))
    cond = [
        [_e(c["type"]), _state(c["status"]), _e(c["reason"]), _e(c["message"]), _e(c["lastTransitionTime"])]
        for c in p.get("conditions") or ()
    ]
    out.append(_table("Conditions", ("Type", "Status", "Reason", "Message", "Since"), cond))
    failed = [
        [_e(h["host"]), _e(h.get("check") or h.get("code")), _e(h.get("reason"))]
        for h in p.get("failed_hosts") or ()
    ]
    out.append(_table("Failures", ("Host", "Check", "Cause"), failed))
    for note in p.get("notes") or ():
        out.append(f'<p class="muted">Note: {_e(note)}</p>')
    out.append("</section>")
    return "".join(out)


def page_pools(view: Mapping[str, Any]) -> str:
    pools = view.get("pools") or []
    body = "".join(_pool(p) for p in pools) or '<p class="muted">No host pools in the desired state.</p>'
    return "<h2>Host pools</h2>" + _rings(view) + body
