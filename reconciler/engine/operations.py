"""The ledger of long-running operations that were started and not yet seen to finish.

An action that starts an ARM long-running operation (an image build, a version replication) answers
``WaitUntil`` and must find the operation again when it is called back -- possibly in the next cycle, after a
crash, or on another controller replica. Azure cannot tell us "the poller you had": the SDK's continuation
token can. So the token is recorded here, in the store, keyed by the lower-cased resource id and the
operation's name, and forgotten once the operation is seen to finish.

This is the one piece of progress the store keeps; everything else about a rollout lives on the resources as
tags. Losing the ledger is harmless: the next observation sees the resource's ``provisioningState`` and the
action starts over idempotently (ARM PUT is idempotent).

Continuation tokens hold the operation's initial response; the store writes documents owner-readable only
(mode 0600), and nothing here logs a token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.store import Store

PREFIX = "lro/"

# How long a recorded operation is waited on before it is presumed lost and the write sent again: about 3x
# the longest Azure documents or we see for it (limits.md). An Image Builder run may take its
# buildTimeoutInMinutes (at most 960 min) plus distribution; a version's replication to many regions, hours;
# anything else (VM, extension, pool, tag writes) minutes. Past the deadline the caller re-sends the same
# idempotent write (PUT of the desired body, PATCH, DELETE): on a resource Azure finished or dropped, that
# converges (a DELETE of a gone resource is a 204; a PUT of what is there is a no-op); on a Failed one it is
# the repair.
OPERATION_DEADLINES: Mapping[str, timedelta] = {"run": timedelta(hours=48), "put": timedelta(hours=12)}
DEFAULT_DEADLINE = timedelta(hours=3)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PendingOperation:
    resource_id: str
    operation: str
    token: str
    started_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print the token: it is an opaque blob of request state
        return (
            f"PendingOperation(resource_id={self.resource_id!r}, operation={self.operation!r}, "
            f"started_at={self.started_at.isoformat()!r})"
        )


class OperationLedger:
    """Record, find and forget continuation tokens of long-running operations in a :class:`Store`."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = _utc_now) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def key(resource_id: str, operation: str) -> str:
        """``lro/<operation>:<resource id, lower-cased>`` -- ARM ids are case-insensitive, and the SDK and
        the sandbox may spell them differently."""
        if not operation or ":" in operation or "/" in operation:
            raise ValueError(f"operation must be a non-empty name without ':' or '/', got {operation!r}")
        return f"{PREFIX}{operation}:{resource_id.lower()}"

    def record(
        self, resource_id: str, operation: str, token: str, *, detail: Mapping[str, Any] | None = None
    ) -> PendingOperation:
        """Remember that ``operation`` on ``resource_id`` was started and can be resumed with ``token``."""
        pending = PendingOperation(
            resource_id=resource_id,
            operation=operation,
            token=token,
            started_at=self._clock(),
            detail=dict(detail or {}),
        )
        self._store.put(
            self.key(resource_id, operation),
            {
                "resource_id": resource_id,
                "operation": operation,
                "token": token,
                "started_at": pending.started_at.astimezone(UTC).isoformat(),
                "detail": dict(pending.detail),
            },
        )
        return pending

    def lookup(self, resource_id: str, operation: str) -> PendingOperation | None:
        doc = self._store.get(self.key(resource_id, operation))
        return _from_doc(doc) if doc is not None else None

    def forget(self, resource_id: str, operation: str) -> bool:
        """Drop the record once the operation finished (either way); True when there was one."""
        return self._store.delete(self.key(resource_id, operation))

    def pending(self) -> list[PendingOperation]:
        """Every recorded operation, sorted by key -- for ``reconcile status`` and for resuming a cycle."""
        found = []
        for key in self._store.keys(PREFIX):
            doc = self._store.get(key)
            if doc is not None:
                found.append(_from_doc(doc))
        return found


def overdue(
    pending: PendingOperation, now: datetime, deadlines: Mapping[str, timedelta] | None = None
) -> bool:
    """The operation ran past its deadline (see OPERATION_DEADLINES): stop waiting on it."""
    limit = (deadlines or OPERATION_DEADLINES).get(pending.operation, DEFAULT_DEADLINE)
    return now - pending.started_at > limit


def _from_doc(doc: Mapping[str, Any]) -> PendingOperation:
    return PendingOperation(
        resource_id=str(doc["resource_id"]),
        operation=str(doc["operation"]),
        token=str(doc["token"]),
        started_at=datetime.fromisoformat(str(doc["started_at"])),
        detail=dict(doc.get("detail") or {}),
    )
