"""The old import path of the rollout estate (now support.rollout, support.estate, support.sandbox), and the
in-process cycle driver the rollout tests not yet driven through `reconcile apply` still use.

`drive` here calls `converge_pools` directly (one apply pass's pool cycles); support.cli.drive runs the real
`reconcile apply` instead, and is what a converted test uses.
"""

from __future__ import annotations

from pathlib import Path

from support.estate import seed_estate  # noqa: F401
from support.rollout import (  # noqa: F401
    AD_JOIN,
    RG_IMAGES,
    RG_POOLS,
    SUB,
    VERSION_PREFIX,
    check_invariants,
    hosts_of,
    min_available_after,
    pool_doc,
    pool_id,
    seed_sessions,
    versions_running,
    vms_of,
    write_desired,
)
from support.sandbox import connect, stored  # noqa: F401

from reconciler.engine.outcome import Done, Failed, WaitUntil
from reconciler.engine.rollout import converge_pools
from reconciler.spec import load_desired


def drive(
    sb,
    desired_dir: Path,
    conn,
    *,
    max_cycles: int = 200,
    until_done: bool = True,
    on_cycle=None,
    max_hosts: dict[str, int] | None = None,
    stop_on_failed: bool = True,
):
    """Run cycles until every pool is Done (or Failed), advancing the frozen sandbox clock between them.
    Returns (cycles, last results)."""
    desired = load_desired(desired_dir)
    results = []
    for cycle in range(1, max_cycles + 1):
        results = converge_pools(desired, desired.host_pools, conn)
        check_invariants(sb, max_hosts=max_hosts)
        if on_cycle:
            on_cycle(cycle, results)
        outcomes = [r.outcome for r in results]
        if until_done and all(isinstance(o, Done) for o in outcomes):
            return cycle, results
        if (
            stop_on_failed
            and any(isinstance(o, Failed) for o in outcomes)
            and all(isinstance(o, Done | Failed) for o in outcomes)
        ):
            return cycle, results
        waits = [o.at for o in outcomes if isinstance(o, WaitUntil)]
        if waits:
            delta = (min(waits) - sb.now()).total_seconds()
            sb.advance(max(delta, 1.0))
        else:
            sb.advance(1.0)
    raise AssertionError(f"not converged after {max_cycles} cycles: {[r.outcome for r in results]}")
