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

import heapq
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from reconciler.model.rollout import HOST_FAILED_TAG
from reconciler.planner.acceptance import judge
from reconciler.planner.acceptance_vm import delete_stale_test_vms, leftover_test_vm
from reconciler.planner.host_failures import failure_marker, failure_of, update_failed
from reconciler.planner.host_inputs import AGENT_EXTENSION, JOIN_EXTENSION, HostView, PoolInputs
from reconciler.planner.host_names import next_name
from reconciler.planner.host_retirement import REMINDERS, message_body, progress_retirement
from reconciler.planner.host_steps import (
    POLL,
    CountFailureData,
    CreateData,
    Decision,
    DecisionMode,
    DecisionState,
    ReadyData,
    RemoveData,
    RemoveReason,
    RetireData,
    RetireReason,
    Step,
    StepOp,
    VersionData,
)
from reconciler.planner.hosts_index import HostIndex

_NO_NAMES: frozenset[str] = frozenset()  # most cycles retire no one

# The modes and states every decision tests, as module names: `DecisionMode.X` is a metaclass attribute lookup
# (several times a global's cost on CPython 3.11), and the rollout preview decides ~66,000 times per plan.
_STEADY, _ROLLOUT, _PROVISIONING = DecisionMode.STEADY, DecisionMode.ROLLOUT, DecisionMode.PROVISIONING
_GATED, _HALTED_MODE = DecisionMode.GATED, DecisionMode.HALTED
_PROGRESSING, _WAITING = DecisionState.PROGRESSING, DecisionState.WAITING


def _order(host: HostView) -> tuple[int, int, str]:
    """Replace broken hosts first (free), then the fewest sessions (fewest people disturbed), then by name."""
    return (1 if host.accepting_available else 0, len(host.sessions), host.name)


