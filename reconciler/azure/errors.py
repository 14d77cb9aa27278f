"""What an SDK error says, as plain data: HTTP status, ARM code, message and the service's Retry-After.

azure-core keeps the response on an `HttpResponseError` (`exc.response`), headers included; the engine's
classifier (`reconciler.engine.classify`) needs the status and the Retry-After as much as the code, and the
engine may not import `azure.*`, so they are read here once.

Retry-After forms, as azure-core's own `RetryPolicy` reads them (see azure-surface.md 2.4): `retry-after-ms`
and `x-ms-retry-after-ms` in milliseconds, then `Retry-After` in seconds (a float is accepted) or as an
HTTP-date. An HTTP-date is measured against the response's own `Date`, so the wait is in server time (the
sandbox's clock, or Azure's) and not against our wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from reconciler.azure.writes_lro import error_of

MS_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")


@dataclass(frozen=True, slots=True)
class ArmError:
    """One failed ARM call. `status` is None for a long-running operation that ended Failed (its status body
    carries only a code); `retry_after` is seconds of server time, None when the service named no delay."""

    status: int | None
    code: str
    message: str
    retry_after: float | None = None


def error_info(exc: Any) -> ArmError:
    """The status, ARM code, one-line message and Retry-After of an SDK `HttpResponseError`."""
    code, message = error_of(exc)
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    return ArmError(status, code, message, retry_after_of(response))


def retry_after_of(response: Any) -> float | None:
    """Seconds the service asked us to wait, from a response's headers (None: it named none)."""
    return retry_after_in(getattr(response, "headers", None))


def retry_after_in(headers: Any) -> float | None:
    """The same, from the headers themselves (`retry-after-ms`, then `Retry-After` in seconds or as a date)."""
    if not headers:
        return None
    for name in MS_HEADERS:
        value = _seconds(headers.get(name))
        if value is not None:
            return value / 1000.0
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    value = _seconds(raw)
    if value is not None:
        return value
    return _until_date(str(raw), headers.get("Date"))


def _seconds(raw: Any) -> float | None:
    if raw is None:
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return max(value, 0.0)


def _until_date(raw: str, date: str | None) -> float | None:
    try:
        when = parsedate_to_datetime(raw)
        now = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None
    if now is None:
        return None  # no server time to measure against: our clock is not the service's
    return max((when - now).total_seconds(), 0.0)
