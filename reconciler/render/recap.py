"""The apply recap, Ansible style: one line per resource kind, totals, per-region replication, failures.

Input is plain data (`ApplyResult.recap()`: the engine's recap dict plus `replication`), so this module
needs nothing but the standard library. Text:

    APPLY RECAP *******************************************************************
    gallery           : ok=1    changed=1    failed=0    skipped=0    waiting=0    pending=0
    image-version     : ok=2    changed=2    failed=1    skipped=0    waiting=0    pending=0
    TOTAL             : ok=3    changed=3    failed=1    skipped=0    waiting=0    pending=0

    REPLICATION
      gal1/win11/1.1.0: westeurope=Completed northeurope=Failed

    FAILED
      image-version 1.1.0: create image version 1.1.0: replication failed (…)
"""

from __future__ import annotations

import json
from typing import Any

COLUMNS = ("ok", "changed", "failed", "skipped", "waiting", "pending")


def _row(label: str, counts: dict[str, int], width: int) -> str:
    cells = "  ".join(f"{c}={counts.get(c, 0):<4}" for c in COLUMNS)
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
            lines += [f"  {_change_name(i['id'])}: {i['why']}" for i in items]
    unfinished = recap.get("unfinished") or []
    if unfinished:
        lines += ["", "NOT FINISHED (the next apply resumes them)"]
        for item in unfinished:
            when = f" (next check {item['resume_at']})" if item.get("resume_at") else ""
            lines.append(f"  {_change_name(item['id'])}: {item['status']}: {item['why']}{when}")
    return "\n".join(lines) + "\n"


def render_recap_json(recap: dict[str, Any], **extra: Any) -> str:
    return json.dumps({**extra, "recap": recap}, indent=2, sort_keys=True, default=str) + "\n"
