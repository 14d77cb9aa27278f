"""What a refused write tells the classifier, read from the real SDK's error: status, ARM code and the service's
Retry-After, which stays on the error because BoundedRetryPolicy hands a long one back instead of sleeping."""

from __future__ import annotations

import time

import pytest
from support.sandbox import connect

from reconciler.azure.errors import retry_after_of
from reconciler.azure.writes import HttpResponseError, Writer, error_info

SUB = "11111111-1111-4111-8111-111111111111"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Compute/galleries/galerr"


def _refused(sb, **rule) -> HttpResponseError:
    sb.inject_fault(method="PUT", path=r"/galleries/galerr$", count=1, **rule)
    with connect(sb) as conn:
        started = time.monotonic()
        with pytest.raises(HttpResponseError) as caught:
            Writer(conn).start("put", GALLERY, {"location": "westeurope"})
        assert time.monotonic() - started < 600, "a 1200 s Retry-After must not be slept on"
        assert conn.meter.stats().throttled <= 1
    return caught.value


def test_a_compute_throttle_keeps_its_429_and_its_1200_s_retry_after(frozen):
    exc = _refused(frozen, status=429, code="OperationNotAllowed", retry_after="1200")
    err = error_info(exc)
    assert (err.status, err.code, err.retry_after) == (429, "OperationNotAllowed", 1200.0)
    assert exc.response is not None and exc.response.status_code == 429


def test_a_409_in_progress_has_its_status_and_no_invented_retry_after(frozen):
    err = error_info(_refused(frozen, status=409, code="AnotherOperationInProgress", message="busy"))
    assert (err.status, err.code, err.message, err.retry_after) == (
        409,
        "AnotherOperationInProgress",
        "busy",
        None,
    )


class _Response:
    def __init__(self, headers):
        self.headers = headers


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "1200"}, 1200.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        # An HTTP-date counts from the response's own Date (server time), never from our clock.
        ({"Retry-After": "Thu, 03 Dec 2026 18:20:00 GMT", "Date": "Thu, 03 Dec 2026 18:00:00 GMT"}, 1200.0),
        ({"Retry-After": "Thu, 03 Dec 2026 18:20:00 GMT"}, None),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers, seconds):
    assert retry_after_of(_Response(headers)) == seconds
