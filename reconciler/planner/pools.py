"""Host-pool pins and session-host rollouts: which version new hosts get, and how existing hosts move to it.

The pin is recorded as a tag on the host pool (model.tags.PIN_TAG). It moves only after the version is
replicated to the pool's region; until then the pin change depends on the build/create/replicate change.
What happens to the session hosts is not planned here: apply's own `decide()` is run over a simulated
timeline (planner.timeline) from the pool's inputs as the Observed snapshot shows them (planner.pool_inputs).
A pool whose hosts run anything but the pinned version gets a `roll` change, else a session-hosts change when
anything needs doing; both carry `now` (the first apply cycle's writes: op, host, version), `totals` (every
write of the whole rollout) and `simulation` (how and when it ends), and a roll gets a full preview (batches,
capacity vs floor, peak VMs, sessions, window, ring gate).
"""

from __future__ import annotations

from datetime import datetime

from reconciler.model.acceptance import is_accepted
from reconciler.model.acceptance_vm import accept_vm_name
from reconciler.model.observed import norm_id
from reconciler.model.plan import Action, Change, ChangeReason, Diagnostic, Severity, change_key
from reconciler.model.rollout import RolloutPreview
from reconciler.model.tags import PIN_TAG, ROLLED_OUT_TAG, parse_rolled_out
from reconciler.planner.context import Context, leaf
from reconciler.planner.diff import Outcome
from reconciler.planner.host_inputs import PoolInputs, parse_time
from reconciler.planner.host_steps import DecisionMode, StepOp
from reconciler.planner.pool_inputs import PlanLookups, from_observed, window_of
from reconciler.planner.pool_target import PoolTarget
from reconciler.planner.quarantine import quarantine_warning
from reconciler.planner.replication import readiness
from reconciler.planner.retention import version_key
from reconciler.planner.rollout import TimelineWalk, preview_of, step_summary, walk
from reconciler.planner.session_hosts_plan import plan_session_hosts
from reconciler.planner.timeline import DEFAULT_DURATIONS, Timeline, TimelineEnd, simulate_rollout
from reconciler.planner.version_build import version_build_stopped
from reconciler.planner.version_ready import version_deps
from reconciler.planner.windows import CronError, Window, next_window


def plan_pools(ctx: Context) -> tuple[Outcome, list[RolloutPreview]]:
    out = Outcome()
    previews: list[RolloutPreview] = []
    # pool -> (version id, simulated time it runs it fully): when ring gates on it open
    finished: dict[str, tuple[str, datetime | None]] = {}
    lookups = PlanLookups(ctx.observed)
    for pool in ctx.desired.ring_order():  # gated pools after the pools they wait for
        target = ctx.desired.resolve_pin(pool)
        if target is None:
            continue  # validation reports an unresolvable pin; nothing to plan
        target_id = norm_id(target.arm_id)
        observed_pool = ctx.find("host_pools", pool.arm_id)
        observed_version = ctx.find("image_versions", target.arm_id)
        warning = quarantine_warning(ctx, pool, target_id)
        if warning is not None:
            out.diagnostics.append(warning)
        stopped = version_build_stopped(ctx, target) if observed_version is None else None
        if stopped is not None:
            # A pin to a version whose build is not run again would fail every apply ("the version is
            # absent"): nothing is planned for the pool, which says why, until the recipe changes and it builds.
            out.diagnostics.append(_waits_for_fixed_build(pool, target, stopped))
            finished[pool.name] = (target_id, None)
            continue
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
                reason += f"; moves once the version is replicated to {pool.location} (now: {waiting})"
            out.changes.append(
                Change(
                    Action.PIN,
                    "host-pool",
                    pool.arm_id,
                    reason,
                    before={"tags": {PIN_TAG: current or None}},
                    after={"tags": {PIN_TAG: target_id}},
                    patch=[{"op": op, "path": f"/tags/{PIN_TAG}", "value": target_id}],
                    depends_on=pool_deps + version_deps(target.arm_id),
                    fingerprint=observed_pool.fingerprint if observed_pool else "",
                    details={"version": target.name, "region": pool.location},
                    reason_code=ChangeReason.ROLLBACK
                    if _older(target.name, [leaf(current)])
                    else ChangeReason.PIN_MOVED,
                )
            )
        inputs = from_observed(ctx.observed, ctx.desired, pool, ctx.now, lookups)
        timeline = _simulate(ctx, pool, inputs, finished)
        finished[pool.name] = (
            target_id,
            timeline.finished_at if timeline.end is TimelineEnd.CONVERGED else None,
        )
        walked = walk(timeline, inputs.policy.floor_hosts)
        now_steps = [step_summary(s, _leaf) for s in (timeline.first.steps if timeline.first else ())]
        outdated = [h for h in inputs.hosts if h.version != target_id]
        if not outdated:
            sh_deps = pool_deps + version_deps(target.arm_id) + ((pin_key,) if pin_key else ())
            provision = plan_session_hosts(ctx, pool, target_id, sh_deps, inputs)
            if provision is not None:
                provision.details["now"] = now_steps
                provision.details["totals"] = walked.totals
                provision.details["simulation"] = _ending(timeline, walked)
                out.changes.append(provision)
            continue
        preview = _preview(ctx, pool, inputs, timeline, walked, target, waiting)
        previews.append(preview)
        deps = list(version_deps(target.arm_id)) + ([pin_key] if pin_key else [])
        if pool.gate_after:
            deps.append(change_key(Action.ROLL, ctx.desired.host_pool(pool.gate_after).arm_id))
        host_ids = [h.key for h in ctx.observed.hosts_of(pool.arm_id)]  # the observed keys, not copies
        out.changes.append(
            Change(
                Action.ROLL,
                "host-pool",
                pool.arm_id,
                f"{pool.origin('spec.rollout')}: {_roll_reason(pool, inputs, outdated, preview, target.name)}",
                depends_on=tuple(deps),
                fingerprint=observed_pool.fingerprint,
                details={
                    "target": PoolTarget.of(ctx.desired, pool).to_details(),
                    "version": target.name,
                    "hosts": sorted(h.name for h in outdated),
                    "session_host_ids": sorted(host_ids),
                    "batches": len(preview.batches),
                    "sessions_affected": preview.sessions_affected,
                    "now": now_steps,
                    "totals": dict(preview.totals),
                    "simulation": _ending(timeline, walked),
                },
                reason_code=_roll_code(timeline, target.name, preview.from_versions),
            )
        )
    return out, previews


