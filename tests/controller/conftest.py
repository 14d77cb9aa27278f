"""Controller fixtures: Azurite (skipped with a clear reason when node_modules is absent) and blob stores."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def blob_spec(azurite) -> str:
    """A fresh container per test: `--state blob:` value (connection string + container)."""
    return f"{azurite.connection_string}/t{uuid.uuid4().hex[:20]}"


@pytest.fixture
def blob_store(blob_spec):
    from reconciler.store.blob import BlobStore

    return BlobStore.from_spec(blob_spec)
