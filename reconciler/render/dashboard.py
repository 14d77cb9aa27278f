"""The dashboard as HTML: five pages (Estate, Pools, Builds, Pending, Controller) rendered from the estate
view-model (reconciler.render.estate_view), the same dict `reconcile status -o json` prints.

Every value from Azure or the desired state (image names, messages, build output) is untrusted: it only
enters a page through `_e` (HTML-escaped). `respond(path, view)` maps a GET path to (status, content type,
body) so the HTTP servers stay thin; it does no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from reconciler.render.dashboard_assets import CSS, JS

PAGES = (
    ("estate", "Estate", "/"),
    ("pools", "Pools", "/pools"),
    ("builds", "Builds", "/builds"),
    ("pending", "Pending", "/pending"),
    ("controller", "Controller", "/controller"),
)
REFRESH_MS = 3000
HEADERS = {
    # Only this origin's own script and stylesheet: an escaped value that slipped through could not run.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _e(value: Any) -> str:
    return escape("—" if value is None or value == "" else str(value), quote=True)


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], *, row_header=True) -> str:
    """`rows` hold already-escaped cells; the first cell of each row is its header when `row_header`."""
    if not rows:
        return f'<p class="muted">{_e(caption)}: none.</p>'
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{_e(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = [
            f'<th scope="row">{c}</th>' if i == 0 and row_header else f"<td>{c}</td>"
            for i, c in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _state(value: Any) -> str:
    text = str(value or "")
    cls = (
        "ok"
        if text.lower() in ("succeeded", "completed", "converged", "available", "passed", "true", "forced")
        else "bad"
        if text.lower() in ("failed", "halted", "canceled", "partiallysucceeded", "stalled", "quarantined")
        else "warn"
    )
    return f'<span class="{cls}">{_e(value)}</span>'


def _facts(items: Sequence[tuple[str, str]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


# --- Estate -------------------------------------------------------------------------------------------------


def _acceptance(a: Mapping[str, Any] | None) -> str:
    if not a:
        return '<span class="muted">—</span>'
    text = f"{_state(a['state'])} {_e(a.get('time'))}"
    if a.get("host"):
        text += f" on {_e(a['host'])}"
    if a.get("reason"):
        text += f": {_e(a['reason'])}"
    if a.get("failure"):
        text += f"<pre>{_e(a['failure'])}</pre>"
    return text


def page_estate(view: Mapping[str, Any]) -> str:
    out = ["<h2>Estate</h2>"]
    if not view.get("estate"):
        out.append('<p class="muted">No galleries observed.</p>')
    for g in view.get("estate", ()):
        out.append(f'<h3>Gallery {_e(g["name"])} <span class="muted">({_e(g["location"])})</span></h3>')
        for d in g["definitions"]:
            rows = []
            for v in d["versions"]:
                regions = "<br>".join(
                    f"{_e(r['name'])}: {_state(r['state'])}"
                    + (f" ×{_e(r['replicas'])}" if r.get("replicas") else "")
                    + (" (excluded from latest)" if r.get("exclude_from_latest") else "")
                    for r in v["regions"]
                )
                hosts = (
                    "<br>".join(f"{_e(pool)}: {_e(n)}" for pool, n in v["hosts"].items())
                    or '<span class="muted">none</span>'
                )
                rows.append(
                    [
                        _e(v["name"]),
                        _state(v["state"]),
                        regions or "—",
                        _e(v["end_of_life"]),
                        "yes" if v["exclude_from_latest"] else "no",
                        _acceptance(v.get("acceptance")),
                        hosts,
                    ]
                )
            caption = f"Definition {d['name']} ({d.get('os') or 'os ?'})"
            if d.get("end_of_life"):
                caption += f", end of life {d['end_of_life']}"
            head = ("Version", "State", "Replication", "End of life", "Excluded", "Acceptance", "Hosts")
            out.append(_table(caption, head, rows))
    return "".join(out)


# --- Pools --------------------------------------------------------------------------------------------------


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


def _pool(p: Mapping[str, Any]) -> str:
    anchor = f'id="pool-{_e(p["pool"])}"'
    if not p.get("exists"):
        return f'<section class="pool" {anchor}><h2>{_e(p["pool"])}</h2><p>Does not exist in Azure yet.</p></section>'
    rollout = p.get("rollout") or {}
    batch = rollout.get("batch")
    progress = "not rolling"
    if batch and not batch["current"]:
        progress = f'<span class="batch">not started</span>: {_e(batch["total"])} batch(es) to go'
    elif batch:
        progress = (
            f'<span class="batch">batch {_e(batch["current"])} of {_e(batch["total"])}</span> '
            f'<progress max="{_e(batch["hosts"])}" value="{_e(min(batch["done_hosts"], batch["hosts"]))}">'
            f"{_e(batch['done_hosts'])} of {_e(batch['hosts'])}</progress> "
            f"{_e(batch['done_hosts'])} of {_e(batch['hosts'])} hosts on the pin"
        )
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


# --- Builds, Pending, Controller ----------------------------------------------------------------------------


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def page_builds(view: Mapping[str, Any]) -> str:
    rows = [
        [
            _e(b["template"]),
            _e(b["started"]),
            _e(_duration(b["duration_s"])),
            _e(b["trigger"]),
            _e(b["source"]),
            _state(b["result"]),
            (f"<pre>{_e(b['excerpt'])}</pre>" if b.get("excerpt") else "—")
            + (f"<p>{_e(b['runs_again'])}</p>" if b.get("runs_again") else ""),
        ]
        for b in view.get("builds") or ()
    ]
    head = ("Template", "Started", "Duration", "Trigger", "Resolved source", "Result", "Diagnostic")
    return "<h2>Builds</h2>" + _table("Recent Image Builder runs, newest first", head, rows)


def page_pending(view: Mapping[str, Any]) -> str:
    rows = [
        [_e(w["what"]), _e(w["kind"]), _e(w["why"]), _e(w.get("at") or "when it happens"), _e(w.get("next"))]
        for w in view.get("pending") or ()
    ]
    head = ("What", "Kind", "Waits for", "When", "Then")
    return "<h2>What happens next</h2>" + _table("Pending waits, soonest first", head, rows)


def page_controller(view: Mapping[str, Any]) -> str:
    c = view.get("controller")
    if not c:
        return (
            "<h2>Controller</h2><p>No controller: this is <code>reconcile ui</code>, observing the estate "
            "directly. <code>reconcile run</code> serves this page with its own cycles.</p>"
        )
    last = c.get("last_cycle") or {}
    facts = [
        ("Identity", _e(c.get("identity"))),
        ("Role", _e(c.get("role"))),
        ("Leader", _e(c.get("leader"))),
        ("Dry run", _e(c.get("dry_run"))),
        ("Suspended", _e(c.get("suspended"))),
        ("Cycles", _e(c.get("cycles"))),
        ("Consecutive failures", _e(c.get("consecutive_failures"))),
        ("Last success", _e(c.get("last_success_at"))),
        ("Next cycle in", f"{_e(c.get('next_cycle_in_s'))} s"),
        ("Latest commit", _e(c.get("latest_commit"))),
        ("Last good commit", _e(c.get("last_good_commit"))),
    ]
    if c.get("invalid"):
        facts.append(("Invalid desired state", f'<span class="bad">{_e(c["invalid"])}</span>'))
    if c.get("source_error"):
        facts.append(("Source error", f'<span class="bad">{_e(c["source_error"])}</span>'))
    out = ["<h2>Controller</h2>", _facts(facts)]
    if last:
        row = [
            _e(last.get("finished_at")),
            _e((last.get("commit") or "")[:12]),
            _state("succeeded" if last.get("ok") else "failed"),
            _e(last.get("duration_s")),
            _e(", ".join(f"{k}: {v}" for k, v in (last.get("drift") or {}).items())),
            _e(last.get("error")),
        ]
        head = ("Finished", "Commit", "Result", "Seconds", "Drift", "Error")
        out.append(_table("Last cycle", head, [row]))
    return "".join(out)


RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "estate": page_estate,
    "pools": page_pools,
    "builds": page_builds,
    "pending": page_pending,
    "controller": page_controller,
}


def fragment(page: str, view: Mapping[str, Any]) -> str:
    """The content of `<main>` for `page`: what the page's script swaps in without a reload."""
    stale = ""
    if view.get("error"):
        stale = f'<p class="stale" role="status">Showing the last good observation: {_e(view["error"])}</p>'
    observed = f'<p class="muted" id="observed-at">Observed at {_e(view.get("observed_at"))}</p>'
    return stale + RENDERERS[page](view) + observed


