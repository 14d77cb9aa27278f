"""Holding a store's lock for the length of a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from reconciler.store.protocol import DEFAULT_LOCK, Lease, Store


@contextmanager
def held(
    store: Store, name: str = DEFAULT_LOCK, *, owner: str = "", ttl: timedelta | None = None
) -> Iterator[Lease]:
    """Acquire ``name`` (raising LockHeld if taken), yield the lease, and always release it.

    A long holder with a ttl-based backend must call ``store.renew(lease)`` well within the ttl; the local
    backend never expires.
    """
    lease = store.acquire(name, owner=owner, ttl=ttl)
    try:
        yield lease
    finally:
        store.release(lease)
