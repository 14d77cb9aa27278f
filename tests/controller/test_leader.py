"""Leader election: one leader, renewals, a leader that cannot renew stops before its lease can lapse,
release hands over at once, and break/lapse is noticed (Azurite, without waiting out a 15 s lease)."""

from __future__ import annotations

import threading
from datetime import timedelta

from reconciler.controller.leader import LeaderElector
from reconciler.store import LocalStore, StoreError
from reconciler.store.blob import BlobStore

from .fakes import FakeClock

TTL = timedelta(seconds=15)


class FlakyStore:
    """A real LocalStore whose renewals can be made to fail like an unreachable storage account."""

    def __init__(self, inner) -> None:
        self.inner, self.down = inner, False

    def acquire(self, *a, **k):
        if self.down:
            raise StoreError("storage unreachable")
        return self.inner.acquire(*a, **k)

    def renew(self, lease):
        if self.down:
            raise StoreError("storage unreachable")
        return self.inner.renew(lease)

    def release(self, lease):
        self.inner.release(lease)


def test_a_leader_that_cannot_renew_stops_before_the_lease_could_lapse(tmp_path):
    clock = FakeClock()
    changes: list[bool] = []
    store = FlakyStore(LocalStore(tmp_path))
    elector = LeaderElector(store, identity="a", ttl=TTL, clock=clock, on_change=changes.append)
    assert elector.step() and elector.is_leader() and changes == [True]
    store.down = True
    clock.advance(5)
    assert elector.step()  # one failed renew inside the validity window: still leading
    clock.advance(6.3)  # 11.3 s after the last good renew: past ttl - margin (15 - 3.75)
    assert not elector.is_leader()
    assert not elector.step() and changes == [True, False]
    store.down = False
    clock.advance(1)
    elector.step()
    assert elector.is_leader() and changes == [True, False, True]
    elector.release()


def test_one_leader_on_a_blob_lease_and_release_hands_over(blob_spec):
    a = LeaderElector(BlobStore.from_spec(blob_spec), identity="a", ttl=TTL)
    b = LeaderElector(BlobStore.from_spec(blob_spec), identity="b", ttl=TTL)
    assert a.step() and not b.step()
    assert b.holder == "a"
    assert a.step() and not b.step()  # renewals keep it
    a.release()
    assert not a.is_leader() and b.step() and b.is_leader()
    b.release()


def test_a_broken_lease_is_noticed_on_the_next_renew(blob_spec):
    lost = threading.Event()
    a = LeaderElector(
        BlobStore.from_spec(blob_spec), identity="a", ttl=TTL, on_change=lambda leading: leading or lost.set()
    )
    b = LeaderElector(BlobStore.from_spec(blob_spec), identity="b", ttl=TTL)
    assert a.step()
    BlobStore.from_spec(blob_spec).break_lock("leader")  # what a lapse looks like to the others
    assert b.step()  # b takes it
    assert not a.step() and not a.is_leader() and lost.is_set()
    b.release()


def test_the_validity_timer_fires_without_a_step(tmp_path):
    """A renew call that hangs cannot keep a leader writing: a timer ends its validity."""
    lost = threading.Event()
    elector = LeaderElector(
        LocalStore(tmp_path),
        identity="a",
        ttl=timedelta(seconds=0.6),
        margin=timedelta(seconds=0.3),
        on_change=lambda leading: leading or lost.set(),
    )
    assert elector.step()
    assert lost.wait(3), "no step happened, yet validity should have run out after 0.3 s"
    assert not elector.is_leader()
    elector.release()
