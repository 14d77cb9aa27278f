"""Fixtures for the azure layer: the session sandbox seeded with the small estate, and a `Connection` built
exactly as production builds it (DefaultAzureCredential from environment variables, endpoint/authority/CA
from RECONCILE_* / AZURE_AUTHORITY_HOST), only with immediate LRO polling and no exponential backoff."""

from __future__ import annotations

import pytest
from observe_support import PAGE_SIZE, connect

from reconciler.sandbox.estate import generate


@pytest.fixture
def sandbox_env(sb, monkeypatch):
    for name, value in sb.env.items():
        monkeypatch.setenv(name, value)
    return sb.env


@pytest.fixture
def conn(sandbox_env):
    with connect() as connection:
        yield connection


@pytest.fixture
def estate(sb):
    """The small estate seeded into the sandbox (REST dicts), with a two-item page size and the sandbox clock
    at real speed, so sessions and replications do not move while a test looks at them."""
    scale = sb.clock.time_scale
    sb.set_time_scale(1)
    resources = list(generate("small", sb.subscription_ids, sb.now()))
    # The `sb` fixture's own groups (rg-test, the landing zone's) are listed too, so call floors count them.
    groups = [r for r in sb.app.store.all() if r.get("type") == "Microsoft.Resources/resourceGroups"]
    sb.seed(resources)
    sb.configure(page_size=PAGE_SIZE)
    yield resources + groups
    sb.set_time_scale(scale)
