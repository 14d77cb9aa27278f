"""Which outdated hosts go this cycle and which hosts are built: phases 5 and 6 of `hosts.decide` — pure.

Phase 5 pairs outdated hosts with the hosts on the target that replace them, then picks the retirements of
this cycle (surge: the replaced hosts whose replacement is up; delete-first: the next batch; either: hosts
beyond `count`), each bounded by the capacity floor. Phase 6 builds hosts: those missing for `count`, then
(surge) the replacements of the next batch, bounded by room (`count + surge` VMs) and the health gate.

Each phase reads the cycle's busy hosts one by one and the quiet ones (hosts_index.py) only as version groups,
names and counts. "Active" below is `_is_active` of old: neither failed (nor marked failed this cycle),
deleting nor retiring; every quiet host is active, so `inactive` holds the ids of the busy hosts that are not.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from reconciler.planner.host_inputs import HostView, PoolInputs
from reconciler.planner.host_names import next_name
from reconciler.planner.host_retirement import REMINDERS, message_body
from reconciler.planner.host_steps import (
    CreateData,
    Decision,
    DecisionMode,
    RemoveData,
    RemoveReason,
    RetireData,
    RetireReason,
    Step,
    StepOp,
)
from reconciler.planner.hosts_index import HostIndex

_NO_NAMES: frozenset[str] = frozenset()  # most cycles retire no one
# Read every decision: module names, not `Enum.X` (a metaclass attribute lookup on CPython 3.11).
_RETIRE, _REMOVE, _MESSAGE, _CREATE = StepOp.RETIRE, StepOp.REMOVE, StepOp.MESSAGE, StepOp.CREATE
_REPLACED, _COUNT, _EMPTY = RetireReason.REPLACED, RetireReason.COUNT, RemoveReason.EMPTY


def replacement_order(host: HostView) -> tuple[int, int, str]:
    """Replace broken hosts first (free), then the fewest sessions (fewest people disturbed), then by name."""
    return (1 if host.accepting_available else 0, len(host.sessions), host.name)


def outdated_in_order(outdated: list[HostView], quiet_outdated: list[list[HostView]]) -> Iterable[HostView]:
    """The outdated hosts (busy and quiet) in replacement order. Quiet groups are kept in that order, so the
    usual case, no busy one and one group (the version being replaced), is the group itself."""
    if not outdated:
        if len(quiet_outdated) == 1:
            return quiet_outdated[0]
        if not quiet_outdated:
            return ()
    elif not quiet_outdated:
        return sorted(outdated, key=replacement_order)
    return heapq.merge(sorted(outdated, key=replacement_order), *quiet_outdated, key=replacement_order)


class BusyHosts:
    """The busy hosts sorted the way the rules of `hosts.decide` read them, in one pass (each list in pool order)."""

    __slots__ = (
        "hosts",
        "failed",
        "retiring",
        "active",
        "grown",
        "established",
        "pending",
        "in_flight",
        "any_deleting",
        "available",
        "inactive",
    )

    def __init__(self, hosts: list[HostView], quiet_count: int, marked: HostView | None = None) -> None:
        self.hosts = hosts
        self.failed: list[HostView] = []  # removed (a deleting one too)
        self.retiring: list[HostView] = []
        self.active: list[HostView] = []  # the busy ones; every quiet host is active too
        self.grown: list[HostView] = []  # active and established
        self.established: list[HostView] = []  # those of them on a version
        self.pending: list[HostView] = []  # active, not established yet: new hosts coming up
        self.in_flight: list[HostView] = []  # those of them not Available yet
        self.any_deleting = False  # deleting VMs only count toward room
        self.available = quiet_count  # Available and accepting, among active hosts
        # Ids of the busy hosts that are not active, and of `marked`, the host marked failed this cycle (the
        # index still has it unmarked): what the pairing of replacements reads for "active".
        self.inactive: set[int] = {id(marked)} if marked is not None else set()
        for h in hosts:
            deleting = h.deleting
            if deleting:
                self.any_deleting = True
            if h.failed:
                self.failed.append(h)
            elif deleting:
                pass
            elif h.retiring:
                self.retiring.append(h)
            else:
                self.active.append(h)
                if h.established:
                    self.grown.append(h)
                    if h.version:
                        self.established.append(h)
                else:
                    self.pending.append(h)
                    if not h.available:
                        self.in_flight.append(h)
                if h.accepting_available:
                    self.available += 1
                continue
            self.inactive.add(id(h))


class Pairing:
    """Phase 5's reading of the pool: the outdated hosts, and which of them have their replacement.

    `replacement_of`: replaced name (lower-cased) -> the active host on the target replacing it, for the names
    of hosts in the pool. `replaced`: outdated hosts whose replacement is up or coming; `paired_hosts`: active
    hosts named as one of those (the same, unless names repeat)."""

    __slots__ = ("outdated", "quiet_outdated", "any_outdated", "replacement_of", "replaced", "paired_hosts")

    def __init__(self, ix: HostIndex, grown: list[HostView], target: str | None, inactive: set[int]) -> None:
        self.outdated = [h for h in grown if h.version != target] if target and grown else []  # busy ones
        self.quiet_outdated = ix.quiet_outdated(target) if target else []
        self.any_outdated = bool(self.outdated) or bool(self.quiet_outdated)
        replacement_of: dict[str, HostView] = {}
        for k in ix.replaced:  # a rollout replaces one batch at a time: a few names, or none
            found = None
            for h in ix.replacers_of(k):
                if h.version == target and id(h) not in inactive:
                    found = h  # the last in pool order, as a dict built over the hosts would keep
            if found is not None:
                replacement_of[k] = found
        self.replacement_of = replacement_of
        replaced: list[HostView] = []
        paired_hosts: list[HostView] = []
        for k in replacement_of if target else ():  # without a target nothing is outdated
            named = ix.hosts_named(k)
            if len(named) == 1:  # the usual case: one host named so, outdated, so active
                h = named[0]
                if h.version != target and id(h) not in inactive and h.established:
                    replaced.append(h)
                    paired_hosts.append(h)
                continue
            old = [h for h in named if id(h) not in inactive and h.established and h.version != target]
            if old:
                replaced += old
                old_names = {h.name for h in old}
                paired_hosts += [h for h in named if id(h) not in inactive and h.name in old_names]
        self.replaced = replaced
        self.paired_hosts = paired_hosts

    def kept(self, ix: HostIndex, names: set[str] | frozenset[str], inactive: set[int]) -> int:
        """Active hosts named in `names` plus the paired hosts not among them: the hosts already on their
        way out, not counted toward `count`."""
        if not names:
            return len(self.paired_hosts)  # most cycles retire no one
        named = sum(
            1 for n in names for h in ix.hosts_named(n.lower()) if h.name == n and id(h) not in inactive
        )
        return named + sum(1 for h in self.paired_hosts if h.name not in names)


def new_retirements(
    p: PoolInputs, ix: HostIndex, busy: BusyHosts, pairs: Pairing, n_active: int
) -> list[tuple[HostView, RetireReason]]:
    """Phase 5, inside a window: the hosts retired this cycle (and why), in the order they were chosen."""
    pol = p.policy
    if (
        not pairs.replaced
        and (pol.surge or not pairs.any_outdated)
        and n_active - len(pairs.paired_hosts) <= pol.count
    ):
        return []  # most cycles: no replacement is up, no batch to start and no host beyond `count`
    budget = busy.available - pol.floor_hosts
    to_retire: list[tuple[HostView, RetireReason]] = []

    def take(host: HostView, reason: RetireReason) -> bool:
        nonlocal budget
        if host.accepting_available:
            if budget <= 0:
                return False
            budget -= 1
        to_retire.append((host, reason))
        return True

    replaced = pairs.replaced
    if pol.surge:
        for h in sorted(replaced, key=replacement_order) if len(replaced) > 1 else replaced:
            repl = pairs.replacement_of[h.name.lower()]
            if repl.established and repl.available:
                take(h, _REPLACED)
    elif pairs.any_outdated:
        slots = pol.batch - len(busy.retiring) - len(busy.in_flight)
        for h in outdated_in_order(pairs.outdated, pairs.quiet_outdated):
            if slots <= 0:
                break
            if budget <= 0 and h.accepting_available:
                break  # so is every host after it (the order puts them last): none can go
            if take(h, _REPLACED):
                slots -= 1
    chosen = {h.name for h, _ in to_retire} if to_retire else _NO_NAMES
    surplus = n_active - pairs.kept(ix, chosen, busy.inactive) - pol.count
    if surplus > 0:
        old_names = {h.name for h in pairs.outdated} | {h.name for g in pairs.quiet_outdated for h in g}
        remaining = [h for h in (*busy.active, *ix.quiet_hosts()) if h.name not in chosen]
        spare = [h for h in remaining if h.established and h.name.lower() not in pairs.replacement_of]
        spare.sort(key=lambda h: (0 if h.name in old_names else 1, *replacement_order(h)))
        for h in spare:
            if surplus <= 0:
                break
            if take(h, _COUNT):
                surplus -= 1
    return to_retire


def retire_steps(p: PoolInputs, d: Decision, to_retire: list[tuple[HostView, RetireReason]]) -> None:
    """Retire each chosen host: an empty one is removed at once, users on the others are messaged."""
    pol, now = p.policy, p.now
    for h, reason in to_retire:
        d.steps.append(Step(_RETIRE, h.name, RetireData(reason, h.session_host)))
        if not h.sessions:
            d.steps.append(Step(_REMOVE, h.name, RemoveData(h.session_host, _EMPTY)))
        else:
            deadline = now + pol.drain_grace
            d.steps.append(Step(_MESSAGE, h.name, message_body(h, pol.user_message, deadline, now)))
            d.wait(deadline if pol.drain_grace < REMINDERS[0] else deadline - REMINDERS[0], "drain grace")


def _new_names(p: PoolInputs, ix: HostIndex) -> Iterator[str]:
    """Names for new hosts, never one in use (the set is built at the first creation: most cycles create
    nothing)."""
    used = set(p.used_names)
    used.update(ix.by_lower)
    while True:
        name = next_name(p.policy.prefix, used)
        used.add(name.lower())
        yield name


def creations(
    p: PoolInputs,
    d: Decision,
    ix: HostIndex,
    busy: BusyHosts,
    pairs: Pairing,
    missing: int,
    room: int,
    create_version: str | None,
    target: str | None,
) -> list[Step]:
    """Phase 6: the `missing` hosts for `count` (on `create_version`), then, surging inside a window, the
    replacements of the next outdated hosts; bounded by `room` and, for replacements, the batch less the
    new hosts not Available yet."""
    pol = p.policy
    names: Iterator[str] | None = None
    made: list[Step] = []
    if missing > 0 and create_version:
        names = _new_names(p, ix)
        for _ in range(min(missing, room)):
            made.append(Step(_CREATE, next(names), CreateData(create_version)))
    elif missing > 0 and d.mode is DecisionMode.WAITING_REPLICATION:
        d.notes.append(f"{missing} host(s) missing: they are built on the pinned version once it replicates")
    elif missing > 0:
        d.notes.append(f"{missing} host(s) missing, no version to build them from yet")
    room -= len(made)
    if pol.surge and target and p.window_open:
        slots = min(room, pol.batch - len(busy.in_flight))
        for h in outdated_in_order(pairs.outdated, pairs.quiet_outdated) if slots > 0 else ():
            if h.name.lower() in pairs.replacement_of:
                continue
            if slots <= 0:
                break
            if names is None:
                names = _new_names(p, ix)
            assign = h.assigned_user if pol.personal else None
            made.append(Step(_CREATE, next(names), CreateData(target, replaces=h.name, assign=assign)))
            slots -= 1
    return made