def decide(p: PoolInputs, index: HostIndex | None = None) -> Decision:  # noqa: C901 -- one pass, in rule order
    """`index`: `HostIndex.of(p.hosts)`, kept up to date by a caller that decides many times (the simulation).

    Quiet hosts (hosts_index.py) take no step and no wait: the rules below walk the busy ones and read the
    quiet ones only as counts, their versions, and the replacement order."""
    ix = index if index is not None else HostIndex.of(p.hosts)
    d = Decision()
    pol, now = p.policy, p.now
    surge = pol.surge  # a property, read four times
    for ghost in p.ghosts:
        d.steps.append(Step(StepOp.DELETE_GHOST, ghost))
    hosts = ix.busy()

    # 1. Failures: count one new failure per cycle (pool tag, then the VM mark: idempotent across crashes).
    count, failed_version, last = p.failures
    quarantined = p.quarantined
    marked: HostView | None = None  # the host marked failed this cycle (the index still has it unmarked)
    newly = []
    for h in hosts:
        if not h.failed:
            why = failure_of(h, p)
            if why:
                newly.append((h, why))
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
        hosts = [h if h is not host else _marked_failed(h) for h in hosts]
        marked = host
        if len(newly) > 1:
            d.wait(now + POLL, f"{len(newly) - 1} more failed host(s) to count")
    if p.target and failed_version == p.target and count > pol.failure_budget and quarantined != p.target:
        quarantined = p.target
        d.steps.append(Step(StepOp.QUARANTINE, None, VersionData(p.target, failures=count)))
    # Acceptance (a validation pool whose version's definition declares a suite; None costs nothing): a
    # failed verdict quarantines the version like a spent failure budget; a missing one holds the rollout.
    holding = None
    rejected = False  # the pin failed acceptance here (not a spent failure budget)
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
    # One pass over the busy hosts sorts them the way the rules below read them (each list in pool order).
    retiring: list[HostView] = []
    active: list[HostView] = []  # the busy ones; every quiet host is active too
    grown: list[HostView] = []  # active and established
    established: list[HostView] = []  # those of them on a version
    pending: list[HostView] = []  # active, not established yet: new hosts coming up
    in_flight: list[HostView] = []  # those of them not Available yet
    any_deleting = False
    available = ix.quiet_count  # Available and accepting, among active hosts
    for h in hosts:
        deleting = h.deleting
        if deleting:
            any_deleting = True  # deleting VMs only count toward room
        if h.failed:
            d.steps.append(Step(StepOp.REMOVE, h.name, RemoveData(h.session_host, RemoveReason.FAILED)))
        elif deleting:
            pass
        elif h.retiring:
            retiring.append(h)
        else:
            active.append(h)
            if h.established:
                grown.append(h)
                if h.version:
                    established.append(h)
            else:
                pending.append(h)
                if not h.available:
                    in_flight.append(h)
            if h.accepting_available:
                available += 1
    n_active = len(active) + ix.quiet_count

    # 2. Which version: the pin, unless quarantined (halt / roll back), not replicated, or gated.
    target: str | None = p.target
    if p.target and quarantined == p.target:
        if pol.on_failure == "rollback" and p.last_good and p.last_good != p.target:
            target, d.mode = p.last_good, DecisionMode.ROLLBACK
            why = "failed acceptance" if rejected else f"{count} failure(s)"
            d.notes.append(f"rolling back to the last good version after {why}")
        else:
            target, d.mode = None, DecisionMode.HALTED
            last_failure = f"; last: {p.last_failure}" if p.last_failure else ""
            if rejected:
                d.notes.append("halted: the version failed acceptance")
            else:
                d.notes.append(f"halted: {count} failed host(s), budget {pol.failure_budget}{last_failure}")
    elif p.target and not p.target_ready:
        target, d.mode = None, DecisionMode.WAITING_REPLICATION
        d.wait(now + timedelta(minutes=5), p.target_why or "the version is not replicated to the region yet")
    elif holding is not None:
        # The first hosts on the version are under test: the rest of the pool waits for the verdict.
        target, d.mode = None, DecisionMode.GATED
        d.wait(now + POLL, holding)
    elif (
        p.target
        and not p.gate_ok
        and (any(h.version != p.target for h in established) or any(v and v != p.target for v in ix.quiet))
    ):
        # The gate guards replacing hosts that run something else; new hosts of a fresh pool need no soak.
        target, d.mode = None, DecisionMode.GATED
        d.wait(p.gate_until or now + timedelta(minutes=15), p.gate_why or "waits for the ring gate")
    # Which version hosts added for `count` (not replacements) get. Never one the pool is moving away from,
    # or they would be built only to be replaced again: gated, they go on the pin (the gate guards replacing
    # hosts that run something else, not adding capacity); not replicated yet, they wait for it. Halted, the
    # pin is the failed version: they go on the last good one.
    mode = d.mode
    if mode is _GATED and holding is not None and p.acceptance.plan.test_vm is not None:
        create_version: str | None = _fallback(p)  # under test on its own VM: no session host runs it yet
    elif mode is _GATED:
        create_version = p.target
    elif mode is _HALTED_MODE:
        create_version = _fallback(p)
    else:
        create_version = target
    d.effective_target = target

    # 3. New hosts coming up: extensions in order (join, then the AVD agent), then the ready mark.
    for h in pending:
        if h.deleting or (h.provisioning != "Succeeded" and not update_failed(h)):
            continue
        if h.available:
            d.steps.append(Step(StepOp.READY, h.name, ReadyData(h.session_host, h.assign)))
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
    if any_deleting:
        for h in hosts:
            if h.deleting:
                d.wait(now + POLL, f"{h.name} being deleted")
    for h in pending:
        if not h.available:
            deadline = (h.registered_at or now) + pol.health_timeout
            poll = now + POLL
            d.wait(deadline if now < deadline < poll else poll, f"{h.name} coming up")

    # 4. Hosts being retired: drain, message, wait, log off (policy), remove.
    for h in retiring:
        progress_retirement(h, p, d)

    # 5. New retirements (only inside a window).
    budget = available - pol.floor_hosts
    outdated = [h for h in grown if h.version != target] if target and grown else []  # busy ones
    quiet_outdated = ix.quiet_outdated(target) if target else []
    any_outdated = bool(outdated) or bool(quiet_outdated)

    # Replaced name -> the active host on the target replacing it, for the names of hosts in the pool.
    replacement_of: dict[str, HostView] = {}
    for k in ix.replaced:  # a rollout replaces one batch at a time: a few names, or none
        found = None
        for h in ix.replacers_of(k):
            if h.version == target and _is_active(h, marked):
                found = h  # the last in pool order, as a dict built over the hosts would keep
        if found is not None:
            replacement_of[k] = found

    replaced: list[HostView] = []  # outdated hosts whose replacement is up or coming
    paired_hosts: list[HostView] = []  # active hosts named as one of those (the same, unless names repeat)
    for k in replacement_of if target else ():  # without a target nothing is outdated
        named = ix.hosts_named(k)
        if len(named) == 1:  # the usual case: one host named so, outdated, so active
            h = named[0]
            if _is_active(h, marked) and h.established and h.version != target:
                replaced.append(h)
                paired_hosts.append(h)
            continue
        old = [h for h in named if _is_active(h, marked) and h.established and h.version != target]
        if old:
            replaced += old
            old_names = {h.name for h in old}
            paired_hosts += [h for h in named if _is_active(h, marked) and h.name in old_names]

    to_retire: list[tuple[HostView, RetireReason]] = []

    def take(host: HostView, reason: RetireReason) -> bool:
        nonlocal budget
        if host.accepting_available:
            if budget <= 0:
                return False
            budget -= 1
        to_retire.append((host, reason))
        return True

    if (
        p.window_open and holding is None
    ):  # under acceptance the host being tested is the surge: no retirements
        if surge:
            for h in sorted(replaced, key=_order) if len(replaced) > 1 else replaced:
                repl = replacement_of[h.name.lower()]
                if repl.established and repl.available:
                    take(h, RetireReason.REPLACED)
        elif any_outdated:
            slots = pol.batch - len(retiring) - len(in_flight)
            for h in _outdated_in_order(outdated, quiet_outdated):
                if slots <= 0:
                    break
                if budget <= 0 and h.accepting_available:
                    break  # so is every host after it (the order puts them last): none can go
                if take(h, RetireReason.REPLACED):
                    slots -= 1
        chosen = {h.name for h, _ in to_retire} if to_retire else _NO_NAMES
        surplus = (
            n_active
            - (
                _active_named(ix, chosen, marked) + _paired(paired_hosts, chosen)
                if chosen
                else len(paired_hosts)
            )
            - pol.count
        )
        if surplus > 0:
            old_names = {h.name for h in outdated} | {h.name for g in quiet_outdated for h in g}
            remaining = [h for h in (*active, *ix.quiet_hosts()) if h.name not in chosen]
            spare = [h for h in remaining if h.established and h.name.lower() not in replacement_of]
            spare.sort(key=lambda h: (0 if h.name in old_names else 1, *_order(h)))
            for h in spare:
                if surplus <= 0:
                    break
                if take(h, RetireReason.COUNT):
                    surplus -= 1
    elif not p.window_open and (any_outdated or n_active > pol.count):
        if p.next_window:
            d.wait(p.next_window, f"next maintenance window opens {p.next_window.isoformat()}")
        d.notes.append("outside the maintenance window: no drains or logoffs")
    for h, reason in to_retire:
        d.steps.append(Step(StepOp.RETIRE, h.name, RetireData(reason, h.session_host)))
        if not h.sessions:
            d.steps.append(Step(StepOp.REMOVE, h.name, RemoveData(h.session_host, RemoveReason.EMPTY)))
        else:
            deadline = now + pol.drain_grace
            d.steps.append(Step(StepOp.MESSAGE, h.name, message_body(h, pol.user_message, deadline, now)))
            d.wait(deadline if pol.drain_grace < REMINDERS[0] else deadline - REMINDERS[0], "drain grace")
    retired_now = {h.name for h, _ in to_retire} if to_retire else _NO_NAMES

    # 6. Creations, bounded by room (count + surge) and, for replacements, by the batch and the health gate.
    total = len(p.hosts)
    room = pol.count + surge - total
    kept = (
        _active_named(ix, retired_now, marked) + _paired(paired_hosts, retired_now)
        if retired_now
        else len(paired_hosts)
    )
    missing = pol.count - (n_active - kept)
    used: set[str] = set()  # names in use, filled at the first creation (most cycles create nothing)

    def new_name() -> str:
        if not used:
            used.update(p.used_names, ix.by_lower)
        name = next_name(pol.prefix, used)
        used.add(name.lower())
        return name

    creations: list[Step] = []
    if missing > 0 and create_version:
        for _ in range(min(missing, room)):
            creations.append(Step(StepOp.CREATE, new_name(), CreateData(create_version)))
    elif missing > 0 and d.mode is DecisionMode.WAITING_REPLICATION:
        d.notes.append(f"{missing} host(s) missing: they are built on the pinned version once it replicates")
    elif missing > 0:
        d.notes.append(f"{missing} host(s) missing, no version to build them from yet")
    room -= len(creations)
    if surge and target and p.window_open:
        slots = pol.batch - len(in_flight)
        slots = room if room < slots else slots  # min(), without a builtin call per decision
        for h in _outdated_in_order(outdated, quiet_outdated) if slots > 0 else ():
            if h.name.lower() in replacement_of:
                continue
            if slots <= 0:
                break
            assign = h.assigned_user if pol.personal else None
            creations.append(
                Step(StepOp.CREATE, new_name(), CreateData(target, replaces=h.name, assign=assign))
            )
            slots -= 1
    d.steps.extend(creations)
    if p.window_open and any_outdated and not to_retire and not retiring and not in_flight and not creations:
        d.notes.append(
            f"no host can be replaced: {available} Available, the capacity floor is {pol.floor_hosts} of "
            f"{pol.count} and there is no room for a new host (count + surge = {pol.count + surge})"
        )
    if creations or in_flight:
        d.wait(now + POLL, "new hosts coming up")

    # 7. Converged? Then stamp the pool (ring gates read it) and say so.
    deleting = any_deleting
    done = False
    if target is not None and not d.steps and not retiring and not deleting:
        # No steps: nothing was retired now; failed hosts are busy. So every quiet host is steady.
        blocked_names = {h.name for h in hosts if h.failed}
        steady = [h for h in active if h.name not in blocked_names]
        done = (
            len(steady) + ix.quiet_count == pol.count
            and len(ix.quiet.get(target, ())) == ix.quiet_count
            and all(h.version == target and h.available and h.established for h in steady)
        )
    if done and p.rolled_out != target:
        d.steps.append(Step(StepOp.STAMP_ROLLED_OUT, None, VersionData(target)))
    if d.mode is _STEADY:
        if not established and not any(ix.quiet):  # the index keeps no empty group
            d.mode = _PROVISIONING
        elif any_outdated:
            d.mode = _ROLLOUT
    settled = not d.steps and not retiring and not in_flight and not deleting
    if d.mode is _HALTED_MODE and settled:
        d.state = DecisionState.HALTED
    elif done and not d.steps:
        d.state = DecisionState.CONVERGED
    elif d.steps:
        d.state = _PROGRESSING
    else:
        d.state = _WAITING
    if (d.state is _PROGRESSING or d.state is _WAITING) and not d.waits:
        d.wait(now + POLL, "progressing")
    return d


