"""Which version a host pool's hosts go to this cycle: phase 2 of `hosts.decide` — pure.

The pin, unless it is quarantined (halt, or roll back to the last good version), not replicated to the
region yet, held for its acceptance verdict, or behind a ring gate; and, apart from it, the version hosts
added to reach `count` are built on.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from reconciler.planner.host_inputs import HostView, PoolInputs
from reconciler.planner.host_steps import POLL, Decision, DecisionMode
from reconciler.planner.hosts_index import HostIndex

# Read every decision: module names, not `DecisionMode.X` (a metaclass attribute lookup on CPython 3.11).
_GATED, _HALTED_MODE = DecisionMode.GATED, DecisionMode.HALTED


def choose_version(
    p: PoolInputs,
    d: Decision,
    ix: HostIndex,
    established: list[HostView],
    quarantined: str | None,
    count: int,
    rejected: bool,
    holding: str | None,
) -> tuple[str | None, str | None]:
    """Rule 2: (the version hosts are replaced to, or None; the version hosts added for `count` get)."""
    target: str | None = p.target
    if target and quarantined != target and p.target_ready and holding is None and p.gate_ok:
        d.effective_target = target
        return target, target  # the usual cycle: nothing stands in the pin's way
    pol, now = p.policy, p.now
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
        d.poll(now + timedelta(minutes=5), p.target_why or "the version is not replicated to the region yet")
    elif holding is not None:
        # The first hosts on the version are under test: the rest of the pool waits for the verdict.
        target, d.mode = None, DecisionMode.GATED
        d.poll(now + POLL, holding)
    elif (
        p.target
        and not p.gate_ok
        and (any(h.version != p.target for h in established) or any(v and v != p.target for v in ix.quiet))
    ):
        # The gate guards replacing hosts that run something else; new hosts of a fresh pool need no soak.
        target, d.mode = None, DecisionMode.GATED
        gate_why = p.gate_why or "waits for the ring gate"
        if p.gate_until is not None:
            d.wait(p.gate_until, gate_why)  # a soak ends then
        else:
            d.poll(now + timedelta(minutes=15), gate_why)  # another pool's progress: not foreseeable here
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
    return target, create_version


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
