"""The dashboard in a real headless browser (Debian chromium via Playwright) against the sandbox mid-rollout:
what the pool page shows, that a rollout step appears without a reload, and that a keyboard reaches every
page. Screenshots go to the test's tmp dir (RECONCILE_DOCS_SCREENSHOT=1 also refreshes docs/dashboard-pool.png).

No wall-clock assertions: the sandbox clock is frozen and moved by the test; the page is awaited by
selector with generous timeouts (tests/ui/conftest.py).
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from ui.estate import cycle, seeded

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard-pool.png"


def view_of(base: str) -> dict:
    with urllib.request.urlopen(base + "/api/view", timeout=120) as r:
        return json.loads(r.read())


def canary_of(base: str) -> dict:
    return next(p for p in view_of(base)["pools"] if p["pool"] == "hp-canary")


def hosts_row(page, pool: str, version: str):
    return page.locator(f"#pool-{pool} table").first.locator(
        "tr", has=page.locator(f"th:text-is('{version}')")
    )


@pytest.fixture
def midway(frozen, tmp_path, serve_ui):
    """hp-canary mid-rollout: its first 2.0.0 host created (one apply pass), the page open on Pools."""
    root = seeded(frozen, tmp_path / "d")
    cycle(frozen, root)
    return root, serve_ui(root)


def test_pool_page_shows_batch_hosts_by_version_rings_and_capacity(midway, page, tmp_path):
    _, base = midway
    page.goto(base + "/pools")
    canary = page.locator("#pool-hp-canary")
    expect(canary.locator(".batch")).to_have_text("batch 1 of 2")
    # the batch under way is the new host and the one it replaces; one more batch after it
    expect(canary).to_contain_text("under way: canary-1, canary-2; 1 more to go")
    expect(hosts_row(page, "hp-canary", "1.0.0")).to_contain_text("2")
    expect(hosts_row(page, "hp-canary", "2.0.0").locator("td").nth(1)).to_have_text(
        "1"
    )  # its VM, no host yet
    expect(canary).to_contain_text("Batch in progress: canary-2")
    conditions = canary.locator("table", has=page.locator("caption", has_text="Conditions"))
    expect(conditions).to_contain_text("rollout under way")
    expect(conditions).not_to_contain_text("0 rollout batch")
    expect(page.locator("#pool-hp-prod .batch")).to_have_text("not started")
    rings = page.locator("ol.rings > li")
    expect(rings).to_have_count(2)
    expect(rings.nth(0)).to_contain_text("validation: hp-canary")
    expect(rings.nth(1)).to_contain_text("production: hp-prod")
    expect(canary.locator("svg.chart title")).to_contain_text("floor 1")
    expect(canary.locator("table caption", has_text="Conditions")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "pools.png"), full_page=True)
    assert (tmp_path / "pools.png").stat().st_size > 10_000


def test_a_rollout_step_appears_without_a_reload(midway, frozen, page, tmp_path):
    root, base = midway
    page.goto(base + "/pools")
    expect(page.locator("#pool-hp-canary .batch")).to_have_text("batch 1 of 2")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloaded
    states = set()
    for _ in range(60):  # apply passes until the new host is Available (it registers, then joins)
        cycle(frozen, root)
        pool = canary_of(base)
        states |= set(pool["hosts"].get("2.0.0", {}))
        if pool["hosts"].get("2.0.0", {}).get("available"):
            break
    else:
        raise AssertionError(f"canary-2 never became available: {pool['hosts']}")
    # its VM was counted before it was a session host, then while it registered
    assert {"unregistered", "registering"} <= states, states
    header = page.locator("#pool-hp-canary table").first.locator("thead")
    expect(header).to_contain_text("available")
    available = hosts_row(page, "hp-canary", "2.0.0")
    expect(available.locator("td").first).to_have_text("1", timeout=90_000)
    assert page.evaluate("window.__sameDocument === true")
    page.screenshot(path=str(tmp_path / "pools-after.png"), full_page=True)
    for _ in range(60):  # until the old host is gone and the second batch starts
        cycle(frozen, root)
        batch = canary_of(base)["rollout"]["batch"]
        if batch and batch["current"] == 2 and batch["running"]:
            break
    else:
        raise AssertionError(f"the second batch never started: {batch}")
    canary = page.locator("#pool-hp-canary")
    expect(canary.locator(".batch")).to_have_text("batch 2 of 2", timeout=90_000)
    expect(canary).to_contain_text("0 more to go")
    expect(canary.locator("svg.chart circle")).not_to_have_count(1)  # a sample per look: a line over time
    assert page.evaluate("window.__sameDocument === true")
    page.screenshot(path=str(tmp_path / "pools-second-batch.png"), full_page=True)
    if os.environ.get("RECONCILE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        canary.screenshot(path=str(DOCS_SCREENSHOT))


def test_keyboard_reaches_every_page(midway, page):
    _, base = midway
    page.goto(base + "/")
    expect(page.locator("main h2").first).to_have_text("Estate")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    reached = []
    for _ in range(5):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent"))
    assert reached == ["Estate", "Pools", "Builds", "Pending", "Controller"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back on Builds
    page.keyboard.press("Enter")
    expect(page).to_have_url(base + "/builds")
    expect(page.locator("main h2")).to_have_text("Builds")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Builds")


def test_estate_and_pending_pages(midway, page, tmp_path):
    _, base = midway
    page.goto(base + "/")
    table = page.locator("main table").first
    v1 = table.locator("tr", has=page.locator("th:text-is('1.0.0')"))
    expect(v1).to_contain_text("hp-canary: 2")
    expect(v1).to_contain_text("hp-prod: 4")
    expect(v1).to_contain_text("westeurope: Completed")
    # canary-2's VM exists, but it is no session host until it registers: no pool runs 2.0.0 yet
    expect(table.locator("tr", has=page.locator("th:text-is('2.0.0')"))).to_contain_text("Succeeded")
    page.screenshot(path=str(tmp_path / "estate.png"), full_page=True)
    page.goto(base + "/pending")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_contain_text("hp-canary")
    expect(page.locator("main table")).to_contain_text("waits for pool hp-canary")


def test_api_view_is_the_status_view_and_holds_no_token(midway, page):
    _, base = midway
    response = page.request.get(base + "/api/view")
    assert response.ok and response.headers["content-type"] == "application/json"
    view = response.json()
    assert [p["pool"] for p in view["pools"]] == ["hp-canary", "hp-prod"]

    def keys(value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield k
                yield from keys(v)
        elif isinstance(value, list):
            for v in value:
                yield from keys(v)

    assert not [k for k in keys(view) if "token" in k.lower() or "secret" in k.lower()]
    assert "registrationInfo" not in json.dumps(view)
    html = page.request.get(base + "/pools")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert page.request.post(base + "/pools").status == 501  # read-only: GET only
