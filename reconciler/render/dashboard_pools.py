"""The dashboard's Pools page: rings as a flow, and per pool its pin, hosts by version and state, rollout
progress (the batch line `reconcile status` prints), the capacity chart, conditions and failures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
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


def _clock(at: Any) -> str:
    """An ISO time as a short axis label, 'Dec 07 12:38' (UTC, as every time on the page); '' if none."""
    try:
        return datetime.fromisoformat(str(at)).astimezone(UTC).strftime("%b %d %H:%M") if at else ""
    except ValueError:
        return ""


def _axis_marks(observed: int, points: int, step: float) -> list[tuple[int, str]]:
    """Which points get a time under the axis: the first, the last observed (now) and the last, each far
    enough (70 px) from the ones already labelled that the labels do not overlap."""
    wanted = [(0, "start"), (points - 1, "end")]
    if 0 < observed - 1 < points - 1:
        wanted.insert(1, (observed - 1, "middle"))
    out: list[tuple[int, str]] = []
    for i, anchor in wanted:
        if all(abs(i - j) * step > 70 for j, _ in out):
            out.append((i, anchor))
    return out


def capacity_chart(pool: Mapping[str, Any], width: int = 420, height: int = 150) -> str:
    """Available hosts against the floor over time: the samples observed while someone looked (solid), then
    the batches the plan's simulation expects (dashed), evenly spaced, the first, current and last times
    labelled under the axis."""
    samples = list(pool.get("capacity") or ())
    batches = list((pool.get("rollout") or {}).get("planned_capacity") or ())
    observed = [s["available"] for s in samples]
    planned = [b["available"] for b in batches]
    points = observed + planned
    floor, count = pool.get("floor_hosts") or 0, pool.get("count") or 0
    if not points:
        return ""
    top = max([count, floor, *points, 1])
    left, right, base, head = 30, width - 12, height - 32, 14
    step = (right - left) / max(1, len(points) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return base - (base - head) * v / top

    def xy(i: int, v: int) -> str:
        return f"{x(i):.1f},{y(v):.1f}"

    solid = " ".join(xy(i, v) for i, v in enumerate(observed))
    dashed = " ".join(xy(i, v) for i, v in enumerate(points) if i >= max(0, len(observed) - 1))
    times = [s.get("at") for s in samples] + [b.get("at") for b in batches]
    labels = "".join(
        f'<text x="{x(i):.1f}" y="{height - 18}" font-size="10" fill="#4a5560" text-anchor="{anchor}">'
        f"{_e(_clock(times[i]))}</text>"
        for i, anchor in _axis_marks(len(observed), len(points), step)
        if _clock(times[i])
    )
    title = (
        f"Capacity of {pool['pool']}: {pool.get('available')} available now, floor {floor}; "
        f"{len(observed)} observed sample(s), {len(planned)} planned batch(es)"
    )
    legend = (
        f'<text x="{left}" y="{height - 4}" font-size="10" fill="#0550ae">── observed'
        + ("   ╌╌ planned by the simulation" if planned else "")
        + "</text>"
    )
    chart_id = f"cap-{_e(pool['pool'])}"
    return (
        f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}"><title id="{chart_id}">{_e(title)}</title>'
        f'<line x1="{left}" x2="{right}" y1="{base}" y2="{base}" stroke="#c9d1d9"/>'
        f'<line x1="{left}" x2="{right}" y1="{y(floor):.1f}" y2="{y(floor):.1f}" stroke="#a40e26" '
        'stroke-dasharray="4 3"/>'
        f'<text x="2" y="{y(floor) + 4:.1f}" font-size="10" fill="#a40e26">{_e(floor)}</text>'
        f'<text x="{right}" y="{y(floor) - 3:.1f}" font-size="10" fill="#a40e26" text-anchor="end">floor</text>'
        f'<text x="2" y="{head + 4}" font-size="10" fill="#4a5560">{_e(top)}</text>'
        + (f'<polyline fill="none" stroke="#0550ae" stroke-width="2" points="{solid}"/>' if observed else "")
        + (
            f'<polyline fill="none" stroke="#0550ae" stroke-dasharray="5 4" points="{dashed}"/>'
            if planned
            else ""
        )
        + "".join(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="#0550ae"/>' for i, v in enumerate(observed)
        )
        + labels
        + legend
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


def _whole(rollout: Mapping[str, Any]) -> str:
    """The plan's simulation of the rest of the rollout; when it stops short its counts are partial, so it
    says why instead of showing them."""
    versions = f"{_e(', '.join(rollout.get('from') or []) or '—')} → {_e(rollout['to'])}"
    if rollout.get("end") != "converged":
        return f"{versions}: the plan's simulation stops ({_e(rollout.get('end'))}): {_e(rollout.get('end_why'))}"
    return (
        f"{versions}: {_e(rollout.get('drained'))} drained, {_e(rollout.get('messaged'))} users messaged, "
        f"{_e(rollout.get('logged_off'))} logged off; done at {_e(rollout.get('finishes_at'))}"
    )


_TEST_VM_STATE = {"running": "acceptance running", "deleting": "being deleted", "stale": "to delete"}


def _test_vms(p: Mapping[str, Any]) -> str:
    """Acceptance `where: testVm`: the suite's VM in progress and any left to delete, as `reconcile status`
    lists them (a VM costs money until deleted, so one left over must be visible); nothing for a pool without."""
    rows = [
        [
            _e(vm["name"]),
            _e(vm["version"]),
            _state(_TEST_VM_STATE.get(vm["state"], vm["state"])),
            _e(vm.get("provisioning")),
            _e(vm.get("since") or ""),
            _e(vm.get("reason") or ""),
        ]
        for vm in p.get("test_vms") or ()
    ]
    if not rows:
        return ""
    head = ("Test VM", "Version", "State", "Provisioning", "Since", "Why it goes")
    return _table(f"Test VMs of {p['pool']}", head, rows)


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
        facts.append(("Whole rollout", _whole(rollout)))
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
    out.append(_test_vms(p))
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
