"""One rollout cycle for one host pool: observe it fresh, decide (pure), perform the steps, answer an outcome.

Level-triggered: nothing is remembered between cycles except what the steps wrote on Azure (tags on VMs and
the pool, drain flags, the VMs themselves). Call `converge_pool` again — in the same apply (the executor
calls back on WaitUntil), in the next apply, or after a crash — and it continues from what it observes.

Outcomes: Done when the pool runs the pinned version on `count` Available hosts (changed = wrote something
this cycle); WaitUntil(next check, why) while anything is in flight or waits for time (grace, window, gate,
replication); a rolling-back pool waits and ends Done with reason code `rollback`, not as a plain wait;
Failed(reason_code="halted", error_code="RolloutHalted") when the failure budget halted the pool (a person or a new pin
is needed; `reconcile clear-quarantine POOL`).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from reconciler.azure.connection import Connection
from reconciler.azure.hosts_read import read_pool
from reconciler.azure.hosts_write import PoolWriter
from reconciler.azure.image_version_tags import VersionTags
from reconciler.azure.key_vault import KeyVaultSecrets
from reconciler.azure.run_commands import RunCommands
from reconciler.azure.writes import HttpResponseError
from reconciler.engine.actions.acceptance import Acceptor, TestEvent
from reconciler.engine.actions.acceptance_vm import AcceptanceVmRunner, delete_accept_vm
from reconciler.engine.host_writes import write_step
from reconciler.engine.outcome import Done, Failed, Outcome, ReasonCode, WaitUntil
from reconciler.model.observed import PoolObservation
from reconciler.model.rollout import (
    HOST_MESSAGED_TAG,
    POOL_FAILURES_TAG,
    POOL_LAST_FAILURE_TAG,
    POOL_QUARANTINE_TAG,
)
from reconciler.model.tags import ROLLED_OUT_TAG
from reconciler.planner.host_inputs import PoolInputs
from reconciler.planner.host_steps import (
    POOL_OPS,
    Decision,
    DecisionMode,
    DecisionState,
    Step,
    StepOp,
)
from reconciler.planner.hosts import decide
from reconciler.planner.pool_inputs import from_pool_observation
from reconciler.planner.pool_target import PoolTarget
from reconciler.spec.state import HostPool

STEP_WORKERS = 8  # concurrent writes per pool; ARM's write bucket (limits.md A1) is per subscription


@dataclass
class Progress:
    """What a cycle got done on Azure, step by step as each finished: a recap counts this, never the decision,
    so a cycle cut short by a refusal still counts the hosts it did delete and the users it did message."""

    performed: list[Step] = field(default_factory=list)
    writes: int = 0
    tests: list[TestEvent] = field(default_factory=list)  # what acceptance steps did, test by test
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def done(self, step: Step, writes: int) -> None:
        with self._lock:
            self.performed.append(step)
            self.writes += writes

    def wrote(self, writes: int) -> None:
        with self._lock:
            self.writes += writes

    def tested(self, events: list[TestEvent]) -> None:
        with self._lock:
            self.tests.extend(events)


@dataclass
class PoolCycle:
    pool: str
    inputs: PoolInputs | None
    decision: Decision | None
    outcome: Outcome
    writes: int = 0
    performed: tuple[Step, ...] = ()
    tests: tuple[TestEvent, ...] = ()


class CycleInterrupted(Exception):
    """An Azure refusal cut a cycle short; `progress` is what it had done before (and after, on other VMs)."""

    def __init__(self, cause: HttpResponseError, progress: Progress):
        super().__init__(str(cause))
        self.cause, self.progress = cause, progress


def converge_pool(target: PoolTarget, conn: Connection) -> PoolCycle:
    """One cycle for one pool (see the module docstring). Raises HttpResponseError when the pool cannot be
    read, CycleInterrupted when a write is refused after others went through."""
    pool = target.pool
    snap = read_pool(conn, pool.arm_id, version_id=target.version_id, gate_pool_id=target.gate_pool_id)
    if snap.pool is None:
        return PoolCycle(
            pool.name, None, None, WaitUntil(snap.now, f"host pool {pool.name} does not exist yet")
        )
    inputs = from_pool_observation(target, snap)
    decision = decide(inputs)
    progress = Progress()
    writer = PoolWriter(conn, pool.arm_id)
    rg_id = f"/subscriptions/{writer.sub}/resourceGroups/{writer.rg}"
    acceptor = Acceptor(RunCommands(conn), VersionTags(conn), rg_id, pool.location, KeyVaultSecrets(conn))
    try:
        _perform(decision, inputs, pool, snap, writer, progress, acceptor)
    except HttpResponseError as exc:
        raise CycleInterrupted(exc, progress) from exc
    writes = progress.writes
    outcome = outcome_of(decision, inputs, writes)
    return PoolCycle(
        pool.name, inputs, decision, outcome, writes, tuple(progress.performed), tuple(progress.tests)
    )


def outcome_of(d: Decision, p: PoolInputs, writes: int) -> Outcome:
    if d.state is DecisionState.CONVERGED and d.mode is DecisionMode.ROLLBACK:
        detail = f"{p.pool}: rolled back: {p.policy.count} host(s) on the last good version"
        return Done(changed=writes > 0, detail=detail, reason_code=ReasonCode.ROLLBACK)
    if d.state is DecisionState.CONVERGED:
        return Done(changed=writes > 0, detail=f"{p.pool}: {p.policy.count} host(s) on the pinned version")
    if d.state is DecisionState.HALTED:
        return Failed(f"{p.pool}: " + "; ".join(d.notes), "RolloutHalted", ReasonCode.HALTED)
    at, why = d.next_check or (p.now, "progressing")
    return WaitUntil(max(at, p.now), f"{p.pool}: {why}")


def _perform(
    d: Decision,
    p: PoolInputs,
    pool: HostPool,
    snap: PoolObservation,
    w: PoolWriter,
    progress: Progress,
    acceptor: Acceptor,
) -> None:
    """Run the steps in order; pool-tag steps first, so a failure is counted before its VM is marked.

    A refused write stops only its own VM's steps: the other VMs' steps run on, and every VM's tags record
    what its finished steps did (a lost `messaged` stamp would message the same users again next cycle);
    then the first refusal is raised."""
    now = p.now
    hosts = {h.name: h for h in p.hosts}
    pool_tags = dict(snap.pool.tags or {}) if snap.pool else {}
    pool_steps = [s for s in d.steps if s.op in POOL_OPS]
    for step in pool_steps:
        data = step.data
        if step.op is StepOp.COUNT_FAILURE:
            pool_tags[POOL_FAILURES_TAG] = f"{data.count}|{data.version}|{data.marker}"
            # why, for status once the failed VM is gone
            pool_tags[POOL_LAST_FAILURE_TAG] = f"{step.host}|{data.failure.to_tag()}"[:256]
        elif step.op is StepOp.QUARANTINE:
            pool_tags[POOL_QUARANTINE_TAG] = f"{data.version}|{now.isoformat()}"
        elif step.op is StepOp.STAMP_ROLLED_OUT:
            pool_tags[ROLLED_OUT_TAG] = f"{data.version}|{now.isoformat()}"
    if pool_steps:
        w.tag_pool(pool_tags)
        progress.wrote(1)  # one PATCH carries every pool-tag step
        for step in pool_steps:
            progress.done(step, 0)
    vm_tags: dict[str, dict[str, str]] = {}
    removed: set[str] = set()
    lock = threading.Lock()

    # Only the thread running `vm`'s steps touches its entry.
    def tag(vm: str, **values: str) -> dict[str, str]:
        with lock:
            entry = vm_tags.setdefault(vm, dict(hosts[vm].tags))
        entry.update(values)
        return entry

    # Steps of different VMs are independent: run each VM's steps in order, VMs in parallel (a 40-host
    # batch is 40 creates; one after the other they would take minutes of wall time on Azure).
    groups: dict[str, list[Step]] = {}
    for step in d.steps:
        if step.op not in POOL_OPS:
            groups.setdefault(step.host or "", []).append(step)

    def run(steps: list[Step]) -> HttpResponseError | None:
        try:
            for step in steps:
                if step.op in ACCEPTANCE_OPS:
                    _accept(step, acceptor, now, progress, w, pool)
                    continue
                _one(step, p, pool, w, now, hosts, tag, removed, progress)
        except HttpResponseError as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=STEP_WORKERS) as ex:
        refusals = [exc for exc in ex.map(run, groups.values()) if exc is not None]
    tagged = [(vm, tags) for vm, tags in vm_tags.items() if vm not in removed]

    def write_tags(item: tuple[str, dict[str, str]]) -> None:
        w.tag_vm(*item)
        progress.wrote(1)

    with ThreadPoolExecutor(max_workers=STEP_WORKERS) as ex:
        list(ex.map(write_tags, tagged))
    if refusals:
        raise refusals[0]


ACCEPTANCE_OPS = frozenset({StepOp.ACCEPT, StepOp.RECORD_ACCEPTANCE, StepOp.DELETE_TEST_VM})


def _accept(step: Step, acceptor: Acceptor, now: datetime, progress: Progress, w: PoolWriter, pool) -> None:
    """An acceptance step: it writes the version's tags and the VM's run commands, never the VM's tags
    (a test VM's step also creates and deletes that VM, which no pool counts)."""
    if step.op is StepOp.RECORD_ACCEPTANCE:
        progress.done(step, acceptor.record(step.data))
        return
    if step.op is StepOp.DELETE_TEST_VM:
        progress.tested(delete_accept_vm(w, step.host, step.data))
        progress.done(step, 1)
        return
    if step.data.test_vm is not None:
        got = AcceptanceVmRunner(acceptor, w, pool).advance(step.host, step.data, now)
    else:
        got = acceptor.advance(step.host, step.data, now)
    progress.tested(got.events)
    progress.done(step, got.writes)


def _one(
    step: Step, p: PoolInputs, pool: HostPool, w: PoolWriter, now: datetime, hosts, tag, removed, progress
) -> None:
    """Perform one step and record it; a message or logoff step cut short records the sessions it reached."""
    op, data = step.op, step.data
    if op not in (StepOp.MESSAGE, StepOp.LOGOFF):
        progress.done(step, write_step(step, p, pool, w, now, hosts, tag, removed))
        return
    reached: list[str] = []
    try:
        for sid in data.sessions:
            name = sid.rsplit("/", 1)[-1]
            if op is StepOp.MESSAGE:
                w.message(data.session_host, name, data.title, data.body)
            else:
                w.logoff(data.session_host, name)
            reached.append(sid)
    finally:
        if reached:
            progress.done(replace(step, data=replace(data, sessions=tuple(reached))), len(reached))
    if op is StepOp.MESSAGE:
        # Only once every user has the message: its grace period starts here, and a user not yet told
        # must not be logged off at its end.
        tag(step.host, **{HOST_MESSAGED_TAG: now.isoformat()})
