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

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from reconciler.model.rollout import HOST_FAILED_TAG
from reconciler.planner.host_failures import failure_marker, failure_of
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


def _order(host: HostView) -> tuple[int, int, str]:
    """Replace broken hosts first (free), then the fewest sessions (fewest people disturbed), then by name."""
    return (1 if host.accepting_available else 0, len(host.sessions), host.name)


def decide(p: PoolInputs) -> Decision:  # noqa: C901 -- one readable pass in the order the rules apply
    d = Decision()
    pol, now = p.policy, p.now
    for ghost in p.ghosts:
        d.steps.append(Step(StepOp.DELETE_GHOST, ghost))
    hosts = list(p.hosts)

    # 1. Failures: count one new failure per cycle (pool tag, then the VM mark: idempotent across crashes).
    count, failed_version, last = p.failures
    quarantined = p.quarantined
    newly = [(h, why) for h in hosts if not h.failed for why in [failure_of(h, p)] if why]
    if newly:
        host, why = min(
            newly, key=lambda x: (failure_marker(x[0]) != last, x[0].name)
        )  # the counted one first
        marker = failure_marker(host)
        if not (failed_version == (host.version or "") and last == marker):
            count = count + 1 if failed_version == (host.version or "") else 1
            failed_version, last = host.version or "", marker
            counted = CountFailureData(count, failed_version, marker, why)
            d.steps.append(Step(StepOp.COUNT_FAILURE, host.name, counted))
        d.steps.append(Step(StepOp.MARK_FAILED, host.name, why))
        d.notes.append(f"{host.name} failed: {why.text}")
        hosts = [h if h is not host else _marked_failed(h) for h in hosts]
        if len(newly) > 1:
            d.poll(now + POLL, f"{len(newly) - 1} more failed host(s) to count")
    if p.target and failed_version == p.target and count > pol.failure_budget and quarantined != p.target:
        quarantined = p.target
        d.steps.append(Step(StepOp.QUARANTINE, None, VersionData(p.target, failures=count)))
    for h in hosts:
        if h.failed:
            d.steps.append(Step(StepOp.REMOVE, h.name, RemoveData(h.session_host, RemoveReason.FAILED)))

    live = [h for h in hosts if not h.failed and not h.deleting]  # deleting VMs only count toward room
    retiring = [h for h in live if h.retiring]
    active = [h for h in live if not h.retiring]

    # 2. Which version: the pin, unless quarantined (halt / roll back), not replicated, or gated.
    established = [h for h in active if h.established and h.version]
    fallback = p.last_good or (Counter(h.version for h in established).most_common(1) or [(None, 0)])[0][0]
    target: str | None = p.target
    if p.target and quarantined == p.target:
        if pol.on_failure == "rollback" and p.last_good and p.last_good != p.target:
            target, d.mode = p.last_good, DecisionMode.ROLLBACK
            d.notes.append(f"rolling back to the last good version after {count} failure(s)")
        else:
            target, d.mode = None, DecisionMode.HALTED
            last_failure = f"; last: {p.last_failure}" if p.last_failure else ""
            d.notes.append(f"halted: {count} failed host(s), budget {pol.failure_budget}{last_failure}")
    elif p.target and not p.target_ready:
        target, d.mode = None, DecisionMode.WAITING_REPLICATION
        d.poll(now + timedelta(minutes=5), p.target_why or "the version is not replicated to the region yet")
    elif p.target and not p.gate_ok and any(h.version != p.target for h in established):
        # The gate guards replacing hosts that run something else; new hosts of a fresh pool need no soak.
        target, d.mode = None, DecisionMode.GATED
        if p.gate_until is not None:
            d.wait(p.gate_until, p.gate_why or "waits for the ring gate")
        else:
            d.poll(now + timedelta(minutes=15), p.gate_why or "waits for the ring gate")
    # Which version hosts added for `count` (not replacements) get. Never one the pool is moving away from,
    # or they would be built only to be replaced again: gated, they go on the pin (the gate guards replacing
    # hosts that run something else, not adding capacity); not replicated yet, they wait for it. Halted, the
    # pin is the failed version: they go on the last good one.
    if d.mode is DecisionMode.GATED:
        create_version: str | None = p.target
    elif d.mode is DecisionMode.HALTED:
        create_version = fallback
    else:
        create_version = target
    d.effective_target = target

    # 3. New hosts coming up: extensions in order (join, then the AVD agent), then the ready mark.
    pending = [h for h in active if not h.established]
    for h in pending:
        if h.deleting or h.provisioning != "Succeeded":
            continue
        if h.available:
            d.steps.append(Step(StepOp.READY, h.name, ReadyData(h.session_host, h.assign)))
        elif not h.registered_at and (h.session_host or AGENT_EXTENSION in h.extensions):
            # The agent went out but its timestamp did not (an apply killed in between): start the health
            # clock now. Late, never early: the host is not judged for time the reconciler was away.
            d.steps.append(Step(StepOp.STAMP_REGISTERED, h.name))
        elif h.session_host:
            continue  # registered, not Available yet: the health gate decides
        elif JOIN_EXTENSION not in h.extensions:
            d.steps.append(Step(StepOp.JOIN, h.name))
        elif h.extensions.get(JOIN_EXTENSION) == "Succeeded" and AGENT_EXTENSION not in h.extensions:
            d.steps.append(Step(StepOp.REGISTER, h.name))
    for h in hosts:
        if h.deleting:
            d.poll(now + POLL, f"{h.name} being deleted")
    for h in pending:
        if not h.available:
            deadline = (h.registered_at or now) + pol.health_timeout
            if now < deadline <= now + POLL:
                d.wait(deadline, f"{h.name} coming up")
            else:
                d.poll(now + POLL, f"{h.name} coming up")
    in_flight = [h for h in pending if not h.available]

    # 4. Hosts being retired: drain, message, wait, log off (policy), remove.
    for h in retiring:
        progress_retirement(h, p, d)

    # 5. New retirements (only inside a window).
    available = sum(1 for h in active if h.accepting_available)
    budget = available - pol.floor_hosts
    outdated = [h for h in active if target and h.version != target and h.established]
    is_outdated = {h.name for h in outdated}  # by name: comparing whole views is slow on large pools
    replacement_of = {h.replaces.lower(): h for h in active if h.replaces and h.version == target}
    to_retire: list[tuple[HostView, RetireReason]] = []

    def take(host: HostView, reason: RetireReason) -> bool:
        nonlocal budget
        if host.accepting_available:
            if budget <= 0:
                return False
            budget -= 1
        to_retire.append((host, reason))
        return True

    if p.window_open:
        if pol.surge:
            for h in sorted(outdated, key=_order):
                repl = replacement_of.get(h.name.lower())
                if repl is not None and repl.established and repl.available:
                    take(h, RetireReason.REPLACED)
        elif outdated:
            slots = pol.batch - len(retiring) - len(in_flight)
            for h in sorted(outdated, key=_order):
                if slots <= 0:
                    break
                if take(h, RetireReason.REPLACED):
                    slots -= 1
        chosen = {h.name for h, _ in to_retire}
        remaining = [h for h in active if h.name not in chosen]
        paired = sum(1 for h in remaining if h.name in is_outdated and h.name.lower() in replacement_of)
        surplus = len(remaining) - paired - pol.count
        if surplus > 0:
            spare = [h for h in remaining if h.established and h.name.lower() not in replacement_of]
            spare.sort(key=lambda h: (0 if h.name in is_outdated else 1, *_order(h)))
            for h in spare:
                if surplus <= 0:
                    break
                if take(h, RetireReason.COUNT):
                    surplus -= 1
    elif outdated or len(active) > pol.count:
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
    retired_now = {h.name for h, _ in to_retire}

    # 6. Creations, bounded by room (count + surge) and, for replacements, by the batch and the health gate.
    total = len(p.hosts)
    room = pol.count + pol.surge - total
    still_active = [h for h in active if h.name not in retired_now]
    paired = sum(1 for h in still_active if h.name in is_outdated and h.name.lower() in replacement_of)
    missing = pol.count - (len(still_active) - paired)
    used = set(p.used_names) | {h.name.lower() for h in p.hosts}
    creations: list[Step] = []
    if missing > 0 and create_version:
        for _ in range(min(missing, room)):
            name = next_name(pol.prefix, used)
            used.add(name.lower())
            creations.append(Step(StepOp.CREATE, name, CreateData(create_version)))
    elif missing > 0 and d.mode is DecisionMode.WAITING_REPLICATION:
        d.notes.append(f"{missing} host(s) missing: they are built on the pinned version once it replicates")
    elif missing > 0:
        d.notes.append(f"{missing} host(s) missing, no version to build them from yet")
    room -= len(creations)
    if pol.surge and target and p.window_open:
        slots = min(pol.batch - len(in_flight), room)
        for h in sorted((h for h in outdated if h.name.lower() not in replacement_of), key=_order):
            if slots <= 0:
                break
            name = next_name(pol.prefix, used)
            used.add(name.lower())
            assign = h.assigned_user if pol.personal else None
            creations.append(Step(StepOp.CREATE, name, CreateData(target, replaces=h.name, assign=assign)))
            slots -= 1
    d.steps.extend(creations)
    if p.window_open and outdated and not to_retire and not retiring and not in_flight and not creations:
        d.notes.append(
            f"no host can be replaced: {available} Available, the capacity floor is {pol.floor_hosts} of "
            f"{pol.count} and there is no room for a new host (count + surge = {pol.count + pol.surge})"
        )
    if creations or in_flight:
        d.poll(now + POLL, "new hosts coming up")

    # 7. Converged? Then stamp the pool (ring gates read it) and say so.
    blocked_names = retired_now | {h.name for h in hosts if h.failed}
    steady = [h for h in active if h.name not in blocked_names]
    done = (
        target is not None
        and not d.steps
        and not retiring
        and not any(h.deleting for h in hosts)
        and len(steady) == pol.count
        and all(h.version == target and h.available and h.established for h in steady)
    )
    if done and p.rolled_out != target:
        d.steps.append(Step(StepOp.STAMP_ROLLED_OUT, None, VersionData(target)))
    if d.mode is DecisionMode.STEADY:
        if not established:
            d.mode = DecisionMode.PROVISIONING
        elif outdated:
            d.mode = DecisionMode.ROLLOUT
    settled = not d.steps and not retiring and not in_flight and not any(h.deleting for h in hosts)
    if d.mode is DecisionMode.HALTED and settled:
        d.state = DecisionState.HALTED
    elif done and not d.steps:
        d.state = DecisionState.CONVERGED
    elif d.steps:
        d.state = DecisionState.PROGRESSING
    else:
        d.state = DecisionState.WAITING
    if d.state in (DecisionState.PROGRESSING, DecisionState.WAITING) and not d.waits:
        d.poll(now + POLL, "progressing")
    return d


def _marked_failed(host: HostView) -> HostView:
    return replace(host, tags={**host.tags, HOST_FAILED_TAG: "failed"})
