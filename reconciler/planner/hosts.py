"""The next steps for one host pool's session hosts: provision, replace, retire, clean up — pure.

`decide(inputs) -> Decision` is called once per apply cycle per pool with a fresh observation; everything it
needs to resume (which host replaces which, when drain started, when users were messaged, failures counted)
comes from tags on the VMs and the pool, so a crashed or restarted apply continues where it stopped. Steps are
idempotent: re-running a cycle whose writes half-happened decides the same or the next steps.

Safety rules held here (tests: tests/planner/test_hosts*.py and the sandbox e2e tests):
- never more than `count + surge` VMs (creations are bounded by `room`); surge = batch for `surge`, 0 for
  `delete-first` (personal pools always surge: the replacement must exist to take the assignment);
- a retirement never takes Available, accepting capacity below the floor (`ceil(count * floor%)`);
- hosts added to reach `count` are built on the pinned version, never on one being replaced (a gate delays
  replacements, not added capacity; an unreplicated pin makes them wait); only a halted pool builds on the
  last good version;
- new hosts are judged by the health gate: Available within `health_timeout` of the reconciler sending the
  AVD agent (HOST_REGISTERED_TAG; a host still waiting for the reconciler's part is never late), else failed;
  failed hosts are counted once (pool tag first, then the VM's mark), removed, and past the failure budget the
  version is quarantined (halt, or roll back to the last version the pool ran fully);
- drains and logoffs only while a maintenance window is open; logoff only after `drain_grace` and only with
  `force_logoff`; an empty retiring host is removed at once; messages repeat as the deadline nears.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model.rollout import HOST_FAILED_TAG
from reconciler.planner.acceptance import judge
from reconciler.planner.acceptance_vm import delete_stale_test_vms, leftover_test_vm
from reconciler.planner.host_failures import failure_marker, failure_of, update_failed
from reconciler.planner.host_inputs import AGENT_EXTENSION, JOIN_EXTENSION, HostView, PoolInputs
from reconciler.planner.host_retirement import progress_retirement
from reconciler.planner.host_steps import (
    POLL,
    CountFailureData,
    Decision,
    DecisionMode,
    DecisionState,
    ReadyData,
    RemoveData,
    RemoveReason,
    Step,
    StepOp,
    VersionData,
)
from reconciler.planner.hosts_batch import BusyHosts, Pairing, creations, new_retirements, retire_steps
from reconciler.planner.hosts_index import HostIndex
from reconciler.planner.hosts_version import choose_version

_NO_NAMES: frozenset[str] = frozenset()  # most cycles retire no one

# The modes and states every decision tests, as module names: `DecisionMode.X` is a metaclass attribute lookup
# (several times a global's cost on CPython 3.11), and the rollout preview decides ~66,000 times per plan.
_STEADY, _ROLLOUT, _PROVISIONING = DecisionMode.STEADY, DecisionMode.ROLLOUT, DecisionMode.PROVISIONING
_HALTED_MODE = DecisionMode.HALTED
_PROGRESSING, _WAITING = DecisionState.PROGRESSING, DecisionState.WAITING
_REMOVE, _READY = StepOp.REMOVE, StepOp.READY


def decide(p: PoolInputs, index: HostIndex | None = None) -> Decision:
    """`index`: `HostIndex.of(p.hosts)`, kept up to date by a caller that decides many times (the simulation).

    Quiet hosts (hosts_index.py) take no step and no wait: the rules below walk the busy ones and read the
    quiet ones only as counts, their versions, and the replacement order."""
    ix = index if index is not None else HostIndex.of(p.hosts)
    d = Decision()
    pol, now = p.policy, p.now
    for ghost in p.ghosts:
        d.steps.append(Step(StepOp.DELETE_GHOST, ghost))

    # 1. Failures: count one new failure per cycle (pool tag, then the VM mark: idempotent across crashes).
    busy, count, quarantined = _count_failures(p, d, ix)
    # Acceptance (a validation pool whose version's definition declares a suite; None costs nothing): a
    # failed verdict quarantines the version like a spent failure budget; a missing one holds the rollout.
    holding = None
    rejected = False  # the pin failed acceptance here (not a spent failure budget)
    if p.test_vms or p.acceptance is not None:
        holding, rejected, quarantined = _acceptance(p, d, quarantined, count)
    for h in busy.failed:
        d.steps.append(Step(_REMOVE, h.name, RemoveData(h.session_host, RemoveReason.FAILED)))

    # 2. Which version: the pin, unless quarantined (halt / roll back), not replicated, or gated.
    target, create_version = choose_version(p, d, ix, busy.established, quarantined, count, rejected, holding)

    # 3. New hosts coming up: extensions in order (join, then the AVD agent), then the ready mark.
    if busy.pending or busy.any_deleting:
        _bring_up(p, d, busy)

    # 4. Hosts being retired: drain, message, wait, log off (policy), remove.
    for h in busy.retiring:
        progress_retirement(h, p, d)

    # 5. New retirements (only inside a window).
    pairs = Pairing(ix, busy.grown, target, busy.inactive)
    any_outdated = pairs.any_outdated
    n_active = len(busy.active) + ix.quiet_count
    to_retire = None
    # Under acceptance the host being tested is the surge: no retirements.
    if p.window_open and holding is None:
        to_retire = new_retirements(p, ix, busy, pairs, n_active)
        if to_retire:
            retire_steps(p, d, to_retire)
    elif not p.window_open and (any_outdated or n_active > pol.count):
        if p.next_window:
            d.wait(p.next_window, f"next maintenance window opens {p.next_window.isoformat()}")
        d.notes.append("outside the maintenance window: no drains or logoffs")
    retired_now = {h.name for h, _ in to_retire} if to_retire else _NO_NAMES

    # 6. Creations, bounded by room (count + surge) and, for replacements, by the batch and the health gate.
    surge = pol.surge
    room = pol.count + surge - len(p.hosts)
    missing = pol.count - (n_active - pairs.kept(ix, retired_now, busy.inactive))
    made = (
        creations(p, d, ix, busy, pairs, missing, room, create_version, target)
        if missing > 0 or room > 0
        else ()
    )
    d.steps.extend(made)
    if (
        p.window_open
        and any_outdated
        and not to_retire
        and not busy.retiring
        and not busy.in_flight
        and not made
    ):
        d.notes.append(
            f"no host can be replaced: {busy.available} Available, the capacity floor is {pol.floor_hosts} of "
            f"{pol.count} and there is no room for a new host (count + surge = {pol.count + surge})"
        )
    if made or busy.in_flight:
        d.poll(now + POLL, "new hosts coming up")

    # 7. Converged? Then stamp the pool (ring gates read it) and say so.
    _settle(p, d, ix, busy, target, any_outdated)
    return d


def _count_failures(p: PoolInputs, d: Decision, ix: HostIndex) -> tuple[BusyHosts, int, str | None]:
    """Rule 1: the busy hosts (sorted again if one is marked failed now), the failure count and the
    quarantined version (the pin, once the count passes the failure budget)."""
    busy = BusyHosts(ix.busy(), ix.quiet_count)
    count, failed_version, last = p.failures
    quarantined = p.quarantined
    # Only new hosts are judged (failure_of): managed, not established, retiring, deleting or failed yet.
    newly = [(h, why) for h in busy.pending if (why := failure_of(h, p))] if busy.pending else None
    if newly:
        # The host the pool tag counted last goes first: its mark was lost (a failed write, a kill), and
        # counting another host first would move the tag on, so this one would be counted a second time.
        host, why = min(newly, key=lambda x: (failure_marker(x[0]) != last, x[0].name))
        marker = failure_marker(host)
        if not (failed_version == (host.version or "") and last == marker):
            count = count + 1 if failed_version == (host.version or "") else 1
            failed_version, last = host.version or "", marker
            counted = CountFailureData(count, failed_version, marker, why)
            d.steps.append(Step(StepOp.COUNT_FAILURE, host.name, counted))
        d.steps.append(Step(StepOp.MARK_FAILED, host.name, why))
        d.notes.append(f"{host.name} failed: {why.text}")
        hosts = [h if h is not host else _marked_failed(h) for h in busy.hosts]
        busy = BusyHosts(hosts, ix.quiet_count, host)
        if len(newly) > 1:
            d.poll(p.now + POLL, f"{len(newly) - 1} more failed host(s) to count")
    if (
        p.target
        and failed_version == p.target
        and count > p.policy.failure_budget
        and quarantined != p.target
    ):
        quarantined = p.target
        d.steps.append(Step(StepOp.QUARANTINE, None, VersionData(p.target, failures=count)))
    return busy, count, quarantined


def _acceptance(
    p: PoolInputs, d: Decision, quarantined: str | None, count: int
) -> tuple[str | None, bool, str | None]:
    """(why the rollout is held for the verdict or None, whether the pin failed acceptance, quarantined)."""
    holding = None
    rejected = False
    if p.test_vms:  # where: testVm: test VMs of a version, suite or verdict no longer current
        d.steps.extend(delete_stale_test_vms(p, d))
    if p.acceptance is not None and p.acceptance.runs_here and p.target:
        d.steps.extend(leftover_test_vm(p))  # where: testVm, a verdict in and its VM not deleted yet
        rejected = p.acceptance.failed
        if rejected and quarantined != p.target:
            quarantined = p.target
            d.steps.append(Step(StepOp.QUARANTINE, None, VersionData(p.target, failures=count)))
            d.notes.append(f"version failed acceptance: {p.acceptance.verdict.reason or 'see its tags'}")
        elif not p.acceptance.failed:
            holding = judge(p, d)
    return holding, rejected, quarantined


def _bring_up(p: PoolInputs, d: Decision, busy: BusyHosts) -> None:
    """Rule 3: the next step of each new host, then the waits for VMs being deleted and hosts coming up."""
    now = p.now
    for h in busy.pending:
        if h.deleting or (h.provisioning != "Succeeded" and not update_failed(h)):
            continue
        if h.available:
            d.steps.append(Step(_READY, h.name, ReadyData(h.session_host, h.assign)))
        elif not h.registered_at and (h.session_host or AGENT_EXTENSION in h.extensions):
            # The agent went out but its timestamp did not (an apply killed in between): start the health
            # clock now. Late, never early: the host is not judged for time the reconciler was away.
            d.steps.append(Step(StepOp.STAMP_REGISTERED, h.name))
        elif h.session_host or h.provisioning != "Succeeded":
            continue  # registered (or left Failed by a PATCH after the agent went), not Available yet: the health gate decides
        elif JOIN_EXTENSION not in h.extensions:
            d.steps.append(Step(StepOp.JOIN, h.name))
        elif h.extensions.get(JOIN_EXTENSION) == "Succeeded" and AGENT_EXTENSION not in h.extensions:
            d.steps.append(Step(StepOp.REGISTER, h.name))
    if busy.any_deleting:
        for h in busy.hosts:
            if h.deleting:
                d.poll(now + POLL, f"{h.name} being deleted")
    poll = now + POLL
    for h in busy.in_flight:  # the pending hosts not Available yet
        deadline = (h.registered_at or now) + p.policy.health_timeout
        if now < deadline <= poll:
            d.wait(deadline, f"{h.name} coming up")  # judged at its health deadline
        else:
            d.poll(poll, f"{h.name} coming up")


def _settle(
    p: PoolInputs, d: Decision, ix: HostIndex, busy: BusyHosts, target: str | None, any_outdated: bool
) -> None:
    """Rule 7: converged (stamp the pool: ring gates read it), halted, progressing or waiting."""
    deleting = busy.any_deleting
    done = False
    if target is not None and not d.steps and not busy.retiring and not deleting:
        # No steps: nothing was retired now; failed hosts are busy. So every quiet host is steady.
        steady = busy.active
        if busy.failed:
            blocked_names = {h.name for h in busy.failed}
            steady = [h for h in steady if h.name not in blocked_names]
        done = (
            len(steady) + ix.quiet_count == p.policy.count
            and len(ix.quiet.get(target, ())) == ix.quiet_count
            and all(h.version == target and h.available and h.established for h in steady)
        )
    if done and p.rolled_out != target:
        d.steps.append(Step(StepOp.STAMP_ROLLED_OUT, None, VersionData(target)))
    if d.mode is _STEADY:
        if not busy.established and not any(ix.quiet):  # the index keeps no empty group
            d.mode = _PROVISIONING
        elif any_outdated:
            d.mode = _ROLLOUT
    steps = d.steps
    if d.mode is _HALTED_MODE and not steps and not busy.retiring and not busy.in_flight and not deleting:
        d.state = DecisionState.HALTED  # and settled
    elif done and not steps:
        d.state = DecisionState.CONVERGED
    else:
        d.state = _PROGRESSING if steps else _WAITING
        if not d.waits:
            d.poll(p.now + POLL, "progressing")


def _marked_failed(host: HostView) -> HostView:
    return replace(host, tags={**host.tags, HOST_FAILED_TAG: "failed"})
