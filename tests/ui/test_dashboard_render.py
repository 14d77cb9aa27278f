"""The dashboard's pages are rendered from the view-model with every untrusted value escaped (image names,
messages and build output come from Azure and the desired state), and the routes stay read-only."""

from __future__ import annotations

from reconciler.render.dashboard import PAGES, respond
from reconciler.render.estate_view import estate_view

EVIL = '<img src=x onerror="alert(1)">'


def _view() -> dict:
    pool = {
        "pool": "hp-x",
        "id": "/subscriptions/s/resourcegroups/rg/providers/microsoft.desktopvirtualization/hostpools/hp-x",
        "exists": True,
        "pinned": "2.0.0",
        "target_ready": False,
        "target_why": EVIL,
        "effective_target": "1.0.0",
        "running": {"1.0.0": 1},
        "hosts": {"1.0.0": {"available": 1}},
        "count": 1,
        "strategy": "surge",
        "batch_size": 1,
        "floor_hosts": 0,
        "available": 1,
        "batch_in_progress": [],
        "users_waiting": [],
        "window_open": True,
        "next_window": None,
        "gate": {"satisfied": True, "until": None, "why": None},
        "failures": {"count": 1, "budget": 0, "on_failure": "halt"},
        "quarantined": None,
        "failed_hosts": [{"host": EVIL, "check": "health", "code": None, "reason": EVIL}],
        "mode": "rollout",
        "state": "progressing",
        "next_step": [],
        "next_check": {"at": "2026-12-07T00:00:00+00:00", "why": EVIL},
        "notes": [EVIL],
        "observed_at": "2026-12-07T00:00:00+00:00",
    }
    view = estate_view(pools=[pool], conditions=(), failed_builds=[])
    view["builds"] = [
        {
            "template": EVIL,
            "build": "b",
            "started": None,
            "finished": None,
            "duration_s": 75.0,
            "trigger": "schedule",
            "source": EVIL,
            "result": "Failed",
            "excerpt": EVIL,
            "runs_again": None,
        }
    ]
    return view


def test_every_page_escapes_untrusted_values():
    view = _view()
    for _, _, href in PAGES:
        for path in (href, "/fragment/" + href.strip("/") if href != "/" else "/fragment/estate"):
            code, ctype, body = respond(path, lambda: view)
            text = body.decode()
            assert code == 200 and ctype.startswith("text/html"), path
            assert "<img" not in text and 'onerror="' not in text, path
    pools = respond("/pools", lambda: view)[2].decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pools
    assert "not started" in pools and "1m15s" in respond("/builds", lambda: view)[2].decode()


def test_unknown_paths_are_not_the_dashboards_and_assets_need_no_view():
    def no_view():
        raise AssertionError("static files must not observe the estate")

    assert respond("/nope", no_view) is None
    assert respond("/static/app.js", no_view)[1].startswith("text/javascript")
    assert respond("/static/app.css", no_view)[1].startswith("text/css")


def test_the_pools_page_lists_each_test_vm_and_why_one_left_over_goes():
    view = _view()
    view["pools"][0]["test_vms"] = [
        {"name": "acc-1-2-0", "version": "1.2.0", "since": "2026-12-07T01:00:00+00:00",
         "provisioning": "Succeeded", "state": "running", "reason": None},
        {"name": "acc-1-1-0", "version": "1.1.0", "since": None, "provisioning": "Succeeded",
         "state": "stale", "reason": EVIL},
    ]  # fmt: skip
    pools = respond("/pools", lambda: view)[2].decode()
    assert "Test VMs of hp-x" in pools
    running = pools.index("acc-1-2-0")
    assert "acceptance running" in pools[running:] and "to delete" in pools[pools.index("acc-1-1-0") :]
    assert "<img" not in pools and "&lt;img src=x" in pools[pools.index("acc-1-1-0") :]
    view["pools"][0]["test_vms"] = []
    assert "Test VMs" not in respond("/pools", lambda: view)[2].decode()
