"""Wording shared by the text and Markdown rollout previews (one place, so both say the same)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from reconciler.model.rollout import RolloutPreview

_PLURALS = {"batch": "batches"}
TOTAL_WORDS = (
    ("created", "host", "created"),
    ("replaced", "host", "replaced"),
    ("deleted", "VM", "deleted"),
    ("drained", "host", "drained"),
    ("messaged", "user session", "messaged"),
    ("logged_off", "user session", "logged off"),
)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {_PLURALS.get(word, word + 's')}"


def now_line(steps: tuple[dict[str, Any], ...]) -> str:
    """The first cycle's writes, grouped: "create 18 on 2.0.0, create 2 on 2.0.0 (replacing avd-0, avd-1)"."""
    parts: list[str] = []
    creates = Counter(s.get("version") for s in steps if s["op"] == "create" and not s.get("replaces"))
    for version, n in sorted(creates.items(), key=lambda kv: str(kv[0])):
        parts.append(f"create {plural(n, 'host')} on {version}")
    replacing = [s for s in steps if s["op"] == "create" and s.get("replaces")]
    if replacing:
        versions = ", ".join(sorted({str(s.get("version")) for s in replacing}))
        parts.append(
            f"create {plural(len(replacing), 'replacement')} on {versions} "
            f"(for {', '.join(s['replaces'] for s in replacing)})"
        )
    others: dict[str, list[str]] = {}
    for s in steps:
        if s["op"] == "delete-test-vm":  # why it goes, for a VM no pool counts as its own
            others.setdefault(s["op"], []).append(f"{s['host']} ({s['reason']})")
        elif s["op"] != "create":
            others.setdefault(s["op"], []).append(s.get("host") or "pool")
    parts += [f"{op} {', '.join(hosts)}" for op, hosts in others.items()]
    return "; ".join(parts) or "nothing"


def totals_line(totals: dict[str, int]) -> str:
    return ", ".join(f"{plural(totals.get(k, 0), word)} {verb}" for k, word, verb in TOTAL_WORDS)


def ending_line(preview: RolloutPreview) -> str:
    low = "" if preview.min_available is None else f"; Available min {preview.min_available}"
    low += f" (floor {preview.floor_hosts})" if low else ""
    peak = (
        ""
        if preview.peak_vms is None
        else f"; peak {preview.peak_vms} VMs (max {preview.target_count + preview.surge})"
    )
    end = {"converged": "converges", "halted": "halts", "blocked": "stops", "bound": "stops"}.get(
        preview.end, preview.end
    )
    when = f" at {preview.finished_at}" if preview.finished_at else ""
    why = f" ({preview.end_why})" if preview.end_why else ""
    assumed = f"; assumes {'; '.join(preview.assumptions)}" if preview.assumptions else ""
    accept = f"; {acceptance_line(preview)}" if preview.acceptance else ""
    return f"{end}{when}{why}{low}{peak}{assumed}{accept}"


def acceptance_line(preview: RolloutPreview) -> str:
    """The acceptance step: "acceptance of 1.6.0 runs on avd-4 (ehr-client-starts, ...; checks ...) from
    <time>; hp-prod waits for it", or, on a pool behind the gate, the verdict it waits for ("" if none)."""
    a = preview.acceptance
    if not a:
        return ""
    version, state = a.get("version") or preview.to_version, a.get("state", "not run")
    if a.get("role") != "runs":
        return f"acceptance of {version}: {state} (the ring gate opens after it passed and soaked)"
    what = ", ".join(a.get("tests") or []) or "no tests"
    checks = f"; checks {', '.join(a['checks'])}" if a.get("checks") else ""
    where = f" on {a['host']}" if a.get("host") else ""
    if a.get("test_vm"):
        vm = a["test_vm"]
        subnet = vm["subnet_id"].rsplit("/", 1)[-1]
        where = f" on test VM {vm['name']} ({vm['vm_size']}, subnet {subnet}; deleted after the verdict)"
    since = f" from {a['starts_at']}" if a.get("starts_at") else ""
    held = a.get("held") or []
    waits = f"; {', '.join(held)} wait{'s' if len(held) == 1 else ''} for it" if held else ""
    why = f" ({a['why']})" if a.get("why") else ""
    return f"acceptance of {version} ({state}{why}) runs{where}{since}: {what}{checks}{waits}"
