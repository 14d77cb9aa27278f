"""The Blob Storage backend against Azurite: leases as locks, plans, history and documents."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.store import LockHeld, LockLost, LockState, NotFound, Store, StoreError
from reconciler.store.blob import BlobStore


def test_it_is_a_store(blob_store):
    assert isinstance(blob_store, Store)


def test_a_second_acquirer_is_refused_with_the_holder_named(blob_store, blob_spec):
    lease = blob_store.acquire("leader", owner="replica-a", ttl=timedelta(seconds=15))
    other = BlobStore.from_spec(blob_spec)
    with pytest.raises(LockHeld) as caught:
        other.acquire("leader", owner="replica-b", ttl=timedelta(seconds=15))
    assert "replica-a" in str(caught.value)
    assert other.inspect_lock("leader").state is LockState.HELD
    renewed = blob_store.renew(lease)
    assert renewed.expires_at > lease.expires_at - timedelta(seconds=1)
    blob_store.release(lease)
    assert other.inspect_lock("leader").state is LockState.FREE
    taken = other.acquire("leader", owner="replica-b", ttl=timedelta(seconds=15))
    assert taken.took_over_from is None  # a clean release leaves no record behind


def test_a_broken_lease_is_lost_and_the_next_acquirer_names_the_dead_holder(blob_store, blob_spec):
    lease = blob_store.acquire("leader", owner="replica-a", ttl=timedelta(seconds=15))
    other = BlobStore.from_spec(blob_spec)
    other.break_lock("leader")  # what a lapse looks like, without waiting 15 s
    assert other.inspect_lock("leader").state is LockState.STALE
    taken = other.acquire("leader", owner="replica-b", ttl=timedelta(seconds=15))
    assert taken.took_over_from is not None and taken.took_over_from.owner == "replica-a"
    with pytest.raises(LockLost):
        blob_store.renew(lease)
    blob_store.release(lease)  # releasing a lost lease is harmless and does not free the new holder's
    assert other.inspect_lock("leader").state is LockState.HELD


def test_ttl_outside_azures_range_is_refused(blob_store):
    with pytest.raises(StoreError, match="15-60 s"):
        blob_store.acquire("leader", ttl=timedelta(seconds=5))


def test_plans_history_and_documents_round_trip(blob_store):
    assert blob_store.list_plans() == []
    blob_store.save_plan("nightly", {"changes": [1, 2]})
    assert blob_store.load_plan("nightly") == {"changes": [1, 2]}
    assert blob_store.list_plans() == ["nightly"]
    with pytest.raises(NotFound):
        blob_store.load_plan("missing")
    for i in range(3):
        blob_store.append_history({"n": i})
    history = blob_store.read_history()
    assert [r["n"] for r in history] == [0, 1, 2] and all("recorded_at" in r for r in history)
    assert [r["n"] for r in blob_store.read_history(limit=2)] == [1, 2]
    key = "lro/put:/subscriptions/x/resourcegroups/rg/providers/microsoft.compute/galleries/g"
    blob_store.put(key, {"token": "t"})
    assert blob_store.get(key) == {"token": "t"}
    assert blob_store.keys("lro/") == [key] and blob_store.keys("other/") == []
    assert blob_store.delete(key) and not blob_store.delete(key)
    assert blob_store.get(key) is None


def test_a_bad_target_names_the_problem_without_echoing_the_key():
    with pytest.raises(StoreError, match="malformed") as caught:
        BlobStore.from_spec("AccountKey=secretsecret;nonsense/container")
    assert "secretsecret" not in str(caught.value)
