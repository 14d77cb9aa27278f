"""The simulated pool of planner/timeline.py and what happens to it: the engine's writes (`apply_steps`) and
Azure finishing what they started (`complete`) — pure.

Both run once per simulated cycle (~66,000 times for the large estate's rollouts), so the hot paths read enum
members bound to module names (`StepOp.X` is a metaclass attribute lookup, several times a plain global's
cost on CPython 3.11) and build the strings and sets a step needs only when a step needs them.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from heapq import heappop, heappush
from typing import TYPE_CHECKING

from reconciler.model.rollout import (
    HOST_ASSIGN_TAG,
    HOST_CREATED_TAG,
    HOST_DRAIN_TAG,
    HOST_FAILED_TAG,
    HOST_MESSAGED_TAG,
    HOST_POOL_TAG,
    HOST_REGISTERED_TAG,
    HOST_REPLACES_TAG,
    HOST_RETIRE_TAG,
    HOST_STAGE_TAG,
)
from reconciler.planner.host_inputs import AGENT_EXTENSION, JOIN_EXTENSION, READY, HostView, PoolInputs
from reconciler.planner.host_steps import Decision, StepOp
from reconciler.planner.hosts_index import HostIndex

if TYPE_CHECKING:
    from reconciler.planner.timeline import Durations


class Completion(StrEnum):
    """What Azure finishes for a host in the model. The values sort as the simulation orders completions due
    at the same second (deterministic runs)."""

    DELETED = "deleted"
    PROVISIONED = "provisioned"
    JOINED = f"extension:{JOIN_EXTENSION}"
    # The AVD agent's extension is modelled as finishing when its session host turns Available: decide()
    # reads only that the agent was sent (and a Failed state, which the model never has), so a completion of
    # its own would only wake the simulation for a cycle that cannot write (one per new host).
    AVAILABLE = "available"
    SIGNED_OUT = "signed-out"
    ACCEPTED = "accepted"  # the acceptance tests on the host finished (assumed: passed)


class World:
    """The simulated pool: host views plus the completions Azure still owes them (time → what).

    Every change to a host goes through `put` / `gone_now`, which keep the pool's HostIndex (what decide()
    reads) and its name-ordered host list up to date: a cycle changes one or two hosts, so it costs that."""

    def __init__(self, inputs: PoolInputs, incremental: bool = True):
        self.inputs = inputs
        self.hosts: dict[str, HostView] = {h.name: h for h in inputs.hosts}
        # (due, vm, what), a heap: a cycle reads the earliest and takes those due, in the order they sort in
        self.events: list[tuple[datetime, str, Completion]] = []
        self.gone: set[str] = set()
        self.assumed: set[str] = set()
        self.accepting: str | None = None  # the host the acceptance tests run on, once started
        self.accepted: tuple[datetime, str] | None = None  # when and where they passed
        self.names = sorted(self.hosts)  # the hosts not gone, in pool order (by name)
        self._live = [self.hosts[n] for n in self.names]  # their views, in the same order
        self._live_tuple: tuple[HostView, ...] | None = None  # what live() last returned, until a change
        # Every name seen so far (PoolInputs.used_names of each cycle): only ever grows, so one set, added to
        # in place (a copy per created host would copy the resource group's names each time).
        lower = {n.lower() for n in self.names}
        self.used: set[str] = set(inputs.used_names) | lower
        # The index is keyed by name; names that differ only in case are left to HostIndex.of every cycle.
        unique = len(lower) == len(self.names)
        self.index: HostIndex | None = None
        if incremental and unique:
            self.index = HostIndex.by_name(self._live)
        self._counts: tuple[int, int] | None = None  # counts(), until a host changes

    def put(self, h: HostView) -> None:
        name, hosts, names = h.name, self.hosts, self.names
        old = hosts.get(name)
        hosts[name] = h
        at = bisect_left(names, name)
        if old is None:
            names.insert(at, name)
            self._live.insert(at, h)
            self.used.add(name.lower())
        elif at < len(names) and names[at] == name:  # (a host gone is not live)
            self._live[at] = h
        self._live_tuple = self._counts = None
        if self.index is not None:
            self.index.put(h, old)

    def gone_now(self, name: str) -> None:
        self.gone.add(name)
        at = bisect_left(self.names, name)
        del self.names[at], self._live[at]
        self._live_tuple = self._counts = None
        if self.index is not None:
            self.index.drop(self.hosts[name])

    def live(self) -> tuple[HostView, ...]:
        if self._live_tuple is None:
            self._live_tuple = tuple(self._live)
        return self._live_tuple

    def index_for(self, p: PoolInputs) -> HostIndex:
        """What decide() reads for `p` (the simulated pool now): the kept index, or one built afresh."""
        return self.index if self.index is not None else HostIndex.of(p.hosts)

    def counts(self) -> tuple[int, int]:
        """(Available and accepting hosts, hosts that exist). Read every cycle; nothing changes in four of ten."""
        if self._counts is not None:
            return self._counts
        if self.index is None:
            live = self.live()
            counts = sum(1 for h in live if h.accepting_available and not h.deleting), len(live)
        else:
            available = self.index.quiet_count
            for h in self.index.busy():
                if h.accepting_available and not h.deleting:
                    available += 1
            counts = available, self.index.size
        self._counts = counts
        return counts


def copy_of(obj, **changes):
    """`dataclasses.replace` for PoolInputs and HostView (whose __init__ checks nothing) without re-running
    their frozen __init__: the simulation copies the pool and a host or two every cycle."""
    cls = type(obj)
    copy = object.__new__(cls)
    fields = copy.__dict__
    fields.update(obj.__dict__, **changes)
    return copy if len(fields) == _FIELD_COUNT[cls] else fields_only(copy)


# A cached property lives in the instance's __dict__ next to the fields: a copy (or a pool moved on in place)
# must not carry one over, as it was worked out from the fields before the change.
_FIELDS = {cls: frozenset(f.name for f in dataclass_fields(cls)) for cls in (HostView, PoolInputs)}
_FIELD_COUNT = {cls: len(names) for cls, names in _FIELDS.items()}


def fields_only(obj):
    """`obj` without the cached properties in its __dict__ (the fields only)."""
    fields = obj.__dict__
    if len(fields) != _FIELD_COUNT[type(obj)]:
        names = _FIELDS[type(obj)]
        for cached in [k for k in fields if k not in names]:
            del fields[cached]
    return obj


def _with_tag(h: HostView, tag: str, value: str) -> HostView:
    tags = dict(h.tags)
    tags[tag] = value
    return copy_of(h, tags=tags)


_REMOVE, _CREATE, _JOIN, _REGISTER = StepOp.REMOVE, StepOp.CREATE, StepOp.JOIN, StepOp.REGISTER
_READY, _RETIRE, _MESSAGE, _LOGOFF = StepOp.READY, StepOp.RETIRE, StepOp.MESSAGE, StepOp.LOGOFF
_DRAIN, _MARK_FAILED, _STAMP_REGISTERED = StepOp.DRAIN, StepOp.MARK_FAILED, StepOp.STAMP_REGISTERED
_DELETE_GHOST, _COUNT_FAILURE, _QUARANTINE = StepOp.DELETE_GHOST, StepOp.COUNT_FAILURE, StepOp.QUARANTINE
_STAMP_ROLLED_OUT, _ACCEPT, _DELETE_TEST_VM = StepOp.STAMP_ROLLED_OUT, StepOp.ACCEPT, StepOp.DELETE_TEST_VM
_RECORD_ACCEPTANCE = StepOp.RECORD_ACCEPTANCE
_DELETED, _PROVISIONED, _JOINED = Completion.DELETED, Completion.PROVISIONED, Completion.JOINED
_AVAILABLE = Completion.AVAILABLE
_SIGNED_OUT, _ACCEPTED = Completion.SIGNED_OUT, Completion.ACCEPTED


def apply_steps(d: Decision, p: PoolInputs, world: World, now: datetime, du: Durations) -> PoolInputs:
    """What the engine's writes and Azure's answers do to the pool (engine/rollout.py `_one`)."""
    stamp = None  # now.isoformat(), for the steps that write a time
    ghosts = None  # set(p.ghosts), once a ghost is deleted
    pool_changed = False
    count, version, marker = p.failures
    quarantined, rolled_out, last_good = p.quarantined, p.rolled_out, p.last_good
    hosts, events = world.hosts, world.events
    # The host ops first, the most frequent first; every branch tests a distinct op.
    for step in d.steps:
        op, name, data = step.op, step.host, step.data
        h = hosts.get(name) if name else None
        if op is _MESSAGE:  # a retiring host's users are told again and again: a third of all steps
            stamp = stamp or now.isoformat()
            world.put(_with_tag(hosts[name], HOST_MESSAGED_TAG, stamp))
        elif op is _REMOVE:
            if h is not None:
                world.put(
                    copy_of(
                        h,
                        provisioning="Deleting",
                        session_host=None,
                        status=None,
                        sessions=(),
                        accepting=False,
                    )
                )
                heappush(events, (now + du.delete, name, _DELETED))
        elif op is _CREATE:
            stamp = stamp or now.isoformat()
            tags = {HOST_POOL_TAG: p.pool_id.lower(), HOST_CREATED_TAG: stamp}
            if data.replaces:
                tags[HOST_REPLACES_TAG] = data.replaces
            if data.assign:
                tags[HOST_ASSIGN_TAG] = data.assign
            world.put(HostView(name, f"sim/{name}", data.version, "Creating", tags))
            heappush(events, (now + du.create, name, _PROVISIONED))
        elif op is _JOIN:
            if h is not None:
                world.put(copy_of(h, extensions={**h.extensions, JOIN_EXTENSION: "Creating"}))
                heappush(events, (now + du.extension, name, _JOINED))
        elif op is _REGISTER:
            if h is not None:
                stamp = stamp or now.isoformat()
                tags = {**h.tags, HOST_REGISTERED_TAG: stamp}
                world.put(copy_of(h, extensions={**h.extensions, AGENT_EXTENSION: "Creating"}, tags=tags))
                heappush(events, (now + du.extension + du.register, name, _AVAILABLE))
        elif op is _READY:
            if h is not None:
                assigned = data.assign or h.assigned_user
                world.put(copy_of(h, assigned_user=assigned, tags={**h.tags, HOST_STAGE_TAG: READY}))
        elif op is _RETIRE:
            if h is not None:
                stamp = stamp or now.isoformat()
                tags = {**h.tags, HOST_DRAIN_TAG: stamp, HOST_RETIRE_TAG: data.reason}
                world.put(copy_of(h, accepting=False if h.session_host else h.accepting, tags=tags))
                if h.sessions and not p.policy.force_logoff and du.sign_out is not None:
                    sign_out_later(world, h, now + p.policy.drain_grace, du)
        elif op is _LOGOFF:
            if h is not None:
                world.put(copy_of(h, sessions=()))
        elif op is _DRAIN:
            if h is not None:
                world.put(copy_of(h, accepting=False))
        elif op is _MARK_FAILED:
            world.put(_with_tag(hosts[name], HOST_FAILED_TAG, data.to_tag()))
        elif op is _STAMP_REGISTERED:
            stamp = stamp or now.isoformat()
            world.put(_with_tag(hosts[name], HOST_REGISTERED_TAG, stamp))
        elif op is _DELETE_GHOST:
            ghosts = set(p.ghosts) if ghosts is None else ghosts
            ghosts.discard(name)
            pool_changed = True
        elif op is _COUNT_FAILURE:
            count, version, marker = data.count, data.version, data.marker
            pool_changed = True
        elif op is _QUARANTINE:
            quarantined = data.version
            pool_changed = True
        elif op is _STAMP_ROLLED_OUT:
            rolled_out = last_good = data.version
            pool_changed = True
        elif op is _ACCEPT:
            if p.acceptance is not None and p.acceptance.settled:
                # where: testVm, the delete owed after a verdict: done once the engine has done it
                p = copy_of(
                    p,
                    acceptance=replace(p.acceptance, test_vm=None),
                    test_vms=tuple(v for v in p.test_vms if v.name != name),
                )
            elif world.accepting is None and p.acceptance is not None:
                world.accepting = name
                heappush(events, (now + p.acceptance.plan.expected, name, _ACCEPTED))
        elif op is _DELETE_TEST_VM:
            p = copy_of(p, test_vms=tuple(v for v in p.test_vms if v.name != name))
        elif op is _RECORD_ACCEPTANCE and p.acceptance is not None:
            p = copy_of(p, acceptance=replace(p.acceptance, verdict=data.verdict))
    if not pool_changed:
        return p  # only hosts changed
    return copy_of(
        p,
        ghosts=tuple(sorted(set(p.ghosts) if ghosts is None else ghosts)),
        failures=(count, version, marker),
        quarantined=quarantined,
        rolled_out=rolled_out,
        last_good=last_good,
    )


def sign_out_later(world: World, h: HostView, grace_ends: datetime, du: Durations) -> None:
    """forceLogoff false: the modelled time users leave a drained host by themselves (an assumption)."""
    heappush(world.events, (grace_ends + du.sign_out, h.name, _SIGNED_OUT))
    world.assumed.add(
        f"users sign out on their own within {int(du.sign_out.total_seconds() // 60)} min of the drain grace "
        "ending (forceLogoff is false)"
    )


def complete(world: World, now: datetime) -> None:
    """Take the completions due by `now`, in the order they sort (time, VM, what)."""
    events, hosts, gone = world.events, world.hosts, world.gone
    while events and events[0][0] <= now:
        _, name, what = heappop(events)
        if what is _ACCEPTED and name == world.accepting and name not in hosts:
            world.accepted = (now, name)  # also a test VM (where: testVm), which is no pool host
            continue
        h = hosts.get(name)
        if h is None or name in gone:
            continue
        if what is _DELETED:
            world.gone_now(name)
        elif h.provisioning == "Deleting":  # h.deleting
            continue
        elif what is _PROVISIONED:
            world.put(copy_of(h, provisioning="Succeeded"))
        elif what is _JOINED:
            world.put(copy_of(h, extensions={**h.extensions, JOIN_EXTENSION: "Succeeded"}))
        elif what is _SIGNED_OUT:
            world.put(copy_of(h, sessions=()))
        elif what is _ACCEPTED:
            world.accepted = (now, name)
        elif what is _AVAILABLE:
            extensions = {**h.extensions, AGENT_EXTENSION: "Succeeded"}
            world.put(
                copy_of(
                    h, session_host=f"{name}.sim", status="Available", accepting=True, extensions=extensions
                )
            )
