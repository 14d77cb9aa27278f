"""Fixtures for the azure layer (`sandbox_env` comes from tests/conftest.py): the session sandbox seeded with the small estate, and a `Connection` built
exactly as production builds it (DefaultAzureCredential from environment variables, endpoint/authority/CA
from RECONCILE_* / AZURE_AUTHORITY_HOST), only with immediate LRO polling and no exponential backoff."""

from __future__ import annotations

import pytest
from observe_support import PAGE_SIZE, connect
from support.sandbox import time_scale

from reconciler.sandbox.estate import generate


@pytest.fixture
def conn(sandbox_env):
    with connect() as connection:
        yield connection


@pytest.fixture
def estate(sb):
    """The small estate seeded into the sandbox (REST dicts), with a two-item page size and the sandbox clock
    at real speed, so sessions and replications do not move while a test looks at them."""
    with time_scale(sb, 1):
        resources = list(generate("small", sb.subscription_ids, sb.now()))
        # The `sb` fixture's own groups (rg-test, the landing zone's) are listed too, so call floors count them.
        groups = [r for r in sb.app.store.all() if r.get("type") == "Microsoft.Resources/resourceGroups"]
        sb.seed(resources)
        sb.configure(page_size=PAGE_SIZE)
        yield resources + groups
