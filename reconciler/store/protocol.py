"""What every state backend offers, and the errors it raises.

The store keeps only what Azure cannot hold (see DESIGN.md "Where rollout progress lives"): the apply lock
or leader lease, saved plans, the apply history, and small JSON documents such as LRO continuation tokens.
Rollout progress itself lives on the Azure resources as tags.

Locks are modelled as **leases** so that one protocol fits both backends:

- ``acquire(name, owner=…, ttl=…)`` -> :class:`Lease`, or :class:`LockHeld` naming the current holder;
- ``renew(lease)`` -> a fresh Lease, or :class:`LockLost` when it is no longer ours;
- ``release(lease)`` -- idempotent, safe to call from a signal handler's cleanup path.

A Blob Storage backend maps these onto blob leases (``ttl`` 15-60 s, renewed by the holder, expiring when it
dies). The local backend holds an OS file lock that the kernel drops when the holder dies, so it ignores
``ttl`` (``expires_at`` stays None) and detects a crashed holder instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

DEFAULT_LOCK = "apply"


class StoreError(Exception):
    """A state backend problem the user must see (unreadable file, bad name…)."""


class NotFound(StoreError, KeyError):
    """A saved plan (or other named item) that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: enough to tell a person where to look, and to tell whether that process lives."""

    owner: str
    pid: int
    host: str
    acquired_at: datetime
    process_started_at: float | None = None  # psutil create_time, to tell a reused pid from the holder

    def describe(self) -> str:
        who = f"pid {self.pid} on host {self.host}"
        if self.owner:
            who += f" ({self.owner})"
        return f"{who} since {self.acquired_at.isoformat()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "pid": self.pid,
            "host": self.host,
            "acquired_at": self.acquired_at.isoformat(),
            "process_started_at": self.process_started_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Holder:
        return cls(
            owner=str(data.get("owner", "")),
            pid=int(data["pid"]),
            host=str(data["host"]),
            acquired_at=datetime.fromisoformat(str(data["acquired_at"])),
            process_started_at=data.get("process_started_at"),
        )


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lock. ``token`` identifies this holding (a blob lease id, or a local random token);
    ``took_over_from`` is set when the lock was taken from a holder that had crashed."""

    name: str
    token: str
    holder: Holder
    expires_at: datetime | None = None
    took_over_from: Holder | None = None


class LockState(StrEnum):
    FREE = "free"
    HELD = "held"
    STALE = "stale"  # the lock's record is still there but its holder is gone (crashed)


@dataclass(frozen=True, slots=True)
class LockStatus:
    """What ``inspect_lock`` sees. ``holder_alive`` is None when it cannot be told (another host)."""

    name: str
    state: LockState
    holder: Holder | None = None
    holder_alive: bool | None = None


class LockHeld(StoreError):
    """Someone else holds the lock. The message names them so the user knows whom to wait for."""

    def __init__(self, name: str, holder: Holder | None, note: str = "") -> None:
        self.name = name
        self.holder = holder
        who = holder.describe() if holder else "another process (its record is not readable yet)"
        message = f"the {name!r} lock is held by {who}"
        super().__init__(message + (f"; {note}" if note else ""))


class LockLost(StoreError):
    """A renew or a write under a lease that is no longer ours: stop writing at once."""


@runtime_checkable
class Store(Protocol):
    """A state backend. Implementations: :class:`reconciler.store.local.LocalStore` (the Blob one is next)."""

    # -- locks / leases ---------------------------------------------------------------------------------------
    def acquire(
        self, name: str = DEFAULT_LOCK, *, owner: str = "", ttl: timedelta | None = None
    ) -> Lease: ...

    def renew(self, lease: Lease) -> Lease: ...

    def release(self, lease: Lease) -> None: ...

    def inspect_lock(self, name: str = DEFAULT_LOCK) -> LockStatus: ...

    # -- saved plans ----------------------------------------------------------------------------------------------
    def save_plan(self, name: str, plan: Mapping[str, Any]) -> str: ...

    def load_plan(self, name: str) -> dict[str, Any]: ...

    def list_plans(self) -> list[str]: ...

    # -- the apply history (append-only) ------------------------------------------------------------------------
    # One record per apply, whatever its end (reconciler.engine.apply.history_record): ``outcome`` is one of
    # succeeded | pending | failed | timed-out | interrupted, with its counts. Backends store it as given.
    def append_history(self, record: Mapping[str, Any]) -> None: ...

    def read_history(self, limit: int | None = None) -> list[dict[str, Any]]: ...

    # -- small JSON documents (e.g. LRO continuation tokens keyed by resource id) -------------------------------
    def put(self, key: str, doc: Mapping[str, Any]) -> None: ...

    def get(self, key: str) -> dict[str, Any] | None: ...

    def delete(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> list[str]: ...
