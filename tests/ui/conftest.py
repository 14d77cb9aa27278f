"""Browser fixtures: Debian's chromium (/usr/bin/chromium) driven by Playwright, pointed at the system
browser (no `playwright install`: these machines cannot download Playwright's own build), and `reconcile ui`
served in process on an ephemeral loopback port against the session sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.sandbox import sandbox_environ

CHROMIUM = Path(os.environ.get("RECONCILE_CHROMIUM", "/usr/bin/chromium"))
# Root in a container has no user namespace for chromium's sandbox; /dev/shm is small in containers.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
TIMEOUT_MS = 60_000  # generous: two cores shared with other test runs


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: `apt-get install -y chromium` (make unit does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def serve_ui(frozen):
    """serve_ui(desired_dir) -> base URL of `reconcile ui` (observing on every poll) for that desired state."""
    from reconciler.cli.ui_cmd import UiServer

    servers = []

    def start(desired: Path) -> str:
        with sandbox_environ(frozen):  # the connection reads the endpoint and credentials once, here
            ui = UiServer(str(desired), "127.0.0.1", 0, interval=0).start()
        servers.append(ui)
        return f"http://127.0.0.1:{ui.port}"

    yield start
    for ui in servers:
        ui.stop()
