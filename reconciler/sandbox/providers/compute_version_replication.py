"""The replication model of gallery image versions: each target region replicates on the sandbox clock
(config.replication_seconds, per-region overrides, a failure share), its state and progress (shown with
`$expand=ReplicationStatus`), and which version is the latest one completed in a region."""

from __future__ import annotations

from typing import Any

from ..routing import Request, norm_region
from ..store import PRIVATE, private, public
from .base import ResourceType


def version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in name.split("."))
    except ValueError:
        return (0,)


class ReplicatedVersions(ResourceType):
    """Versions (compute_versions.Versions) as far as replication goes: per-region records in private state."""

    def region_seconds(self, region: str) -> float:
        cfg = self.app.config
        return float(cfg.replication_seconds_by_region.get(region, cfg.replication_seconds))

    def replicate(self, res: dict[str, Any], now: float, fail_allowed: bool = True) -> float:
        """Start replication to newly targeted regions, drop removed ones; return when all are done."""
        pp = res["properties"].setdefault("publishingProfile", {})
        rep = private(res).setdefault("replication", {})
        wanted = {}
        for tr in pp.get("targetRegions") or []:
            wanted[norm_region(tr.get("name"))] = tr.get("name")
        for region in list(rep):
            if region not in wanted:
                del rep[region]
        for region, display in wanted.items():
            if region not in rep:
                share = self.app.config.replication_failure_share
                fail = bool(fail_allowed and share and self.app.rng.random() < share)
                rep[region] = {
                    "start": now,
                    "seconds": self.region_seconds(region),
                    "fail": fail,
                    "name": display,
                }
        return max([r["start"] + r["seconds"] for r in rep.values()] + [now])

    def region_state(self, res: dict[str, Any], region: str, now: float) -> tuple[str, int]:
        rep = res.get(PRIVATE, {}).get("replication")
        if rep is None:
            return ("Completed", 100) if region in self.regions(res) else ("Unknown", 0)
        r = rep.get(region)
        if r is None:
            return "Unknown", 0
        if now >= r["start"] + r["seconds"]:
            return ("Failed", 100) if r["fail"] else ("Completed", 100)
        progress = int(100 * (now - r["start"]) / r["seconds"]) if r["seconds"] > 0 else 100
        return "Replicating", progress

    def regions(self, res: dict[str, Any]) -> list[str]:
        trs = res.get("properties", {}).get("publishingProfile", {}).get("targetRegions") or []
        regions = [norm_region(t.get("name")) for t in trs]
        return regions or [norm_region(res.get("location"))]

    def completed_in(self, res: dict[str, Any], region: str) -> bool:
        state, _ = self.region_state(res, norm_region(region), self.app.clock.now_ts())
        return state == "Completed" and res.get("properties", {}).get("provisioningState") != "Deleting"

    def seconds_since_completed(self, res: dict[str, Any], region: str) -> float | None:
        """Sandbox seconds since `region` finished replicating; None when it has not (or there is no record)."""
        r = (res.get(PRIVATE, {}).get("replication") or {}).get(norm_region(region))
        if r is None:
            return None
        elapsed = self.app.clock.now_ts() - (r["start"] + r["seconds"])
        return elapsed if elapsed >= 0 else None

    def excluded_in(self, res: dict[str, Any], region: str) -> bool:
        pp = res.get("properties", {}).get("publishingProfile", {})
        if pp.get("excludeFromLatest"):
            return True
        for tr in pp.get("targetRegions") or []:
            if norm_region(tr.get("name")) == norm_region(region) and tr.get("excludeFromLatest"):
                return True
        return False

    def render(self, req: Request, res: dict[str, Any]) -> dict[str, Any]:
        out = public(res)
        if "replicationstatus" in req.query.get("$expand", "").lower():
            now = self.app.clock.now_ts()
            summary = []
            for tr in out["properties"].get("publishingProfile", {}).get("targetRegions", []):
                state, progress = self.region_state(res, norm_region(tr.get("name")), now)
                summary.append(
                    {
                        "region": tr.get("name"),
                        "state": state,
                        "progress": progress,
                        "details": "" if state != "Failed" else "Replication failed.",
                    }
                )
            states = {s["state"] for s in summary}
            agg = "Failed" if "Failed" in states else "InProgress" if states - {"Completed"} else "Completed"
            out["properties"]["replicationStatus"] = {"aggregatedState": agg, "summary": summary}
        return out


def find_latest(app: Any, definition_id: str, region: str) -> dict[str, Any] | None:
    spec: ReplicatedVersions = app.types["microsoft.compute/galleries/images/versions"]
    best = None
    for v in app.store.list_children(definition_id + "/versions"):
        if spec.excluded_in(v, region) or not spec.completed_in(v, region):
            continue
        if best is None or version_key(v["name"]) > version_key(best["name"]):
            best = v
    return best
