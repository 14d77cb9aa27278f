"""The dashboard as HTML: five pages (Estate, Pools, Builds, Pending, Controller) rendered from the estate
view-model (reconciler.render.estate_view), the same dict `reconcile status -o json` prints.

Every value from Azure or the desired state (image names, messages, build output) is untrusted: it only
enters a page through `_e` (HTML-escaped). `respond(path, view)` maps a GET path to (status, content type,
body) so the HTTP servers stay thin; it does no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.render.dashboard_assets import CSS, JS
from reconciler.render.dashboard_html import _e, _facts, _state, _table
from reconciler.render.dashboard_pools import page_pools

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
