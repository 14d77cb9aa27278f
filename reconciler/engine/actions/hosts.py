"""Session hosts: the `roll` of a host pool and the `create`/`update`/`delete` of its session hosts.

All four run the same level-triggered cycle (reconciler.engine.rollout.converge_pool): observe the pool,
decide the next steps from tags + state, perform them, answer WaitUntil until the pool has `count` Available
hosts on the pinned version. The change carries the pool's template and policy (`details["target"]`), so a
saved plan is self-contained.
"""

from __future__ import annotations

from datetime import timedelta

from reconciler.azure.writes import HttpResponseError, error_of
from reconciler.engine.actions import register
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.executor import RunContext
from reconciler.engine.outcome import Failed, Outcome, Retry
from reconciler.engine.rollout import converge_pool
from reconciler.model.plan import Action, Change
from reconciler.planner.hosts_state import PoolTarget

TRANSIENT = {409, 412, 429, 500, 502, 503, 504}


@register("host-pool", Action.ROLL)
@register("session-hosts", Action.CREATE, Action.UPDATE, Action.DELETE)
def converge_session_hosts(change: Change, env: ActionEnv, ctx: RunContext) -> Outcome:
    details = change.details.get("target")
    if not details:
        return Failed(f"{change.key}: the plan carries no session-host template (re-plan)", "BadPlan")
    target = PoolTarget.from_details(details)
    try:
        return converge_pool(target, env.writer.conn).outcome
    except HttpResponseError as exc:
        code, message = error_of(exc)
        if exc.status_code in TRANSIENT:  # e.g. another operation on the VM still running
            return Retry(timedelta(seconds=30), f"{target.pool.name}: {code}: {message}")
        return Failed(f"{target.pool.name}: {code}: {message}", error_code=code)
