"""A warning when a suite's `agentChecks.minAgentVersion` is above what the validation pool's hosts run — pure.

The agent check then fails every version on those hosts ("AVD agent … is older than the required …"), which
reads as a broken image while the mistake is in desired/ (`make demo` once asked for 1.0.9742.0 of hosts on
1.0.9103.x). A warning, not an error: the hosts' agent updates itself, and a pool with no host yet says
nothing. The newest agent any of the pool's hosts reports is the measure: a new host gets at least that one.
"""

from __future__ import annotations

from reconciler.model.observed import norm_id
from reconciler.model.plan import Diagnostic, Severity
from reconciler.planner.context import Context

FIELD = "spec.acceptance.agentChecks.minAgentVersion"


def agent_version_diagnostics(ctx: Context) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    desired = ctx.desired
    for definition in desired.image_definitions:
        suite = definition.spec.acceptance
        wanted = _version(suite.agent_checks.min_agent_version) if suite and suite.agent_checks else None
        if wanted is None:
            continue
        for pool in desired.host_pools:
            if pool.definition is not definition or not desired.is_validation(pool):
                continue
            pool_id = norm_id(pool.arm_id)
            reported = [
                (v, h.agent_version)
                for h in ctx.observed.session_hosts.values()
                if norm_id(h.host_pool_id) == pool_id and (v := _version(h.agent_version)) is not None
            ]
            if not reported:
                continue
            best, newest = max(reported)
            if best >= wanted:
                continue
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    definition.arm_id,
                    f"{definition.origin(FIELD)}: {FIELD} of ImageDefinition {definition.key} is "
                    f"{suite.agent_checks.min_agent_version}, but the newest AVD agent on validation pool "
                    f"{pool.name}'s hosts is {newest}; every version will fail acceptance on the agent check "
                    "until their agent is updated. Lower minAgentVersion to what the hosts run, or remove it",
                    reason="acceptance-agent-version-unmet",
                )
            )
    return out


def _version(text: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split(".")) if text else None
    except ValueError:
        return None
