"""Host-pool pins and session-host rollouts: which version new hosts get, and how existing hosts move to it.

The pin is recorded as a tag on the host pool (model.tags.PIN_TAG). It moves only after the version is
replicated to the pool's region; until then the pin change depends on the build/create/replicate change and
the rollout preview says what it waits for. A pool whose hosts run anything but the pinned version gets a
`roll` change with a full preview (batches, capacity vs floor, sessions, window, ring gate).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, change_key
from reconciler.model.rollout import RolloutPreview
from reconciler.model.tags import PIN_TAG, ROLLED_OUT_TAG, parse_rolled_out
from reconciler.planner.context import Context, leaf
from reconciler.planner.diff import Outcome
from reconciler.planner.hosts_plan import plan_session_hosts
from reconciler.planner.hosts_state import PoolTarget
from reconciler.planner.quarantine import quarantine_warning
from reconciler.planner.replication import readiness
from reconciler.planner.rollout import DELETE_FIRST, GateInput, PoolHost, RolloutPolicy, preview_rollout
from reconciler.planner.windows import CronError, Window, next_window


def _version_deps(version_id: str) -> tuple[str, ...]:
    return tuple(change_key(a, version_id) for a in (Action.CREATE, Action.BUILD, Action.REPLICATE))


def pool_hosts(ctx: Context, pool_id: str) -> list[PoolHost]:
    hosts = []
    for h in sorted(ctx.observed.hosts_of(pool_id), key=lambda h: h.name):
        sessions = max(h.sessions, len(ctx.observed.sessions_of(pool_id, h.name)))
        hosts.append(PoolHost(h.name, norm_id(h.image_version_id) or None, h.status or "Unknown", sessions,
                              h.allow_new_session))  # fmt: skip
    return hosts


def _done_since(ctx: Context, pool, target_id: str, rolling: set[str]) -> datetime | None:
    """When `pool` was last seen running `target_id` on every host, Available (None: not yet)."""
    if pool.name in rolling:
        return None
    observed = ctx.find("host_pools", pool.arm_id)
    hosts = pool_hosts(ctx, pool.arm_id)
    if observed is None or not hosts or any(h.version != target_id or not h.available for h in hosts):
        return None
    stamp = parse_rolled_out((observed.tags or {}).get(ROLLED_OUT_TAG))
    if stamp and stamp[0] == target_id:
        try:
            return datetime.fromisoformat(stamp[1])
        except ValueError:
            pass
    return ctx.now  # fully rolled but not stamped yet: the soak starts now


def plan_pools(ctx: Context) -> tuple[Outcome, list[RolloutPreview]]:
    out = Outcome()
    previews: list[RolloutPreview] = []
    rolling: set[str] = set()
    targets: dict[str, str] = {}
    for pool in ctx.desired.ring_order():  # gated pools after the pools they wait for
        target = ctx.desired.resolve_pin(pool)
        if target is None:
            continue  # validation reports an unresolvable pin; nothing to plan
        target_id = norm_id(target.arm_id)
        targets[pool.name] = target_id
        observed_pool = ctx.find("host_pools", pool.arm_id)
        observed_version = ctx.find("image_versions", target.arm_id)
        warning = quarantine_warning(ctx, pool, target_id)
        if warning is not None:
            out.diagnostics.append(warning)
        waiting = readiness(observed_version, pool.location)
        pool_deps = (change_key(Action.CREATE, pool.arm_id), change_key(Action.ADOPT, pool.arm_id))
        current = norm_id((observed_pool.tags or {}).get(PIN_TAG)) if observed_pool else ""
        pin_key = None
        if current != target_id:
            pin_key = change_key(Action.PIN, pool.arm_id)
            op = "replace" if current else "add"
            reason = f"{pool.origin('spec.image')}: HostPool {pool.name} pins {target.key}"
            reason += f" (was {leaf(current)})" if current else ""
            if waiting:
                reason += f"; moves once {waiting.replace('the version', 'it')} is resolved"
            out.changes.append(
                Change(
                    Action.PIN,
                    "host-pool",
                    pool.arm_id,
                    reason,
                    before={"tags": {PIN_TAG: current or None}},
                    after={"tags": {PIN_TAG: target_id}},
                    patch=[{"op": op, "path": f"/tags/{PIN_TAG}", "value": target_id}],
                    depends_on=pool_deps + _version_deps(target.arm_id),
                    fingerprint=observed_pool.fingerprint if observed_pool else "",
                    details={"version": target.name, "region": pool.location},
                )  # fmt: skip
            )
        hosts = pool_hosts(ctx, pool.arm_id) if observed_pool else []
        outdated = [h for h in hosts if h.version != target_id]
        if not outdated:
            sh_deps = pool_deps + _version_deps(target.arm_id) + ((pin_key,) if pin_key else ())
            provision = plan_session_hosts(ctx, pool, target_id, sh_deps)
            if provision is not None:
                out.changes.append(provision)
            continue
        preview = _preview(ctx, pool, hosts, target, waiting, targets, rolling)
        previews.append(preview)
        rolling.add(pool.name)
        deps = list(_version_deps(target.arm_id)) + ([pin_key] if pin_key else [])
        if pool.gate_after:
            deps.append(change_key(Action.ROLL, ctx.desired.host_pool(pool.gate_after).arm_id))
        host_ids = [h.id for h in ctx.observed.hosts_of(pool.arm_id)]
        out.changes.append(
            Change(
                Action.ROLL,
                "host-pool",
                pool.arm_id,
                f"{pool.origin('spec.rollout')}: {len(outdated)} of {len(hosts)} session host(s) of "
                f"{pool.name} run {', '.join(preview.from_versions)}, not {target.name}; replace them "
                f"in {len(preview.batches)} batch(es) ({preview.strategy})",
                depends_on=tuple(deps),
                fingerprint=observed_pool.fingerprint,
                details={
                    "target": PoolTarget.of(ctx.desired, pool).to_details(),
                    "version": target.name,
                    "hosts": sorted(h.name for h in outdated),
                    "session_host_ids": sorted(norm_id(i) for i in host_ids),
                    "batches": len(preview.batches),
                    "sessions_affected": preview.sessions_affected,
                },
            )  # fmt: skip
        )
    return out, previews


def _preview(ctx: Context, pool, hosts, target, waiting, targets, rolling) -> RolloutPreview:
    rollout = pool.spec.rollout
    count = pool.spec.session_hosts.count
    batch = rollout.batch_hosts(count)
    policy = RolloutPolicy(
        strategy=rollout.strategy,
        batch_size=batch,
        count=count,
        floor_percent=rollout.capacity_floor,
        surge=0 if rollout.strategy == DELETE_FIRST else batch,
    )
    blocked = [f"waits: {waiting}"] if waiting else []
    try:
        window = next_window(
            [Window(w.cron, w.duration, w.time_zone) for w in rollout.maintenance_windows], ctx.now
        )
    except CronError as exc:
        window, blocked = None, [*blocked, f"maintenance window: {exc}"]
    if window is not None and window[0] <= ctx.now:
        window = None  # open now: nothing to wait for
    gate = None
    if rollout.gate is not None:
        after = ctx.desired.host_pool(rollout.gate.after)
        after_target = targets.get(after.name) if after else None
        done = None
        if after is not None and after_target == norm_id(target.arm_id):
            done = _done_since(ctx, after, after_target, rolling)
        gate = GateInput(rollout.gate.after, rollout.gate.soak, done)
    preview = preview_rollout(
        pool_id=pool.arm_id,
        pool=pool.name,
        hosts=hosts,
        target=norm_id(target.arm_id),
        policy=policy,
        window=window,
        gate=gate,
        now=ctx.now,
        blocked=tuple(blocked),
    )
    # Hosts are compared by full version id (another definition's 1.2.0 is not ours); people read names.
    batches = tuple(
        replace(b, hosts=tuple(replace(h, version=leaf(h.version) if h.version else None) for h in b.hosts))
        for b in preview.batches
    )
    return replace(
        preview,
        from_versions=tuple(sorted({leaf(v) if v != "unknown" else v for v in preview.from_versions})),
        to_version=target.name,
        batches=batches,
    )
