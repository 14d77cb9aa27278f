"""The ledger of long-running operations, on a real LocalStore."""

import pytest

from reconciler.engine.operations import OperationLedger
from reconciler.store import LocalStore

from .conftest import T0

VERSION = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/RG/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"


def test_record_lookup_forget_case_insensitively(tmp_path):
    ledger = OperationLedger(LocalStore(tmp_path), clock=lambda: T0)
    ledger.record(VERSION, "replicate", "opaque-token", detail={"regions": ["westeurope", "northeurope"]})
    found = ledger.lookup(VERSION.lower(), "replicate")
    assert (found.token, found.started_at, found.detail) == (
        "opaque-token",
        T0,
        {"regions": ["westeurope", "northeurope"]},
    )
    assert ledger.lookup(VERSION, "build") is None
    assert "opaque-token" not in repr(found)
    assert ledger.forget(VERSION.upper(), "replicate") is True
    assert ledger.lookup(VERSION, "replicate") is None


def test_pending_survives_a_new_process_view_of_the_same_folder(tmp_path):
    OperationLedger(LocalStore(tmp_path)).record(VERSION, "replicate", "t1")
    OperationLedger(LocalStore(tmp_path)).record("/subscriptions/x/imageTemplates/b", "build", "t2")
    LocalStore(tmp_path).put("unrelated", {"x": 1})
    pending = OperationLedger(LocalStore(tmp_path)).pending()
    assert sorted((p.operation, p.token) for p in pending) == [("build", "t2"), ("replicate", "t1")]


def test_token_documents_are_readable_by_their_owner_only(tmp_path):
    OperationLedger(LocalStore(tmp_path)).record(VERSION, "replicate", "t1")
    (path,) = (tmp_path / "documents").glob("*.json")
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("operation", ["", "a/b", "a:b"])
def test_operation_names_are_plain(tmp_path, operation):
    with pytest.raises(ValueError, match="operation must be"):
        OperationLedger(LocalStore(tmp_path)).record(VERSION, operation, "t")
