"""The apply recap, Ansible style: one line per resource kind, totals, host work, replication, failures,
what is pending and how it resumes, and the apply's outcome.

Input is plain data (`ApplyResult.recap()`: the engine's recap dict plus `replication`), so this module
needs nothing but the standard library. Text:

    APPLY RECAP *******************************************************************
    gallery           : ok=1    changed=1    failed=0    skipped=0    waiting=0    pending=0
    image-version     : ok=2    changed=2    failed=1    skipped=0    waiting=0    pending=0
    TOTAL             : ok=3    changed=3    failed=1    skipped=0    waiting=0    pending=0

    REPLICATION
      gal1/win11/1.1.0: westeurope=Completed northeurope=Failed

    HOSTS
      hp-canary         : created=2    replaced=2    deleted=2    drained=2    messaged=3    logged_off=1

    FAILED
      image-version 1.1.0: create image version 1.1.0: replication failed (…)
      roll hp-prod (halted): hp-prod: halted: 2 failed host(s), budget 1

    PENDING (not failed: a later apply resumes it)
      roll hp-prod: at 2026-12-06T10:00:00+00:00 (soak): hp-prod: pool hp-canary soaks until …
      resume: re-run `reconcile apply` after 2026-12-06T10:00:00+00:00, or run `reconcile run` (…)

    OUTCOME: pending
"""

from __future__ import annotations

import json
from typing import Any

COLUMNS = ("ok", "changed", "failed", "skipped", "waiting", "pending")
HOST_COLUMNS = ("created", "replaced", "deleted", "drained", "messaged", "logged_off")


def _row(label: str, counts: dict[str, int], width: int, columns=COLUMNS) -> str:
    cells = "  ".join(f"{c}={counts.get(c, 0):<4}" for c in columns)
    return f"{label:<{width}} : {cells}".rstrip()


def _short(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "galleries" in lowered:
        at = lowered.index("galleries")
        return "/".join(parts[at + 1 :: 2])
    return parts[-1]


def _change_name(node_id: str) -> str:
    action, _, rid = node_id.partition(" ")
    return f"{action} {_short(rid)}"


def _code(item: dict[str, Any]) -> str:
    """The reason code when it says more than the section title does (halted, retries-exhausted…)."""
    code = item.get("reason_code")
    return f" ({code})" if code and code not in ("error", "dependency-failed") else ""


def render_recap_text(recap: dict[str, Any]) -> str:
    kinds = recap.get("kinds", {})
    width = max([len(k) for k in kinds] + [5])
    lines = ["APPLY RECAP " + "*" * 67]
    lines += [_row(kind, counts, width) for kind, counts in kinds.items()]
    lines.append(_row("TOTAL", recap.get("totals", {}), width))
    replication = recap.get("replication") or {}
    if replication:
        lines += ["", "REPLICATION"]
        for vid, regions in replication.items():
            states = " ".join(f"{r}={s}" for r, s in regions.items())
            lines.append(f"  {_short(vid)}: {states}")
    for title, items in (("FAILED", recap.get("failures")), ("SKIPPED", recap.get("skipped"))):
        if items:
            lines += ["", title]
            lines += [f"  {_change_name(i['id'])}{_code(i)}: {i['why']}" for i in items]
    hosts = (recap.get("hosts") or {}).get("pools") or {}
    if hosts:
        hwidth = max([len(p) for p in hosts] + [5])
        lines += ["", "HOSTS"]
        lines += ["  " + _row(pool, counts, hwidth, HOST_COLUMNS) for pool, counts in hosts.items()]
        if len(hosts) > 1:
            lines.append("  " + _row("TOTAL", recap["hosts"].get("totals", {}), hwidth, HOST_COLUMNS))
    tests = recap.get("acceptance") or []
    if tests:
        lines += ["", "ACCEPTANCE"]
        for t in tests:
            code = f" (exit {t['exit_code']})" if t.get("exit_code") is not None else ""
            why = f": {t['excerpt']}" if t.get("excerpt") else ""
            lines.append(f"  {t['pool']}: {t['test']} {t['what']} on {t['host']}{code}{why}")
    pending = recap.get("pending")
    if pending is None:  # a recap from before the pending section: show what was unfinished
        pending = [
            {
                "change": i["id"],
                "resource": "",
                "status": i["status"],
                "why": i["why"],
                "resumes_at": i.get("resume_at"),
            }
            for i in recap.get("unfinished") or []
        ]
    if pending:
        lines += ["", "PENDING (not failed: a later apply resumes it)"]
        for item in pending:
            name = _change_name(f"{item['change']} {item['resource']}".strip())
            when = f"at {item['resumes_at']}" if item.get("resumes_at") else "when its dependencies are done"
            code = f" ({item['reason_code']})" if item.get("reason_code") else ""
            lines.append(f"  {name}: {when}{code}: {item['why']}")
        if recap.get("resume"):
            lines.append(f"  resume: {recap['resume']}")
    if recap.get("outcome"):
        lines += ["", f"OUTCOME: {recap['outcome']}"]
    return "\n".join(lines) + "\n"


def render_recap_json(recap: dict[str, Any], **extra: Any) -> str:
    return json.dumps({**extra, "recap": recap}, indent=2, sort_keys=True, default=str) + "\n"
