from datetime import datetime, timedelta

import pytest

from reconciler.engine.outcome import (
    Done,
    Failed,
    Retry,
    WaitUntil,
    changed,
    failed_from_exception,
    is_terminal,
    ok,
    outcome_to_dict,
    retry_in,
    wait_for,
)

from .conftest import T0


def test_wait_until_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        WaitUntil(at=datetime(2026, 1, 1, 12, 0), why="replicating")


def test_retry_refuses_a_negative_delay():
    with pytest.raises(ValueError, match="negative"):
        Retry(after=timedelta(seconds=-1), why="x")


def test_outcomes_are_frozen():
    with pytest.raises(AttributeError):
        ok().changed = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("outcome", "terminal"),
    [
        (ok(), True),
        (changed(), True),
        (Failed("x"), True),
        (WaitUntil(T0, "w"), False),
        (retry_in(3, "r"), False),
    ],
)
def test_only_done_and_failed_are_terminal(outcome, terminal):
    assert is_terminal(outcome) is terminal


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            Done(changed=False, detail="matches"),
            {"outcome": "ok", "detail": "matches", "reason_code": "converged"},
        ),
        (
            Done(changed=True, detail="created"),
            {"outcome": "changed", "detail": "created", "reason_code": "converged"},
        ),
        (
            wait_for(T0, timedelta(minutes=90), "replicating"),
            {
                "outcome": "wait_until",
                "at": "2026-01-01T13:30:00+00:00",
                "why": "replicating",
                "reason": None,
                "reason_code": "waiting",
            },
        ),
        (
            Retry(after=timedelta(seconds=2.5), why="parent not visible", attempt=3),
            {
                "outcome": "retry",
                "after_seconds": 2.5,
                "why": "parent not visible",
                "attempt": 3,
                "reason_code": "transient",
            },
        ),
        (
            Failed("quota", "QuotaExceeded"),
            {"outcome": "failed", "why": "quota", "error_code": "QuotaExceeded", "reason_code": "error"},
        ),
    ],
)
def test_outcome_to_dict(outcome, expected):
    assert outcome_to_dict(outcome) == expected


def test_an_exception_becomes_a_failure_naming_its_type():
    failure = failed_from_exception(KeyError("gallery"))
    assert failure == Failed(
        why="KeyError: 'gallery'", error_code="unhandled_exception", reason_code="exception"
    )
    assert failed_from_exception(RuntimeError()).why == "RuntimeError: RuntimeError"
