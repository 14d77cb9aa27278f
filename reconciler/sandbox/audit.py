"""Audit log and invariant tracking, judged by later reliability tests.

Logged: every mutating request (sandbox time, method, id, status, caller). Tracked: per host pool the number of
hosts that are Available and accept new sessions (current, min, max over time, with a timeline), the most hosts
a pool ever had, every user session ended by force/logoff and how long after its host was drained, sendMessage
calls, image versions deleted while a VM still referenced them, and every managed Run Command run (which script,
which fault rule, how it ended: a resumed controller must not run a passed test twice). Orphan disks/NICs and ghost session hosts
are computed from the store on demand.
"""

from __future__ import annotations

from typing import Any

from .clock import iso

MAX_ENTRIES = 200_000


class Audit:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.pools: dict[str, dict[str, Any]] = {}
        self.forced_session_ends: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.deleted_in_use: list[dict[str, Any]] = []
        self.run_commands: list[dict[str, Any]] = []

    def record(self, ts: float, method: str, rid: str, status: int, caller: dict[str, str]) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            del self.entries[: MAX_ENTRIES // 10]
        self.entries.append({"time": iso(ts), "method": method, "id": rid, "status": status, **caller})

    def pool_capacity(self, pool_id: str, ts: float, available: int, total: int) -> None:
        p = self.pools.setdefault(
            pool_id.lower(),
            {
                "id": pool_id,
                "current": available,
                "min": available,
                "max": available,
                "max_hosts": total,
                "timeline": [],
            },
        )
        p["max_hosts"] = max(p["max_hosts"], total)
        if p["timeline"] and p["timeline"][-1][1] == available:
            return
        p["current"] = available
        p["min"] = min(p["min"], available)
        p["max"] = max(p["max"], available)
        if len(p["timeline"]) < 10_000:
            p["timeline"].append([iso(ts), available])

    def session_ended(self, ts: float, session_id: str, reason: str, drained_at: float | None) -> None:
        self.forced_session_ends.append(
            {
                "time": iso(ts),
                "id": session_id,
                "reason": reason,
                "drained_at": iso(drained_at) if drained_at is not None else None,
                "seconds_after_drain": round(ts - drained_at, 3) if drained_at is not None else None,
            }
        )

    def message(self, ts: float, session_id: str, title: str | None, body: str | None) -> None:
        self.messages.append({"time": iso(ts), "id": session_id, "title": title, "body": body})

    def version_deleted_in_use(
        self, ts: float, version_id: str, vm_ids: list[str], tagged_by: list[str] = ()
    ) -> None:
        """A version deleted while VMs ran it or resources named it in a tag (a pool's pin)."""
        self.deleted_in_use.append(
            {"time": iso(ts), "version": version_id, "vms": vm_ids, "tagged_by": list(tagged_by)}
        )

    def run_command(
        self, ts: float, rid: str, number: int, run: dict[str, Any], sha: str | None, uri: str | None
    ):
        """A run started; the returned entry is updated if the run is canceled. Never holds parameter values."""
        entry = {
            "time": iso(ts),
            "id": rid,
            "run": number,
            "script_sha256": sha,
            "script_uri": uri,
            "rule": run.get("rule"),
            "outcome": run["state"],  # as scripted; "Canceled" if it was stopped
            "exit_code": run.get("exit_code"),
            "ends": iso(run["end"]),
        }
        if len(self.run_commands) < 100_000:
            self.run_commands.append(entry)
        return entry

    def dump(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "pools": self.pools,
            "forced_session_ends": self.forced_session_ends,
            "messages": self.messages,
            "deleted_in_use": self.deleted_in_use,
            "run_commands": self.run_commands,
        }

    def load(self, data: dict[str, Any]) -> None:
        self.clear()
        self.entries = data.get("entries", [])
        self.pools = data.get("pools", {})
        self.forced_session_ends = data.get("forced_session_ends", [])
        self.messages = data.get("messages", [])
        self.deleted_in_use = data.get("deleted_in_use", [])
        self.run_commands = data.get("run_commands", [])