def _older(version: str, than: list[str]) -> bool:
    """`version` sorts below every one of `than` (semantic version order): moving to it is a rollback."""
    known = [v for v in than if v and v != "unknown"]
    return bool(known) and all(version_key(version) < version_key(v) for v in known)


def _roll_code(timeline: Timeline, version: str, from_versions: tuple[str, ...]) -> ChangeReason:
    """A roll back (to the last good version after a quarantine, or to an older pin) is reported as one."""
    first = timeline.first
    if (first is not None and first.mode is DecisionMode.ROLLBACK) or _older(version, list(from_versions)):
        return ChangeReason.ROLLBACK
    return ChangeReason.PIN_MOVED


def _leaf(version_id: str | None) -> str | None:
    return leaf(version_id) if version_id else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}es" if word.endswith("h") else f"{n} {word}s"


def _roll_reason(pool, inputs: PoolInputs, outdated, preview: RolloutPreview, version: str) -> str:
    t = preview.totals
    added = t.get("created", 0) - t.get("replaced", 0)
    text = (
        f"{len(outdated)} of {len(inputs.hosts)} session host(s) of {pool.name} run "
        f"{', '.join(preview.from_versions)}, not {version}; "
    )
    parts = []
    if added > 0:
        parts.append(f"add {added} on {version}")
    parts.append(
        f"replace {t.get('replaced', 0)} in {_plural(len(preview.batches), 'batch')} ({preview.strategy})"
    )
    removed = t.get("deleted", 0) - t.get("replaced", 0)
    if removed > 0:
        parts.append(f"remove {removed}")
    return text + ", ".join(parts)


def _ending(timeline: Timeline, walked: TimelineWalk) -> dict:
    last_write = walked.last_write_at
    return {
        "end": timeline.end,
        "last_write_at": last_write.isoformat() if last_write else None,
        "why": timeline.why,
        "cycles": len(timeline.cycles),
        "finished_at": timeline.finished_at.isoformat() if timeline.finished_at else None,
        "assumptions": list(timeline.assumptions),
    }


def _simulate(
    ctx: Context, pool, inputs: PoolInputs, finished: dict[str, tuple[str, datetime | None]]
) -> Timeline:
    """Apply's own decision over a simulated timeline. A version this plan still creates or replicates is
    assumed ready when the pool's first cycle runs (apply runs it only after those changes); a ring gate on a
    pool rolling in this plan to the same version opens when that pool's simulated rollout finishes, plus the
    soak (a gate pool on another version never opens it: the simulation then stops, blocked, as apply waits)."""
    gate_opens = None
    gate = pool.spec.rollout.gate
    if gate is not None and not inputs.gate_ok and inputs.gate_until is None:
        version, done = finished.get(gate.after, ("", None))
        gate_opens = done + gate.soak if done and version == inputs.target else None
    return simulate_rollout(
        inputs,
        DEFAULT_DURATIONS,
        ready_at=ctx.now if not inputs.target_ready and inputs.target else None,
        gate_opens_at=gate_opens,
        # No windows: always open, as the inputs already say (window_of), so nothing to recompute per cycle.
        window_at=(lambda at: window_of(pool, at)) if pool.spec.rollout.maintenance_windows else None,
        incremental=not ctx.reference,
    )


