"""What a JSON plan (`support.cli.plan_json`) says about session hosts, beside what the sandbox's audit recorded
while `reconcile apply` ran (`support.cli.drive`): the plan is the contract, so the two must agree.

`writes` reduces audit entries to the session-host writes the plan lists, keyed by VM name:
create (VM PUT), delete (VM DELETE), drain (session host PATCH), message (sendMessage), logoff (user session
DELETE), join / register (extension PUTs).
"""

from __future__ import annotations

from collections import Counter

from support.estate import PoolHosts, seed_estate


def seed_pools(sb, desired, hosts: dict[str, PoolHosts]) -> None:
    """The converged estate (support.estate.seed_estate) with `hosts` per pool: VMs on a given version and
    users signed in (who stay until logged off: no natural session ends)."""
    sb.configure(session_mean_seconds=0)
    seed_estate(sb, desired, hosts=hosts)


def pool_changes(plan: dict) -> dict[str, dict]:
    """pool name -> details of its roll or session-hosts change (the one that carries `now` and `totals`),
    from a JSON plan."""
    out = {}
    for c in plan["changes"]:
        details = c.get("details") or {}
        if "now" in details and "totals" in details:
            out[details["target"]["pool"]["name"]] = details
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
