"""Helpers shared by the azure-layer tests (imported as a top-level module: tests/azure has no __init__.py,
because a package named `azure` would shadow the Azure SDK)."""

from __future__ import annotations

from reconciler.azure.connection import Connection, ConnectionSettings

PAGE_SIZE = 2  # small pages so every collection with more than two items is paged


def of_type(resources, rtype: str) -> list[dict]:
    return [r for r in resources if r.get("type", "").lower() == rtype.lower()]


def connect(**overrides) -> Connection:
    """A Connection built as production builds it, from the environment (set by the `sandbox_env` fixture),
    with immediate LRO polling and no exponential backoff (waits come only from Retry-After)."""
    settings = ConnectionSettings.from_env(polling_interval=0, retry_backoff_factor=0, **overrides)
    return Connection(settings)
