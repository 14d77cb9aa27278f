"""State backends: what Azure cannot hold (the lock/lease, saved plans, apply history, small documents)."""

from reconciler.store.local import LocalStore
from reconciler.store.protocol import (
    DEFAULT_LOCK,
    Holder,
    Lease,
    LockHeld,
    LockLost,
    LockState,
    LockStatus,
    NotFound,
    Store,
    StoreError,
)
from reconciler.store.session import held

__all__ = [
    "DEFAULT_LOCK",
    "Holder",
    "Lease",
    "LocalStore",
    "LockHeld",
    "LockLost",
    "LockState",
    "LockStatus",
    "NotFound",
    "Store",
    "StoreError",
    "held",
]