def document(page: str, view: Mapping[str, Any], title: str = "AVD image reconciler") -> str:
    nav = "".join(
        f'<li><a href="{href}"' + (' aria-current="page"' if key == page else "") + f">{label}</a></li>"
        for key, label, href in PAGES
    )
    label = dict((k, v) for k, v, _ in PAGES)[page]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(label)} · {_e(title)}</title>"
        '<link rel="stylesheet" href="/static/app.css"></head>'
        f'<body data-page="{page}" data-refresh="{REFRESH_MS}">'
        '<a class="skip" href="#main">Skip to content</a>'
        f"<header><h1>{_e(title)}</h1><p>Read-only; updates itself every {REFRESH_MS // 1000} s.</p></header>"
        f'<nav aria-label="Pages"><ul>{nav}</ul></nav>'
        f'<main id="main" tabindex="-1" aria-live="polite">{fragment(page, view)}</main>'
        '<script src="/static/app.js" defer></script></body></html>'
    )


def respond(path: str, view: Callable[[], Mapping[str, Any]]) -> tuple[int, str, bytes] | None:
    """(status, content type, body) for a dashboard GET path, or None when the path is not the dashboard's.
    `view` is called only for paths that show data (the static files need none)."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = path.rstrip("/") or "/"
    if path == "/static/app.css":
        return 200, "text/css; charset=utf-8", CSS.encode()
    if path == "/static/app.js":
        return 200, "text/javascript; charset=utf-8", JS.encode()
    if path == "/api/view":
        return 200, "application/json", json.dumps(view(), indent=2, default=str).encode()
    pages = {href: key for key, _, href in PAGES}
    if path in pages:
        return 200, "text/html; charset=utf-8", document(pages[path], view()).encode()
    if path.startswith("/fragment/") and path.removeprefix("/fragment/") in RENDERERS:
        return 200, "text/html; charset=utf-8", fragment(path.removeprefix("/fragment/"), view()).encode()
    return None
