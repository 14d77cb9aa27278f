"""Session hosts: the `roll` of a host pool and the `create`/`update`/`delete` of its session hosts.

All four run the same level-triggered cycle (reconciler.engine.rollout.converge_pool): observe the pool,
decide the next steps from tags + state, perform them, answer WaitUntil until the pool has `count` Available
hosts on the pinned version. The change carries the pool's template and policy (`details["target"]`), so a
saved plan is self-contained.

Each cycle's performed steps are counted into the change's run memory (`env.memory(key)["hosts"]`, a
:class:`HostWork`), which the recap reads: hosts created, replaced, deleted, drained, users messaged and
logged off. An established host a failed tag PATCH left `Failed` gets its tags sent again after the cycle
(`repair_update_failed`). A plain poll is moved to when what is in flight is expected done (`engine/host_polls.py`).
A change that wrote in any cycle of this run ends `changed`, not `ok`. A wait carries a reason
code (soak, gate, window, replication, drain, hosts) read from the decision, never from its words. An Azure
refusal mid-cycle is classified like every action's (`engine/classify.py`): a throttle or another operation
on a VM is a wait, a GalleryImageNotFound right after replication is retried for a bounded time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from reconciler.azure.hosts_write import PoolWriter
from reconciler.azure.writes import HttpResponseError, error_info
from reconciler.engine.actions import register
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.actions.steps import http_failure
from reconciler.engine.classify import NOT_FOUND_LAG_CODES
from reconciler.engine.executor import RunContext
from reconciler.engine.host_polls import next_look
from reconciler.engine.outcome import Done, Failed, Outcome, ReasonCode, WaitUntil
from reconciler.engine.rollout import CycleInterrupted, PoolCycle, converge_pool
from reconciler.model.plan import Action, Change
from reconciler.planner.host_failures import update_failed
from reconciler.planner.host_steps import DecisionMode, Step, StepOp, may_enable_more
from reconciler.planner.pool_target import PoolTarget

LAG_SINCE = "lag_404_since"


@dataclass
class HostWork:
    """What rollout cycles of one pool performed in one run (counted from the steps they performed)."""

    created: int = 0  # every new VM (replacements included)
    replaced: int = 0  # of those, the ones created to replace an old host (`data.replaces`)
    deleted: int = 0  # VMs deleted (`remove`)
    drained: int = 0  # session hosts put in drain mode (`retire` of a registered host, `drain`)
    messaged: int = 0  # user sessions sent the sign-out message
    logged_off: int = 0  # user sessions logged off
    writes: int = 0  # ARM writes of every kind

    def add(self, writes: int, performed: Iterable[Step]) -> None:
        self.writes += writes
        for step in performed:
            op, data = step.op, step.data
            if op is StepOp.CREATE:
                self.created += 1
                self.replaced += 1 if data.replaces else 0
            elif op is StepOp.REMOVE:
                self.deleted += 1
            elif (op is StepOp.RETIRE and data.session_host) or op is StepOp.DRAIN:
                self.drained += 1
            elif op is StepOp.MESSAGE:
                self.messaged += len(data.sessions)
            elif op is StepOp.LOGOFF:
                self.logged_off += len(data.sessions)

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@register("host-pool", Action.ROLL)
@register("session-hosts", Action.CREATE, Action.UPDATE, Action.DELETE)
def converge_session_hosts(change: Change, env: ActionEnv, ctx: RunContext) -> Outcome:
    details = change.details.get("target")
    if not details:
        why = f"{change.key}: the plan carries no session-host template (re-plan)"
        return Failed(why, "BadPlan", ReasonCode.BAD_PLAN)
    target = PoolTarget.from_details(details)
    mem = env.memory(change.key)
    work: HostWork = mem.setdefault("hosts", HostWork())
    mem["pool"] = target.pool.name
    try:
        cycle = converge_pool(target, env.writer.conn)
    except CycleInterrupted as cut:
        _count(mem, work, cut.progress.writes, cut.progress.performed)
        mem.setdefault("tests", []).extend(cut.progress.tests)
        return http_failure(target.pool.name, cut.cause, _lag_age(mem, cut.cause, env.clock()))
    except HttpResponseError as exc:
        return http_failure(target.pool.name, exc, _lag_age(mem, exc, env.clock()))
    mem.pop(LAG_SINCE, None)
    _count(mem, work, cycle.writes, cycle.performed)
    mem.setdefault("tests", []).extend(cycle.tests)  # acceptance, test by test, for the recap
    try:
        repaired = repair_update_failed(cycle, PoolWriter(env.writer.conn, target.pool.arm_id))
    except HttpResponseError as exc:
        return http_failure(target.pool.name, exc)
    _count(mem, work, repaired, ())
    outcome = cycle.outcome
    if isinstance(outcome, Done) and mem["wrote"] and not outcome.changed:
        return replace(outcome, changed=True)
    if isinstance(outcome, WaitUntil) and cycle.decision is not None and cycle.inputs is not None:
        # Inert writes alone (a create, an extension, a delete, a message) enable nothing before Azure is done.
        follow_up = bool(cycle.writes) and may_enable_more(cycle.decision.steps)
        at = next_look(cycle.decision, cycle.inputs, wrote=follow_up or bool(repaired))
        outcome = replace(outcome, at=at) if at is not None else outcome
    if isinstance(outcome, WaitUntil) and outcome.reason is None:
        return replace(outcome, reason=wait_reason(cycle, outcome))
    return outcome


def repair_update_failed(cycle: PoolCycle, writer: PoolWriter) -> int:
    """Send the tags again of every established host a failed tag PATCH left `Failed` (update_failed): Azure
    keeps a VM Failed until a write on it succeeds, and the ready mark that repairs a new host never comes
    for an established one. Not a step of the decision: the host is fine and nothing about the pool changes.
    The hosts this cycle wrote are left alone (their own write is the repair, or they are going)."""
    if cycle.inputs is None:
        return 0
    touched = {step.host for step in cycle.performed}
    stuck = [
        h
        for h in cycle.inputs.hosts
        if h.managed
        and h.established
        and update_failed(h)
        and not (h.retiring or h.deleting or h.failed or h.name in touched)
    ]
    for h in stuck:
        writer.tag_vm(h.name, dict(h.tags))
    return len(stuck)


def _count(mem: dict, work: HostWork, writes: int, performed: Iterable[Step]) -> None:
    """Count a cycle's work, whole or cut short by a refusal: a change that wrote in any cycle ends `changed`."""
    work.add(writes, performed)
    if writes:
        mem["wrote"] = True


