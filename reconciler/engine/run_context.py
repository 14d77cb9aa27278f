"""What an action is called with, and the shapes of the callables the executor takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.engine.outcome import Outcome
from reconciler.engine.report import ExecEvent


@dataclass(frozen=True, slots=True)
class RunContext:
    """What an action learns about the call: ``attempt`` (1-based, grows only after Retry), ``call``
    (1-based, grows on every call), the ``previous`` outcome (e.g. the WaitUntil it is resuming) and the
    clock's ``now`` when it was started."""

    attempt: int
    call: int
    previous: Outcome | None
    now: datetime


RunAction = Callable[[Any, RunContext], Outcome]
EventSink = Callable[[ExecEvent], None]


def utc_now() -> datetime:
    return datetime.now(UTC)
