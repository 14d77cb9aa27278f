"""What one session-host step writes on Azure (`write_step`): a VM created from the pool's template, its
extensions, its tags, drains, assignments, deletes. `engine/rollout.py` decides the order and runs a VM's steps
one after another; the VM's tags are collected through `tag` and written once at the end of the cycle."""

from __future__ import annotations

from datetime import datetime

from reconciler.azure.hosts_body import agent_extension, join_extension, vm_body
from reconciler.azure.hosts_write import PoolWriter
from reconciler.model.rollout import (
    HOST_ASSIGN_TAG,
    HOST_CREATED_TAG,
    HOST_DRAIN_TAG,
    HOST_FAILED_TAG,
    HOST_POOL_TAG,
    HOST_REGISTERED_TAG,
    HOST_REPLACES_TAG,
    HOST_RETIRE_TAG,
    HOST_ROLLOUT_TAG,
    HOST_STAGE_TAG,
    rollout_id,
)
from reconciler.planner.host_inputs import AGENT_EXTENSION, JOIN_EXTENSION, READY, PoolInputs
from reconciler.planner.host_steps import CreateData, Step, StepOp
from reconciler.spec.state import HostPool


def write_step(
    step: Step, p: PoolInputs, pool: HostPool, w: PoolWriter, now: datetime, hosts, tag, removed
) -> int:
    op, vm, data = step.op, step.host, step.data
    if op is StepOp.DELETE_GHOST:
        w.delete_session_host(vm)
        return 1
    if op is StepOp.MARK_FAILED:
        tag(vm, **{HOST_FAILED_TAG: data.to_tag()})
        return 0
    if op is StepOp.REMOVE:
        n = 0
        entry = tag(vm)  # the tags this cycle's steps wrote so far, over the observed ones
        marked = entry.get(HOST_FAILED_TAG) != hosts[vm].tags.get(HOST_FAILED_TAG)
        if not hosts[vm].managed or marked:
            # Adopt it first, so it still counts toward count + surge until its delete has finished. A failed
            # host is marked first: if its delete fails, Azure shows it Failed, and unmarked it was judged
            # again and counted again once another host was the pool's last failure (3 of budget 2).
            w.tag_vm(vm, {**entry, HOST_POOL_TAG: p.pool_id.lower()})
            n = 1
        if data.session_host:
            w.delete_session_host(data.session_host)
            n += 1
        if not hosts[vm].deleting:  # a marked host is removed again each cycle until its delete has finished
            w.delete_vm(vm)
            n += 1
        removed.add(vm)
        return n
    if op is StepOp.CREATE:
        w.create_vm(
            vm, vm_body(pool, vm, data.version, zone_of(pool, vm), new_host_tags(p, pool, vm, data, now))
        )
        return 1
    if op is StepOp.JOIN:
        w.put_extension(vm, JOIN_EXTENSION, join_extension(pool, pool.location))
        return 1
    if op is StepOp.REGISTER:
        token = w.registration_token(now)
        sent = w.put_extension(vm, AGENT_EXTENSION, agent_extension(pool, pool.location, token))
        # Tagged after the PUT: a kill in between leaves no stamp, and the next cycle stamps late
        # (stamp-registered), so the health timeout never counts time the reconciler was away. Stamped with
        # the server time the agent was sent, not the cycle's read: a slow cycle must not start the clock early.
        tag(vm, **{HOST_REGISTERED_TAG: max(now, sent or now).isoformat()})
        return 1
    if op is StepOp.STAMP_REGISTERED:
        tag(vm, **{HOST_REGISTERED_TAG: now.isoformat()})
        return 0
    if op is StepOp.READY:
        n = 0
        if data.assign and hosts[vm].assigned_user != data.assign:
            w.assign(data.session_host, data.assign)
            n += 1
        tag(vm, **{HOST_STAGE_TAG: READY})
        return n
    if op is StepOp.RETIRE:
        when = w.drain(data.session_host) if data.session_host else None
        tag(vm, **{HOST_DRAIN_TAG: (when or now).isoformat(), HOST_RETIRE_TAG: str(data.reason)})
        return 1 if data.session_host else 0
    if op is StepOp.DRAIN:
        w.drain(data.session_host)
        return 1
    raise ValueError(f"unknown rollout step {op!r}")


def zone_of(pool: HostPool, name: str) -> str | None:
    zones = pool.spec.session_hosts.zones
    if not zones:
        return None
    index = name.rsplit("-", 1)[-1]
    return zones[int(index) % len(zones)] if index.isdigit() else zones[0]


def new_host_tags(
    p: PoolInputs, pool: HostPool, name: str, data: CreateData, now: datetime
) -> dict[str, str]:
    tags = dict(pool.tags)
    tags.update(
        {
            HOST_POOL_TAG: p.pool_id.lower(),
            HOST_CREATED_TAG: now.isoformat(),
            HOST_ROLLOUT_TAG: rollout_id(data.version),
        }
    )
    if data.replaces:
        tags[HOST_REPLACES_TAG] = data.replaces
    if data.assign:
        tags[HOST_ASSIGN_TAG] = data.assign
    return tags
