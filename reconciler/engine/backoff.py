"""Bounded backoff for actions that answered :class:`~reconciler.engine.outcome.Retry`.

This is the one business-level retry layer. It never wraps an SDK call: azure-core's pipeline already retries
429/5xx honouring a short ``Retry-After``. Here we only decide *when to call an action again* after it said "not
yet, try later" and *when to stop asking* -- with tenacity's wait strategies, so the curve is a well-known one.
A Retry the service asked for (a long throttle, another operation in progress: ``SERVICE_WAIT_REASONS``) never
comes here: the executor waits it exactly, and a throttle spends none of this budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import tenacity
from tenacity.wait import wait_base

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_DELAY = timedelta(minutes=5)
# A 409 "operation in progress" is a wait on the other operation, but some Compute 409 OperationNotAllowed
# never clear by waiting (a version blocked until its end of life, a quota): past this, the node fails.
DEFAULT_MAX_IN_PROGRESS = timedelta(hours=1)


def _default_wait() -> wait_base:
    # 2 s, 4 s, 8 s, … capped at 5 min. No jitter by default: runs on a fake clock must be reproducible,
    # and a single writer holds the apply lock, so there is no herd to spread out.
    return tenacity.wait_exponential(multiplier=2, min=1, max=DEFAULT_MAX_DELAY.total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the executor re-calls an action that keeps answering Retry.

    ``max_attempts`` counts calls that ended in Retry, the first call included: with 5, the fifth Retry
    becomes ``Failed(error_code="retries_exhausted")``. WaitUntil never counts -- waiting is not failing.
    ``max_delay`` bounds every delay, including an action's own ``Retry.after``, so one confused action
    cannot park a node for hours. ``max_in_progress`` bounds how long, in one run, a node may keep answering
    "another operation is in progress" (server time) before it fails: longer than any operation we wait on.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    wait: wait_base = field(default_factory=_default_wait)
    max_delay: timedelta = DEFAULT_MAX_DELAY
    max_in_progress: timedelta = DEFAULT_MAX_IN_PROGRESS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.max_delay < timedelta(0):
            raise ValueError(f"max_delay must not be negative, got {self.max_delay}")

    def exhausted(self, attempt: int) -> bool:
        """True when the Retry returned by call number ``attempt`` must become a failure."""
        return attempt >= self.max_attempts

    def in_progress_too_long(self, since: datetime, now: datetime) -> bool:
        """True once a node has answered in-progress since `since` for longer than `max_in_progress`."""
        return now - since >= self.max_in_progress

    def delay_after(self, attempt: int, requested: timedelta) -> timedelta:
        """The delay before attempt ``attempt + 1``: the larger of the backoff curve and the action's
        own request, never more than ``max_delay``."""
        state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
        state.attempt_number = attempt
        backoff = timedelta(seconds=float(self.wait(state)))
        return min(max(backoff, requested), self.max_delay)


NO_RETRY = RetryPolicy(max_attempts=1)
