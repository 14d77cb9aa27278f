"""The shared state backend: one Azure Blob Storage container, with blob leases as locks.

Layout inside the container (created on first use)::

    locks/<name>.lock        # a lease on this blob is the lock; its content is the holder's record
    plans/<name>.json        # saved plans
    history.jsonl            # an append blob: one JSON object per line per apply
    documents/<sha256>.json  # {"key": …, "value": {…}}

Locks are blob leases (Azure allows finite leases of 15-60 s): the holder renews well within ``ttl``; when
it dies the lease lapses and the next ``acquire`` succeeds. The holder's record is written into the lock blob
*under the lease* and blanked on release, so a record still present on an unleased blob means its holder
died without releasing: the next acquirer reports whom it took over from.

Authentication: a connection string (Azurite, or an account key) or an account URL with
``DefaultAzureCredential`` (workload identity in Kubernetes). This is the only store module that imports the
Azure SDK (see .importlinter).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobLeaseClient, BlobServiceClient, ContainerClient

from reconciler.store.lockfile import _this_process
from reconciler.store.names import check_name, document_file, is_name
from reconciler.store.protocol import (
    DEFAULT_LOCK,
    Holder,
    Lease,
    LockHeld,
    LockLost,
    LockState,
    LockStatus,
    NotFound,
    StoreError,
)

MIN_TTL, MAX_TTL = timedelta(seconds=15), timedelta(seconds=60)  # Azure's rule for finite leases
DEFAULT_TTL = timedelta(seconds=30)
CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
_HISTORY = "history.jsonl"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ttl(ttl: timedelta | None) -> timedelta:
    ttl = DEFAULT_TTL if ttl is None else ttl
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise StoreError(f"a blob lease lasts 15-60 s; {ttl.total_seconds():g} s was asked for")
    return ttl


def _encode(doc: Mapping[str, Any]) -> bytes:
    return (json.dumps(doc, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _holder_of(data: bytes) -> Holder | None:
    try:
        return Holder.from_dict(json.loads(data)) if data.strip() else None
    except (ValueError, KeyError, TypeError):
        return None


def parse_target(spec: str) -> tuple[str, str]:
    """``ACCOUNT_URL/CONTAINER``, ``CONNECTION_STRING/CONTAINER`` or ``CONTAINER`` (connection string from
    $AZURE_STORAGE_CONNECTION_STRING, which keeps the account key out of the process list) -> (target,
    container); target "" means "from the environment"."""
    target, _, container = spec.rstrip().rpartition("/")
    if not container:
        raise StoreError(
            f"blob state {spec!r}: name a container, e.g. blob:https://ACCOUNT.blob.core.windows.net/state"
        )
    return target, container


class BlobStore:
    """A :class:`~reconciler.store.protocol.Store` in one blob container."""

    def __init__(self, container: ContainerClient, *, clock=_utc_now) -> None:
        self._container = container
        self._clock = clock
        self._ttls: dict[str, timedelta] = {}
        self._ensured = False

    @classmethod
    def from_spec(cls, spec: str, *, user_agent: str | None = None, clock=_utc_now) -> BlobStore:
        """Build from the part of ``--state blob:…`` after ``blob:`` (see :func:`parse_target`)."""
        target, container = parse_target(spec)
        kwargs: dict[str, Any] = {"retry_total": 3}
        if user_agent:
            kwargs["user_agent"] = user_agent
        if not target:
            target = os.environ.get(CONNECTION_STRING_ENV, "")
            if not target:
                raise StoreError(
                    f"blob state {spec!r} names no account and ${CONNECTION_STRING_ENV} is not set"
                )
        if target.startswith(("https://", "http://")):
            from azure.identity import DefaultAzureCredential

            service = BlobServiceClient(target, credential=DefaultAzureCredential(), **kwargs)
        else:
            try:
                service = BlobServiceClient.from_connection_string(target, **kwargs)
            except ValueError as exc:  # never echo the string: it holds the account key
                raise StoreError(
                    f"blob state: the connection string is malformed ({exc.__class__.__name__})"
                ) from None
        return cls(service.get_container_client(container), clock=clock)

    def __repr__(self) -> str:
        return f"BlobStore(container={self._container.url!r})"

    def _ensure_container(self) -> None:
        if self._ensured:
            return
        try:
            self._container.create_container()
        except ResourceExistsError:
            pass
        except AzureError as exc:
            raise StoreError(
                f"blob state: cannot reach container {self._container.url}: {_short(exc)}"
            ) from None
        self._ensured = True

    def _blob(self, path: str):
        self._ensure_container()
        return self._container.get_blob_client(path)

    # -- locks ------------------------------------------------------------------------------------------------

    def _lock_blob(self, name: str):
        return self._blob(f"locks/{check_name('lock', name)}.lock")

    def acquire(self, name: str = DEFAULT_LOCK, *, owner: str = "", ttl: timedelta | None = None) -> Lease:
        """Take the lease on ``locks/<name>.lock`` or raise LockHeld naming the holder."""
        ttl = _ttl(ttl)
        blob = self._lock_blob(name)
        try:
            blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            pass  # exists already (possibly leased: creating never needs the lease)
        except HttpResponseError as exc:
            if exc.status_code != 412:  # leased blobs answer 412 to an unconditional create
                raise StoreError(f"cannot create lock blob {name!r}: {_short(exc)}") from None
        lease_client = BlobLeaseClient(blob)
        try:
            lease_client.acquire(lease_duration=int(ttl.total_seconds()))
        except HttpResponseError as exc:
            if exc.status_code == 409:
                raise LockHeld(
                    name, self._read_holder(blob), "it renews a lease; it lapses if the holder dies"
                ) from None
            raise StoreError(f"cannot acquire lock {name!r}: {_short(exc)}") from None
        previous = self._read_holder(blob)
        now = self._clock()
        holder = _this_process(owner, now)
        try:
            blob.upload_blob(_encode(holder.to_dict()), overwrite=True, lease=lease_client.id)
        except AzureError as exc:
            lease_client.release()
            raise StoreError(f"cannot record the holder of lock {name!r}: {_short(exc)}") from None
        self._ttls[lease_client.id] = ttl
        return Lease(
            name=name, token=lease_client.id, holder=holder, expires_at=now + ttl, took_over_from=previous
        )

    def renew(self, lease: Lease) -> Lease:
        """Extend the lease by its ttl, or raise LockLost (it lapsed and someone else took it, or it was broken)."""
        blob = self._lock_blob(lease.name)
        ttl = self._ttls.get(lease.token, DEFAULT_TTL)
        try:
            BlobLeaseClient(blob, lease_id=lease.token).renew()
        except AzureError as exc:
            raise LockLost(f"the {lease.name!r} lease could not be renewed: {_short(exc)}") from None
        return replace(lease, expires_at=self._clock() + ttl)

    def release(self, lease: Lease) -> None:
        """Blank the record and release the lease. Never raises: it runs on shutdown paths."""
        self._ttls.pop(lease.token, None)
        try:
            blob = self._lock_blob(lease.name)
            blob.upload_blob(b"", overwrite=True, lease=lease.token)
            BlobLeaseClient(blob, lease_id=lease.token).release()
        except (AzureError, StoreError):
            pass  # not ours any more, or storage unreachable: the lease lapses on its own

    def inspect_lock(self, name: str = DEFAULT_LOCK) -> LockStatus:
        blob = self._lock_blob(name)
        try:
            props = blob.get_blob_properties()
        except ResourceNotFoundError:
            return LockStatus(name=name, state=LockState.FREE)
        holder = self._read_holder(blob)
        if props.lease.state == "leased":
            return LockStatus(name, LockState.HELD, holder, None)
        return LockStatus(
            name, LockState.STALE if holder else LockState.FREE, holder, False if holder else None
        )

    def break_lock(self, name: str = DEFAULT_LOCK) -> None:
        """Break the lease at once (an operator's last resort, and the tests' way to skip a 15 s expiry)."""
        BlobLeaseClient(self._lock_blob(name)).break_lease(lease_break_period=0)

    def _read_holder(self, blob) -> Holder | None:
        try:
            return _holder_of(blob.download_blob().readall())
        except AzureError:
            return None

    # -- plans ------------------------------------------------------------------------------------------------

    def save_plan(self, name: str, plan: Mapping[str, Any]) -> str:
        blob = self._blob(f"plans/{check_name('plan', name)}.json")
        self._upload(blob, _encode(plan))
        return blob.url

    def load_plan(self, name: str) -> dict[str, Any]:
        data = self._download(self._blob(f"plans/{check_name('plan', name)}.json"))
        if data is None:
            raise NotFound(f"no saved plan named {name!r} (looked in {self._container.url}/plans/)")
        return json.loads(data)

    def list_plans(self) -> list[str]:
        self._ensure_container()
        names = (b.name[len("plans/") : -len(".json")] for b in self._container.list_blobs("plans/"))
        return sorted(n for n in names if is_name(n))

    # -- history ----------------------------------------------------------------------------------------------

    def append_history(self, record: Mapping[str, Any]) -> None:
        """One append block per record: atomic, and concurrent appenders never interleave inside a line."""
        if "recorded_at" not in record:
            record = {**record, "recorded_at": self._clock().astimezone(UTC).isoformat()}
        blob = self._blob(_HISTORY)
        line = _encode(record)
        try:
            blob.append_block(line)
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError, HttpResponseError):  # another appender was first
                blob.create_append_blob(if_none_match="*")
            blob.append_block(line)

    def read_history(self, limit: int | None = None) -> list[dict[str, Any]]:
        data = self._download(self._blob(_HISTORY)) or b""
        records = []
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        if limit is not None:
            records = records[-limit:] if limit > 0 else []
        return records

    # -- documents --------------------------------------------------------------------------------------------

    def _doc_blob(self, key: str):
        return self._blob(f"documents/{document_file(key)}")

    def put(self, key: str, doc: Mapping[str, Any]) -> None:
        self._upload(self._doc_blob(key), _encode({"key": key, "value": dict(doc)}))

    def get(self, key: str) -> dict[str, Any] | None:
        data = self._download(self._doc_blob(key))
        if data is None:
            return None
        envelope = json.loads(data)
        if envelope.get("key") != key:
            raise StoreError(f"document for {key!r} holds key {envelope.get('key')!r}")
        return envelope["value"]

    def delete(self, key: str) -> bool:
        try:
            self._doc_blob(key).delete_blob()
        except ResourceNotFoundError:
            return False
        return True

    def keys(self, prefix: str = "") -> list[str]:
        self._ensure_container()
        found = []
        for item in self._container.list_blobs("documents/"):
            data = self._download(self._container.get_blob_client(item.name))
            key = json.loads(data).get("key") if data else None
            if isinstance(key, str) and key.startswith(prefix):
                found.append(key)
        return sorted(found)

    # -- helpers ----------------------------------------------------------------------------------------------

    def _upload(self, blob, data: bytes) -> None:
        try:
            blob.upload_blob(data, overwrite=True)
        except AzureError as exc:
            raise StoreError(f"cannot write {blob.blob_name}: {_short(exc)}") from None

    def _download(self, blob) -> bytes | None:
        try:
            return blob.download_blob().readall()
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise StoreError(f"cannot read {blob.blob_name}: {_short(exc)}") from None


def _short(exc: Exception) -> str:
    """The first line of an SDK error, with its error code: never the request (headers carry signatures)."""
    code = getattr(exc, "error_code", None)
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return f"{code}: {text}" if code else text