def soak_end(ctx: Context, pool, target: str | None, acceptance=None) -> datetime | None:
    """When the ring gate's soak ends (ends or ended) by the gate pool's ROLLED_OUT_TAG, or None; with
    `acceptance` (the version's suite), from the later of that and the acceptance (None until accepted)."""
    gate = pool.spec.rollout.gate
    after = ctx.desired.host_pool(gate.after) if gate else None
    observed = ctx.find("host_pools", after.arm_id) if after else None
    stamp = parse_rolled_out((observed.tags or {}).get(ROLLED_OUT_TAG)) if observed else None
    since = parse_time(stamp[1]) if stamp and stamp[0] == target else None
    if since is not None and acceptance is not None:
        accepted = parse_time(acceptance.verdict.at) if acceptance.verdict else None
        if not is_accepted(acceptance.state) or accepted is None:
            return None  # the soak starts once the version passed acceptance
        since = max(since, accepted)
    return since + gate.soak if since else None


def _preview(
    ctx: Context, pool, inputs: PoolInputs, timeline: Timeline, walked: TimelineWalk, target, waiting
) -> RolloutPreview:
    rollout = pool.spec.rollout
    blocked = [f"waits: {waiting}"] if waiting else []
    try:
        window = next_window(
            [Window(w.cron, w.duration, w.time_zone) for w in rollout.maintenance_windows], ctx.now
        )
    except CronError as exc:
        window, blocked = None, [*blocked, f"maintenance window: {exc}"]
    if window is not None and window[0] <= ctx.now:
        window = None  # open now: nothing to wait for
    gate: dict = {}
    if rollout.gate is not None:
        until = soak_end(ctx, pool, inputs.target, inputs.acceptance)
        gate = {
            "after": rollout.gate.after,
            "soak_seconds": int(rollout.gate.soak.total_seconds()),
            "satisfied": inputs.gate_ok,
            "waits_until": until.isoformat() if until else None,
            "reason": inputs.gate_why
            or f"pool {rollout.gate.after} soaked until {until.isoformat() if until else '?'}",
        }
    if rollout.gate is not None and inputs.acceptance is not None:
        gate["acceptance"] = str(inputs.acceptance.state or "not run")
    return preview_of(
        inputs,
        timeline,
        to_version=target.name,
        window=window,
        gate=gate,
        blocked=tuple(blocked),
        leaf=_leaf,
        acceptance=acceptance_preview(ctx, pool, inputs, timeline),
        walked=walked,
    )


def acceptance_preview(ctx: Context, pool, inputs: PoolInputs, timeline: Timeline) -> dict:
    """The acceptance step as the plan shows it: on which host, which tests, and who waits for it."""
    acc = inputs.acceptance
    if acc is None:
        return {}
    out = {
        "version": _leaf(inputs.target),
        "state": str(acc.state) if acc.state else "not run",
        "role": "runs" if acc.runs_here else "waits",
        "tests": [t.name for t in acc.plan.tests],
        "checks": list(acc.plan.checks),
    }
    if acc.plan.test_vm is not None and inputs.target:
        subnet, size = acc.plan.test_vm
        out["test_vm"] = {"name": accept_vm_name(inputs.target), "subnet_id": subnet, "vm_size": size}
    if acc.verdict is not None:
        out.update(host=acc.verdict.host, at=acc.verdict.at)
        if acc.verdict.reason:
            out["why"] = acc.verdict.reason
    if acc.runs_here:
        started = next(
            ((c.at, s.host) for c in timeline.cycles for s in c.steps if s.op is StepOp.ACCEPT), None
        )
        if started is not None:
            out.setdefault("host", started[1])
            out["starts_at"] = started[0].isoformat()
        out["held"] = sorted(p.name for p in ctx.desired.gated_by(pool))
    return out


def _waits_for_fixed_build(pool, target, stopped) -> Diagnostic:
    return Diagnostic(
        Severity.WARNING,
        pool.arm_id,
        f"{pool.origin('spec.image')}: HostPool {pool.name} is not moved to {target.key}: its build "
        f"{stopped.why_stopped} "
        "and is not run again; the pool stays as it is until the ImageBuild's recipe changes",
        "build-not-run-again",
    )