def _is_active(h: HostView, marked: HostView | None) -> bool:
    """Neither the host marked failed this cycle nor failed, deleting or retiring."""
    return h is not marked and not h.failed and not h.deleting and not h.retiring


def _active_named(ix: HostIndex, names: set[str] | frozenset[str], marked: HostView | None) -> int:
    """Active hosts among those named in `names`."""
    if not names:
        return 0  # most cycles retire no one
    return sum(1 for n in names for h in ix.hosts_named(n.lower()) if h.name == n and _is_active(h, marked))


def _paired(paired_hosts: list[HostView], excluded: set[str] | frozenset[str]) -> int:
    """Active hosts not in `excluded` that are outdated and have their replacement."""
    if not excluded:
        return len(paired_hosts)
    return sum(1 for h in paired_hosts if h.name not in excluded)


def _outdated_in_order(outdated: list[HostView], quiet_outdated: list[list[HostView]]):
    """The outdated hosts (busy and quiet) in replacement order."""
    return heapq.merge(sorted(outdated, key=_order), *quiet_outdated, key=_order)


def _fallback(p: PoolInputs) -> str | None:
    """A halted pool builds added hosts on the last good version, else the one most established hosts run."""
    if p.last_good:
        return p.last_good
    versions = [
        h.version
        for h in p.hosts
        if h.version and h.established and not h.failed and not h.deleting and not h.retiring
    ]
    return (Counter(versions).most_common(1) or [(None, 0)])[0][0]


def _marked_failed(host: HostView) -> HostView:
    return replace(host, tags={**host.tags, HOST_FAILED_TAG: "failed"})
