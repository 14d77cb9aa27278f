"""Long-running operations without blocking: start one, keep its continuation token, check it later once.

azure-core's `LROPoller` polls on a thread until the operation ends; a build runs for an hour, so apply must
not hold a worker that long. Two polling methods plug into the SDK's own `begin_*` calls (`polling=`):
- `StartOnly`: sends the initial request and stops; `poller.continuation_token()` is an `ARMPolling` token,
  so it can be resumed anywhere (this run, the next cycle, another replica after a crash);
- `CheckOnce`: resumes from a token, asks the status URL once and, if the operation finished, does the final
  GET the SDK would have done. A failed operation raises `HttpResponseError` built from the status body, as
  the SDK does.
Nothing here retries: HTTP retries stay in the azure-core pipeline.

When to look again is the service's call: the status answer's `Retry-After` (the GalleryRP spec declares it on
every LRO response, `Azure/azure-rest-api-specs` specification/compute/resource-manager/Microsoft.Compute/
GalleryRP, `Retry-After: integer` "how long the client should wait before polling the operation status") is
returned in `LroStatus.retry_after`. HTTP gives it in the client's seconds; the caller passes `server_seconds`
to turn those into the server's (the engine waits in server time; against Azure the two are the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies._utils import get_retry_after
from azure.core.polling.base_polling import LocationPolling, _failed, _raise_if_bad_http_status_and_method
from azure.mgmt.core.polling.arm_polling import ARMPolling


class StartOnly(ARMPolling):
    """Initial request only; the operation goes on in Azure while we do other work."""

    def _poll(self) -> None:  # called by ARMPolling.run() on the poller's thread
        return None


class CheckOnce(ARMPolling):
    """One status request; when finished, the final GET (PUT/PATCH) the SDK would do."""

    retry_after: float | None = None  # the status answer's, in the client's seconds

    def _poll(self) -> None:
        if not self.finished():
            self.update_status()
            self.retry_after = get_retry_after(self._pipeline_response)
        if not self.finished():
            return
        if _failed(self.status()):
            from azure.core.polling.base_polling import OperationFailed

            raise OperationFailed("Operation failed or canceled")
        final = self._operation.get_final_get_url(self._pipeline_response)
        if final:
            self._pipeline_response = self.request_status(final)
            _raise_if_bad_http_status_and_method(self._pipeline_response.http_response)


class LroState(StrEnum):
    """Where a long-running operation stands (ARM's own words, so a status body reads the same)."""

    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True)
class LroStatus:
    """Where an operation stands. `error_code`/`message` from ARM when Failed; `result` is the final
    resource (REST dict) when the SDK returns one; `retry_after` the service's advice (server seconds) on
    when to look again while it runs, None when it gave none."""

    state: LroState
    error_code: str | None = None
    message: str = ""
    result: dict[str, Any] | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", LroState(self.state))  # refuses a state outside the closed set

    @property
    def done(self) -> bool:
        return self.state is not LroState.IN_PROGRESS


def _rest(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if hasattr(value, "as_dict"):
        try:
            return value.as_dict()
        except TypeError:
            pass
    if isinstance(value, dict):
        return dict(value)
    return None


def error_of(exc: HttpResponseError) -> tuple[str, str]:
    """(ARM error code, one-line message) of an SDK error."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None) or (str(exc.status_code) if exc.status_code else "HttpResponseError")
    message = getattr(err, "message", None) or exc.message or str(exc)
    return str(code), " ".join(str(message).split())


ServerSeconds = Callable[[float], float | None]


def _same_seconds(seconds: float) -> float:
    return seconds


def start(
    begin, *args: Any, server_seconds: ServerSeconds = _same_seconds, **kwargs: Any
) -> tuple[str | None, LroStatus]:
    """Send the initial request of `begin(*args)`. Returns (continuation token, status); the token is None
    when the operation already finished in the initial response."""
    poller = begin(*args, polling=StartOnly(timeout=0), **kwargs)
    poller.wait()  # the no-op poll thread; raises only if the initial answer was a failure
    method = poller.polling_method()
    status = method.status()
    if method.finished():
        if _failed(status):
            return None, LroStatus(LroState.FAILED, "OperationFailed", "the operation failed at once")
        return None, LroStatus(LroState.SUCCEEDED, result=_safe_result(method))
    advice = _advice(get_retry_after(method._pipeline_response), server_seconds)
    return poller.continuation_token(), LroStatus(LroState.IN_PROGRESS, retry_after=advice)


def check(
    begin, token: str, *args: Any, server_seconds: ServerSeconds = _same_seconds, **kwargs: Any
) -> LroStatus:
    """One look at the operation `token` was taken from (args as for the original call)."""
    poller = begin(*args, continuation_token=token, polling=CheckOnce(timeout=0), **kwargs)
    method = poller.polling_method()
    try:
        poller.wait()
    except HttpResponseError as exc:
        if exc.response is not None and exc.response.status_code >= 400 and not _ended_at(method, exc):
            raise  # the status request itself was refused (a 429 throttle): the operation may still run
        code, message = error_of(exc)
        return LroStatus(LroState.FAILED, code, message)
    if not method.finished():
        return LroStatus(LroState.IN_PROGRESS, retry_after=_advice(method.retry_after, server_seconds))
    return LroStatus(LroState.SUCCEEDED, result=_safe_result(method))


def _ended_at(method, exc: HttpResponseError) -> bool:
    """Whether a 4xx answer to the status request is the operation's own failure. A Location URL (Image
    Builder's deletes have no Azure-AsyncOperation) answers a finished operation with its outcome, a failure
    as a 4xx with the error (ARM's async-operations guide). Taken for a refused poll, it kept the failed
    delete in the ledger, checked again every apply and never re-sent. 408 and 429 are refused polls."""
    status = exc.response.status_code
    polling = getattr(method, "_operation", None)
    return isinstance(polling, LocationPolling) and status < 500 and status not in (408, 429)


def _advice(client_seconds: float | None, server_seconds: ServerSeconds) -> float | None:
    # 0 means "no advice" to azure-core as well (it falls back to its own interval).
    if not client_seconds or client_seconds <= 0:
        return None
    return server_seconds(client_seconds)


def _safe_result(method) -> dict[str, Any] | None:
    try:
        return _rest(method.resource())
    except Exception:  # noqa: BLE001 -- a delete has no body; the result is informational only
        return None
