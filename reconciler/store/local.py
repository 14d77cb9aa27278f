"""The default state backend: a local folder (``./state``).

Layout (created on first use)::

    state/
      apply.lock              # JSON record of the lock holder; exists only while held, or after a crash
      <name>.lock             # other locks (e.g. "leader"), same format
      plans/<name>.json       # saved plans (reconcile plan -out NAME)
      history.jsonl           # one JSON object per line per apply: the audit trail, append-only
      documents/<sha256>.json # {"key": …, "value": {…}}: small documents such as LRO continuation tokens

Every document write is atomic (temp file + fsync + rename); history appends are single writes. Keys of
documents are arbitrary strings (ARM ids contain slashes and can exceed a file name's length), so files are
named by the key's SHA-256 and carry the key inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.store.atomic import append_jsonl, read_json, read_jsonl, write_json_atomic
from reconciler.store.lockfile import FileLock
from reconciler.store.names import check_name, document_file, is_name
from reconciler.store.protocol import DEFAULT_LOCK, Lease, LockStatus, NotFound, StoreError


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LocalStore:
    """A :class:`~reconciler.store.protocol.Store` in a folder. Safe across processes on one host for the
    lock and the history; documents and plans are last-writer-wins (callers write them under the lock)."""

    def __init__(self, root: str | Path = "./state", *, clock=_utc_now) -> None:
        self.root = Path(root)
        self._clock = clock
        self._locks = FileLock(clock)

    def __repr__(self) -> str:
        return f"LocalStore(root={str(self.root)!r})"

    # -- locks ------------------------------------------------------------------------------------------------

    def lock_path(self, name: str = DEFAULT_LOCK) -> Path:
        return self.root / f"{check_name('lock', name)}.lock"

    def acquire(self, name: str = DEFAULT_LOCK, *, owner: str = "", ttl: timedelta | None = None) -> Lease:
        """Take the lock or raise LockHeld naming its holder. ``ttl`` is accepted for the protocol and
        ignored: the kernel frees a local lock when its holder dies, so it needs no expiry."""
        return self._locks.acquire(name, self.lock_path(name), owner)

    def renew(self, lease: Lease) -> Lease:
        return self._locks.renew(lease, self.lock_path(lease.name))

    def release(self, lease: Lease) -> None:
        self._locks.release(lease, self.lock_path(lease.name))

    def inspect_lock(self, name: str = DEFAULT_LOCK) -> LockStatus:
        return self._locks.inspect(name, self.lock_path(name))

    # -- plans ------------------------------------------------------------------------------------------------

    def _plan_path(self, name: str) -> Path:
        return self.root / "plans" / f"{check_name('plan', name)}.json"

    def save_plan(self, name: str, plan: Mapping[str, Any]) -> str:
        """Save ``plan`` (a JSON-able dict) under ``name``, replacing any older one; returns its location."""
        path = self._plan_path(name)
        write_json_atomic(path, plan)
        return str(path)

    def load_plan(self, name: str) -> dict[str, Any]:
        path = self._plan_path(name)
        plan = read_json(path)
        if plan is None:
            raise NotFound(f"no saved plan named {name!r} (looked for {path})")
        return plan

    def list_plans(self) -> list[str]:
        folder = self.root / "plans"
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.json") if is_name(p.stem))

    # -- history ----------------------------------------------------------------------------------------------

    def history_path(self) -> Path:
        return self.root / "history.jsonl"

    def append_history(self, record: Mapping[str, Any]) -> None:
        """Append one apply record. ``recorded_at`` is added when the record has none."""
        if "recorded_at" not in record:
            record = {**record, "recorded_at": self._clock().astimezone(UTC).isoformat()}
        append_jsonl(self.history_path(), record)

    def read_history(self, limit: int | None = None) -> list[dict[str, Any]]:
        """History records, oldest first; with ``limit``, only the newest ``limit`` of them."""
        records = read_jsonl(self.history_path())
        if limit is not None:
            records = records[-limit:] if limit > 0 else []
        return records

    # -- documents --------------------------------------------------------------------------------------------

    def _doc_path(self, key: str) -> Path:
        return self.root / "documents" / document_file(key)

    def put(self, key: str, doc: Mapping[str, Any]) -> None:
        """Store ``doc`` under ``key`` atomically. Keys are exact: normalise (e.g. lower-case ARM ids) first."""
        write_json_atomic(self._doc_path(key), {"key": key, "value": dict(doc)})

    def get(self, key: str) -> dict[str, Any] | None:
        envelope = read_json(self._doc_path(key))
        if envelope is None:
            return None
        if envelope.get("key") != key:  # a SHA-256 collision, or a file copied by hand
            raise StoreError(f"{self._doc_path(key)} holds key {envelope.get('key')!r}, not {key!r}")
        return envelope["value"]

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        try:
            self._doc_path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self, prefix: str = "") -> list[str]:
        """All keys that start with ``prefix``, sorted (reads every document: fine for the few we keep)."""
        folder = self.root / "documents"
        if not folder.is_dir():
            return []
        found = []
        for path in folder.glob("*.json"):
            envelope = read_json(path)
            key = envelope.get("key") if envelope else None
            if isinstance(key, str) and key.startswith(prefix):
                found.append(key)
        return sorted(found)
