"""What `decide` returns for one host pool: the writes to make now and when to look again (pure data).

A step is a closed op (:class:`StepOp`) with the typed data that op needs, so the executor of steps
(engine/rollout.py), the simulation (planner/timeline.py) and whatever counts steps (the preview, the recap)
read fields, never dictionary keys that could drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from reconciler.model.acceptance import Acceptance, AcceptTest
from reconciler.model.acceptance_vm import AcceptVmDelete, AcceptVmPlan
from reconciler.model.rollout import HostFailure

POLL = timedelta(seconds=30)  # how soon to look again while something is in flight


class StepOp(StrEnum):
    """One kind of write. `register` sends the AVD agent and stamps HOST_REGISTERED_TAG (the health
    timeout's start); `stamp-registered` writes only that tag, for a host whose agent went out without it
    (a killed apply)."""

    DELETE_GHOST = "delete-ghost"
    COUNT_FAILURE = "count-failure"
    MARK_FAILED = "mark-failed"
    QUARANTINE = "quarantine"
    REMOVE = "remove"
    RETIRE = "retire"
    DRAIN = "drain"
    MESSAGE = "message"
    LOGOFF = "logoff"
    CREATE = "create"
    JOIN = "join"
    REGISTER = "register"
    STAMP_REGISTERED = "stamp-registered"
    READY = "ready"
    STAMP_ROLLED_OUT = "stamp-rolled-out"
    ACCEPT = "accept"  # run the version's acceptance tests on this VM (managed run commands)
    RECORD_ACCEPTANCE = "record-acceptance"  # write a verdict the planner reached itself (agent checks)
    DELETE_TEST_VM = "delete-test-vm"  # a test VM (where: testVm) that tests nothing current any more


# Steps that write the pool's tags, not a VM's: the engine runs them first, so a failure is counted on the
# pool before its VM is marked.
POOL_OPS = frozenset({StepOp.COUNT_FAILURE, StepOp.QUARANTINE, StepOp.STAMP_ROLLED_OUT})

# Writes after which the next decision cannot write more until Azure finishes them or a time the decision
# named passes: they start what Azure completes later (a VM create or delete, an extension) or stamp a time
# whose consequence decide() names as a wait (the health clock, the next message). Any other write may
# enable the next one (a host marked ready lets the host it replaces retire; a logoff empties a host to remove).
INERT_OPS = frozenset(
    {StepOp.CREATE, StepOp.JOIN, StepOp.REGISTER, StepOp.STAMP_REGISTERED, StepOp.REMOVE, StepOp.MESSAGE}
)


def may_enable_more(steps: Iterable[Step]) -> bool:
    """Whether a cycle that wrote `steps` should look again at the plain poll (apply, engine/host_polls.py)
    or right after (the preview, planner/timeline.py), rather than when its polls and waits say."""
    return any(s.op not in INERT_OPS for s in steps)


class RetireReason(StrEnum):
    REPLACED = "replaced"  # runs another version than the target and has a replacement (or the batch allows)
    COUNT = "count"  # more hosts than `count`
    ROLLBACK = "rollback"


class RemoveReason(StrEnum):
    EMPTY = "empty"  # retiring and no user signed in
    FAILED = "failed"  # judged failed by the health gate


@dataclass(frozen=True)
class NoData:
    """The op needs nothing beyond the host's name (delete-ghost, join, register, stamp-registered)."""


@dataclass(frozen=True)
class CountFailureData:
    """The pool's failure count after this failure, for `version`, last failed VM `marker`."""

    count: int
    version: str
    marker: str
    failure: HostFailure


@dataclass(frozen=True)
class VersionData:
    """quarantine (with the failures counted) and stamp-rolled-out: the version id they record."""

    version: str
    failures: int = 0


@dataclass(frozen=True)
class RemoveData:
    session_host: str | None
    why: RemoveReason


@dataclass(frozen=True)
class RetireData:
    reason: RetireReason
    session_host: str | None


@dataclass(frozen=True)
class DrainData:
    session_host: str | None


@dataclass(frozen=True)
class MessageData:
    session_host: str | None
    sessions: tuple[str, ...]  # user session ARM ids
    title: str
    body: str


@dataclass(frozen=True)
class LogoffData:
    session_host: str | None
    sessions: tuple[str, ...]


@dataclass(frozen=True)
class CreateData:
    version: str
    replaces: str | None = None  # the outdated host this one replaces
    assign: str | None = None  # personal pools: the user the replaced host was assigned to


@dataclass(frozen=True)
class ReadyData:
    session_host: str | None
    assign: str | None = None


@dataclass(frozen=True)
class AcceptData:
    """accept: run `tests` in order on the step's VM, for image version `version` (ARM id).

    The engine skips a test whose verdict the version already carries, adopts a run command of the test's
    name that is already there (a killed apply), tags the version after each test, stops at the first
    failure (ACCEPTANCE_TAG failed + the failure excerpt), and tags it passed after the last."""

    version: str
    tests: tuple[AcceptTest, ...]
    session_host: str | None = None
    # where: testVm. The engine creates the VM first and deletes it after the verdict; `tests` empty: only
    # the delete is left (a kill after the verdict).
    test_vm: AcceptVmPlan | None = None


@dataclass(frozen=True)
class AcceptanceVerdictData:
    """record-acceptance: tag `version` with `verdict` (and `failure`, the excerpt shown to people)."""

    version: str
    verdict: Acceptance
    failure: str | None = None


StepData = (
    NoData
    | HostFailure
    | CountFailureData
    | VersionData
    | RemoveData
    | RetireData
    | DrainData
    | MessageData
    | LogoffData
    | CreateData
    | ReadyData
    | AcceptData
    | AcceptanceVerdictData
    | AcceptVmDelete
)

DATA_OF: dict[StepOp, type] = {
    StepOp.DELETE_GHOST: NoData,
    StepOp.COUNT_FAILURE: CountFailureData,
    StepOp.MARK_FAILED: HostFailure,  # why the host failed (its tag form: HostFailure.to_tag)
    StepOp.QUARANTINE: VersionData,
    StepOp.REMOVE: RemoveData,
    StepOp.RETIRE: RetireData,
    StepOp.DRAIN: DrainData,
    StepOp.MESSAGE: MessageData,
    StepOp.LOGOFF: LogoffData,
    StepOp.CREATE: CreateData,
    StepOp.JOIN: NoData,
    StepOp.REGISTER: NoData,
    StepOp.STAMP_REGISTERED: NoData,
    StepOp.READY: ReadyData,
    StepOp.STAMP_ROLLED_OUT: VersionData,
    StepOp.ACCEPT: AcceptData,
    StepOp.RECORD_ACCEPTANCE: AcceptanceVerdictData,
    StepOp.DELETE_TEST_VM: AcceptVmDelete,
}

NO_DATA = NoData()


@dataclass(frozen=True)
class Step:
    """One write: `op` on `host` (the VM; a session host name for delete-ghost; None for pool steps)."""

    op: StepOp
    host: str | None = None
    data: StepData = NO_DATA

    def __post_init__(self) -> None:
        op = self.op
        if type(op) is not StepOp:  # the common case skips the lookup: decide() runs per simulated cycle
            op = StepOp(op)  # refuses an op outside the closed set
            object.__setattr__(self, "op", op)
        if not isinstance(self.data, DATA_OF[op]):
            raise TypeError(f"step {op} carries {type(self.data).__name__}, not {DATA_OF[op].__name__}")


class DecisionState(StrEnum):
    CONVERGED = "converged"
    PROGRESSING = "progressing"  # steps to perform now
    WAITING = "waiting"  # nothing to write now: waits for Azure, time, a window or a gate
    HALTED = "halted"  # the failure budget stopped the rollout


class DecisionMode(StrEnum):
    STEADY = "steady"
    PROVISIONING = "provisioning"  # hosts added to a pool that has none established
    ROLLOUT = "rollout"
    ROLLBACK = "rollback"  # the pin is quarantined: back to the last good version
    HALTED = "halted"
    WAITING_REPLICATION = "waiting-replication"
    GATED = "gated"  # a ring gate holds replacements back


@dataclass
class Decision:
    steps: list[Step] = field(default_factory=list)
    waits: list[tuple[datetime, str]] = field(default_factory=list)  # every time to look again, and why
    named: list[datetime] = field(default_factory=list)  # those of them `wait` named (not polls)
    state: DecisionState = DecisionState.CONVERGED
    mode: DecisionMode = DecisionMode.STEADY
    effective_target: str | None = None
    notes: list[str] = field(default_factory=list)

    def wait(self, at: datetime, why: str) -> None:
        """Look again at a time the rules name: a deadline, a message due, a window opening, a gate's end.
        Something in the pool's rules changes then, so the rollout preview visits it."""
        self.waits.append((at, why))
        self.named.append(at)

    def poll(self, at: datetime, why: str) -> None:
        """Look again for what no rule can foresee: Azure finishing an operation, users signing out, a
        verdict. Apply looks then; the rollout preview, whose model changes only by its own modelled events,
        skips a poll after a cycle that wrote nothing or only inert writes (planner/timeline.py)."""
        self.waits.append((at, why))

    @property
    def next_check(self) -> tuple[datetime, str] | None:
        return min(self.waits, key=lambda w: w[0]) if self.waits else None
