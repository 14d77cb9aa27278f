"""Plan, then apply, on the sandbox, and compare what the plan said with what the sandbox's audit recorded.

`plan_estate` observes and plans in process (what `reconcile plan` does). Apply is the session-host cycle the
roll / session-hosts actions run (`converge_pools`, driven by rollout_support.drive on the frozen clock).
`writes` reduces audit entries to the session-host writes the plan lists, keyed by VM name:
create (VM PUT), delete (VM DELETE), drain (session host PATCH), message (sendMessage), logoff (user session
DELETE), join / register (extension PUTs).
"""

from __future__ import annotations

from collections import Counter

from support.estate import PoolHosts, seed_estate

from reconciler.azure.observe import observe
from reconciler.model.observed import ObserveScope
from reconciler.model.plan import Plan
from reconciler.planner.core import plan


def seed_pools(sb, desired, hosts: dict[str, PoolHosts]) -> None:
    """The converged estate (support.estate.seed_estate) with `hosts` per pool: VMs on a given version and
    users signed in (who stay until logged off: no natural session ends)."""
    sb.configure(session_mean_seconds=0)
    seed_estate(sb, desired, hosts=hosts)


def plan_estate(desired, conn) -> Plan:
    observed = observe(ObserveScope.of([p.subscription_id for p in desired.host_pools]), conn)
    return plan(desired, observed, observed.observed_at)


def pool_changes(result: Plan) -> dict[str, dict]:
    """pool name -> details of its roll or session-hosts change (the one that carries `now` and `totals`)."""
    out = {}
    for c in result.changes:
        if "now" in c.details and "totals" in c.details:
            out[c.details["target"]["pool"]["name"]] = c.details
    return out


def _vm_of(host_name: str) -> str:
    return host_name.split(".")[0].lower()


def writes(entries: list[dict]) -> Counter:
    """(op, vm) -> count, from audit entries (successful mutating requests only)."""
    out: Counter = Counter()
    for e in entries:
        if e["status"] >= 400:
            continue
        parts = e["id"].split("?")[0].rstrip("/").split("/")
        low = [p.lower() for p in parts]
        method = e["method"]
        if "virtualmachines" in low:
            i = low.index("virtualmachines")
            vm = low[i + 1] if len(low) > i + 1 else ""
            rest = low[i + 2 :]
            if not rest and method == "PUT":
                out[("create", vm)] += 1
            elif not rest and method == "DELETE":
                out[("delete", vm)] += 1
            elif rest[:1] == ["extensions"] and method == "PUT":
                out[("join" if rest[1:] == ["join"] else "register", vm)] += 1
        elif "sessionhosts" in low:
            i = low.index("sessionhosts")
            vm = _vm_of(low[i + 1])
            rest = low[i + 2 :]
            if not rest and method == "PATCH":
                out[("drain", vm)] += 1
            elif rest[:1] == ["usersessions"] and rest[-1:] == ["sendmessage"]:
                out[("message", vm)] += 1
            elif rest[:1] == ["usersessions"] and method == "DELETE":
                out[("logoff", vm)] += 1
    return out


def expected_writes(now_steps: list[dict]) -> Counter:
    """The same reduction of the plan's first-cycle steps (`details["now"]`)."""
    out: Counter = Counter()
    for s in now_steps:
        vm, op = (s.get("host") or "").lower(), s["op"]
        if op == "create":
            out[("create", vm)] += 1
        elif op == "remove":
            out[("delete", vm)] += 1
        elif op == "drain" or (op == "retire" and s.get("drains")):
            out[("drain", vm)] += 1
        elif op in ("message", "logoff"):
            out[(op, vm)] += s.get("sessions", 0)
        elif op in ("join", "register"):
            out[(op, vm)] += 1
    return +out


def totals_from(counter: Counter, entries: list[dict]) -> dict[str, int]:
    """The plan's totals vocabulary, counted from the audit."""
    messaged = {
        e["id"].rsplit("/", 1)[0].lower()
        for e in entries
        if e["status"] < 400 and e["id"].lower().endswith("/sendmessage")
    }
    return {
        "created": sum(n for (op, _), n in counter.items() if op == "create"),
        "deleted": sum(n for (op, _), n in counter.items() if op == "delete"),
        "drained": len({vm for (op, vm) in counter if op == "drain"}),
        "messaged": len(messaged),
        "logged_off": sum(n for (op, _), n in counter.items() if op == "logoff"),
    }


def drive_until(sb, desired, conn, until, blocked=frozenset(), *, on_cycle=None, max_cycles: int = 800):
    """Apply cycles (rollout_support.drive's loop) until every pool is Done, except the pools in `blocked`
    (the plan says they stay blocked) once the sandbox clock passes `until`: apply writes nothing more there."""
    from reconciler.engine.outcome import Done, WaitUntil
    from reconciler.engine.rollout import converge_pools

    results = []
    for _ in range(max_cycles):
        results = converge_pools(desired, desired.host_pools, conn)
        if on_cycle:
            on_cycle(results)
        late = sb.now() > until
        if all(isinstance(r.outcome, Done) or (late and r.pool in blocked) for r in results):
            return results
        waits = [r.outcome.at for r in results if isinstance(r.outcome, WaitUntil)]
        sb.advance(max((min(waits) - sb.now()).total_seconds(), 1.0) if waits else 1.0)
    raise AssertionError(f"not settled after {max_cycles} cycles: {[r.outcome for r in results]}")