def _lag_age(mem: dict, exc: HttpResponseError, now: datetime) -> timedelta | None:
    """How long this pool's VM creates have answered a lag 404 (GalleryImageNotFound), in server time, counted
    from the first one of this run; None for any other error. A cycle that gets through resets it."""
    if error_info(exc).code not in NOT_FOUND_LAG_CODES:
        mem.pop(LAG_SINCE, None)
        return None
    return now - mem.setdefault(LAG_SINCE, now)


def wait_reason(cycle: PoolCycle, wait: WaitUntil) -> str:
    """The reason code of a pool's wait, from the decision's mode and the inputs it waited on."""
    d, p = cycle.decision, cycle.inputs
    if d is None or p is None:
        return ReasonCode.HOSTS  # the pool does not exist yet
    if d.mode is DecisionMode.ROLLBACK:
        return ReasonCode.ROLLBACK  # what it is: hosts replaced by the last good version, not a plain wait
    if d.mode is DecisionMode.WAITING_REPLICATION:
        return ReasonCode.REPLICATION
    if d.mode is DecisionMode.GATED:
        return ReasonCode.SOAK if p.gate_until is not None and wait.at >= p.gate_until else ReasonCode.GATE
    if p.next_window is not None and not p.window_open and wait.at >= p.next_window:
        return ReasonCode.WINDOW
    if any(h.drain_at is not None for h in p.hosts) and not d.steps:
        return ReasonCode.DRAIN
    return ReasonCode.HOSTS
