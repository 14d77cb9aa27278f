"""One classification of Azure's refusals, for every action: HTTP status first, then the ARM code.

The status says who should act; the code only refines it. A code alone misleads: Compute throttles with
429 `OperationNotAllowed` and refuses a write during another operation with 409 `OperationNotAllowed`, so
neither can be judged by its code. Codes are compared, never message text (messages change and are localised).

- 429, and 5xx with a Retry-After: the service said when to come back. `THROTTLED`, after exactly that
  Retry-After however long (Compute's 429 says 1200 s, see the Compute throttling guide
  https://learn.microsoft.com/troubleshoot/azure/virtual-machines/troubleshooting-throttling-errors and
  azure-surface.md 2.6). A throttle is not a failure: it is never counted against the retry budget.
- 409 with an "operation in progress" code: another operation owns the resource (a VM being provisioned from
  a version, a build running, a PATCH still replicating). `IN_PROGRESS`: re-read and try again once it ended;
  Azure/azure-service-operator#4650 ("Another operation is pending on the specified resource", 409 Conflict)
  and Azure/azure-sdk-for-java#1827 (409 Conflict "another operation is in progress") show the shapes.
- 404 `GalleryImageNotFound`: a VM created right after its region's replication completed may not see the
  version yet (read-after-replication lag; pulumi/pulumi-aws#5129, Azure/AgentBaker#9228, azure-surface.md
  11.2). `NOT_YET_VISIBLE` for `NOT_FOUND_LAG` of server time, then `TERMINAL` (the version really is absent).
- 5xx without a Retry-After, 408, 412 (our ETag is stale: re-read and resend), 409 `CannotDeleteResource`
  (a child's delete not yet visible), an LRO that failed for an unknown reason: `TRANSIENT`, the engine's
  bounded backoff.
- 401 `ExpiredAuthenticationToken`: the token expired between the client's check and ARM's; azure-core drops
  its cached token on a 401, so the retry signs in again. `TRANSIENT`. Other 401s (a bad signature, the wrong
  audience) are not fixed by a new token of the same kind.
- Everything else the caller sent wrong or cannot have (400 `InvalidParameter`, 409
  `PropertyChangeNotAllowed`, 401/403, a known terminal LRO code): `TERMINAL`.

Pure: no clock, no I/O. Whoever tracks how long a 404 has lasted passes `failing_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Verdict(StrEnum):
    THROTTLED = "throttled"
    IN_PROGRESS = "in-progress"
    NOT_YET_VISIBLE = "not-yet-visible"
    TRANSIENT = "transient"
    TERMINAL = "terminal"


# Without a Retry-After: ARM's guidance is to wait and retry; a throttle bucket refills within a minute.
THROTTLE_DEFAULT = timedelta(seconds=60)
IN_PROGRESS_DEFAULT = timedelta(seconds=30)
TRANSIENT_DEFAULT = timedelta(seconds=10)
NOT_FOUND_LAG = timedelta(minutes=10)
NOT_FOUND_MIN = timedelta(seconds=15)
NOT_FOUND_MAX = timedelta(minutes=2)

# 409 codes that mean "another operation is running on this resource" (Compute, Image Builder, AVD, ARM).
# `OperationNotAllowed` and `Conflict` are CRP's and Image Builder's answers to a write during another
# operation (azure-surface.md 11.2, 8.x: "not allowed ... since Virtual Machines are being provisioned",
# "A build is already running"); `RetryableError` and `OperationPreempted` are CRP's for a preempted write.
IN_PROGRESS_CODES = frozenset(
    {
        "AnotherOperationInProgress",
        "OperationNotAllowed",
        "Conflict",
        "RetryableError",
        "OperationPreempted",
        "ConcurrentOperation",
        "OperationInProgress",
    }
)

# 409 codes that retrying soon fixes without anyone acting (ARM's eventual consistency).
EVENTUAL_CODES = frozenset({"CannotDeleteResource"})

NOT_FOUND_LAG_CODES = frozenset({"GalleryImageNotFound"})

# 401 codes a fresh token fixes (ARM's token validation; tests/fixtures/api_versions.json).
EXPIRED_TOKEN_CODES = frozenset({"ExpiredAuthenticationToken"})

# Codes of a long-running operation that ended Failed (no HTTP status) that no retry fixes in this run.
TERMINAL_LRO_CODES = frozenset(
    {
        "PropertyChangeNotAllowed",
        "InvalidParameter",
        "BadRequest",
        "LinkedAuthorizationFailed",
        "AuthorizationFailed",
        "ParentResourceNotFound",
        "ResourceGroupNotFound",
        "OperationNotAllowed",
        "CrpPirReplicationJobsNotCompleted",
        "ImageBuildFailed",
        "Conflict",
    }
)
# An LRO status body with one of these is another operation still owning the resource.
IN_PROGRESS_LRO_CODES = IN_PROGRESS_CODES - TERMINAL_LRO_CODES
# 404s that no wait fixes.
TERMINAL_NOT_FOUND_CODES = frozenset({"ParentResourceNotFound", "ResourceGroupNotFound"})


@dataclass(frozen=True, slots=True)
class Classification:
    """What to do about one refusal: `verdict`, and for every verdict but TERMINAL how long to wait first."""

    verdict: Verdict
    after: timedelta = timedelta(0)

    @property
    def terminal(self) -> bool:
        return self.verdict is Verdict.TERMINAL


def classify(
    status: int | None,
    code: str | None,
    message: str = "",
    retry_after: float | None = None,
    failing_for: timedelta | None = None,
) -> Classification:
    """The verdict on one refusal. `status` None: a long-running operation that ended Failed. `message` is
    accepted for the caller's convenience and never read: decisions come from status and code only.
    `failing_for`: how long this resource has been answering a lag 404 (None: nobody tracks it)."""
    del message
    said = timedelta(seconds=retry_after) if retry_after is not None else None
    if status is None:
        return _lro_failure(code, said, failing_for)
    if status == 429:
        return Classification(Verdict.THROTTLED, said if said is not None else THROTTLE_DEFAULT)
    if status >= 500:
        if said is not None:
            return Classification(Verdict.THROTTLED, said)
        return Classification(Verdict.TRANSIENT, TRANSIENT_DEFAULT)
    if status == 409:
        if code in EVENTUAL_CODES:
            return Classification(Verdict.TRANSIENT, said or TRANSIENT_DEFAULT)
        if code in IN_PROGRESS_CODES:
            return Classification(Verdict.IN_PROGRESS, said or IN_PROGRESS_DEFAULT)
        return Classification(Verdict.TERMINAL)
    if status == 404:
        if code in NOT_FOUND_LAG_CODES:
            return _lag(failing_for)
        if code in TERMINAL_NOT_FOUND_CODES:
            return Classification(Verdict.TERMINAL)
        return Classification(Verdict.TRANSIENT, said or TRANSIENT_DEFAULT)  # a parent not yet visible
    if status in (408, 412) or (status == 401 and code in EXPIRED_TOKEN_CODES):
        return Classification(Verdict.TRANSIENT, said or TRANSIENT_DEFAULT)
    return Classification(Verdict.TERMINAL)


def _lro_failure(code: str | None, said: timedelta | None, failing_for: timedelta | None) -> Classification:
    if code in IN_PROGRESS_LRO_CODES:
        return Classification(Verdict.IN_PROGRESS, said or IN_PROGRESS_DEFAULT)
    if code in NOT_FOUND_LAG_CODES:
        return _lag(failing_for)
    if code in TERMINAL_LRO_CODES:
        return Classification(Verdict.TERMINAL)
    return Classification(Verdict.TRANSIENT, said or TRANSIENT_DEFAULT)


def _lag(failing_for: timedelta | None) -> Classification:
    """A lag 404: waited on while it lasts less than NOT_FOUND_LAG, backing off with its age; untracked, it
    is an ordinary transient (the retry budget bounds it)."""
    if failing_for is None:
        return Classification(Verdict.TRANSIENT, NOT_FOUND_MIN)
    if failing_for >= NOT_FOUND_LAG:
        return Classification(Verdict.TERMINAL)
    return Classification(Verdict.NOT_YET_VISIBLE, min(max(failing_for / 2, NOT_FOUND_MIN), NOT_FOUND_MAX))
