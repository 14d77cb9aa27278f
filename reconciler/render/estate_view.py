"""The estate view-model: one dict that `reconcile status` (text, JSON) and the dashboard (HTML) render.

Pure: built from what the CLI or the controller already gathered (per-pool status dicts, the conditions, the
observed snapshot, the plan's rollout previews, the controller's /status record), so every surface shows the
same data. Nothing secret enters it: host pools are summarised from typed observations, which never hold a
registration token, and no raw ARM payload is copied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from reconciler.model.acceptance import ACCEPTANCE_FAILURE_TAG, acceptance_of
from reconciler.model.conditions import ConditionSet
from reconciler.model.observed import Observed, norm_id
from reconciler.model.observed_resources import leaf_name, parent_id
from reconciler.model.rollout import RolloutPreview
from reconciler.render.estate_rollout import capacity_sample, rollout
from reconciler.render.status import conditions_for, conditions_json

# Written by reconciler.planner.triggers on the templates and versions it builds (render may not import the
# planner, so the names are repeated here).
TRIGGER_TAG = "avd-reconciler-trigger"
SOURCE_TAG = "avd-reconciler-source"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _acceptance(tags: Mapping[str, str]) -> dict[str, Any] | None:
    verdict = acceptance_of(dict(tags))
    if verdict is None:
        return None
    out = {"state": verdict.state.value, "time": verdict.at, "host": verdict.host, "reason": verdict.reason}
    if tags.get(ACCEPTANCE_FAILURE_TAG):
        out["failure"] = tags[ACCEPTANCE_FAILURE_TAG]
    return out


def _hosts_by_version(observed: Observed, pool_names: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """version id → pool name → session hosts created from it."""
    out: dict[str, Counter] = {}
    for host in observed.session_hosts.values():
        pool = pool_names.get(norm_id(host.host_pool_id))
        if pool is None or not host.image_version_id:
            continue
        out.setdefault(norm_id(host.image_version_id), Counter())[pool] += 1
    return {v: dict(sorted(c.items())) for v, c in out.items()}


def estate_tree(observed: Observed, pool_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Galleries → definitions → versions, each version with its per-region replication, end of life,
    excluded-from-latest, acceptance result and the hosts per pool running it."""
    hosts = _hosts_by_version(observed, pool_names)
    versions: dict[str, list] = {}
    for v in observed.image_versions.values():
        versions.setdefault(parent_id(v.id), []).append(v)
    definitions: dict[str, list] = {}
    for d in observed.image_definitions.values():
        definitions.setdefault(norm_id(d.gallery_id) or parent_id(d.id), []).append(d)
    galleries = []
    for g in sorted(observed.galleries.values(), key=lambda g: g.name.lower()):
        defs = []
        for d in sorted(definitions.get(g.key, ()), key=lambda d: d.name.lower()):
            rows = []
            for v in sorted(versions.get(d.key, ()), key=lambda v: _version_order(v.name)):
                rows.append(
                    {
                        "name": v.name,
                        "id": v.key,
                        "state": v.provisioning_state,
                        "regions": [
                            {
                                "name": r.name,
                                "replicas": r.regional_replica_count,
                                "state": v.replication_state_in(r.name),
                                "exclude_from_latest": bool(r.exclude_from_latest),
                            }
                            for r in v.target_regions
                        ],
                        "end_of_life": _iso(v.end_of_life_date),
                        "exclude_from_latest": v.exclude_from_latest,
                        "published": _iso(v.published_date),
                        "acceptance": _acceptance(v.tags),
                        "hosts": hosts.get(v.key, {}),
                    }
                )
            defs.append(
                {
                    "name": d.name,
                    "id": d.key,
                    "os": d.os_type,
                    "end_of_life": _iso(d.end_of_life_date),
                    "versions": rows,
                }
            )
        galleries.append({"name": g.name, "id": g.key, "location": g.location, "definitions": defs})
    return galleries


def _version_order(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in name.split("."))


def _duration(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _resolved_source(source: Mapping[str, Any], tags: Mapping[str, str]) -> str:
    if tags.get(SOURCE_TAG):
        return tags[SOURCE_TAG]
    if source.get("publisher"):
        parts = [source.get(k, "") for k in ("publisher", "offer", "sku", "version")]
        return "/".join(str(p) for p in parts)
    return leaf_name(source.get("imageVersionId") or source.get("imageId") or "") or "—"


def builds(observed: Observed, failed: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Recent Image Builder runs, newest first: duration, trigger, resolved source, result, and the
    diagnostic excerpt of a failed run (the cause apply recorded, else Image Builder's message)."""
    causes = {f.get("template"): f for f in failed}
    out = []
    for t in observed.image_templates.values():
        failure = causes.get(t.name)
        result = t.last_run_state or (
            "not run" if t.provisioning_state == "Succeeded" else t.provisioning_state
        )
        excerpt = None
        if t.last_run_failed or t.provisioning_error:
            excerpt = (failure or {}).get("cause") or t.last_run_message or t.provisioning_error
            if failure and failure.get("message") and failure.get("message") != excerpt:
                excerpt = f"{excerpt}: {failure['message']}" if excerpt else failure["message"]
        out.append(
            {
                "template": t.name,
                "build": (failure or {}).get("build") or t.name,
                "started": _iso(t.last_run_start),
                "finished": _iso(t.last_run_end),
                "duration_s": _duration(t.last_run_start, t.last_run_end),
                "trigger": t.tags.get(TRIGGER_TAG) or "—",
                "source": _resolved_source(t.source, t.tags),
                "result": result or "unknown",
                "excerpt": (excerpt or "")[:600] or None,
                "runs_again": (failure or {}).get("next"),
            }
        )
    out.sort(key=lambda b: b["started"] or "", reverse=True)
    return out


def _rings(pools: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Host pools as a flow of rings: the first ring gates nothing before it, each next ring waits for the
    one it names in `gate.after` (validation → production)."""
    after = {p["pool"]: p.get("gate_after") for p in pools}
    depth: dict[str, int] = {}

    def level(name: str, seen: frozenset = frozenset()) -> int:
        if name in depth:
            return depth[name]
        parent = after.get(name)
        d = 0 if not parent or parent not in after or parent in seen else level(parent, seen | {name}) + 1
        depth[name] = d
        return d

    for name in after:
        level(name)
    rings: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in after:
        rings[depth[name]].append(name)
    return rings


def pending(pools: Sequence[Mapping[str, Any]], estate: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What happens next and when: each pool's next check (soak until, window opens), and versions still
    replicating. Soonest first; a wait without a time (a pool waiting for users) last."""
    out = []
    for p in pools:
        if not p.get("exists"):
            out.append({"what": p["pool"], "kind": "host-pool", "why": "does not exist yet", "at": None})
            continue
        if p.get("next_check"):
            out.append(
                {
                    "what": p["pool"],
                    "kind": "host-pool",
                    "why": p["next_check"]["why"],
                    "at": p["next_check"]["at"],
                    "next": ", ".join(p.get("next_step") or ()) or "check",
                }
            )
        elif not p.get("window_open") and p.get("next_window") and p.get("state") != "converged":
            out.append(
                {"what": p["pool"], "kind": "host-pool", "why": "maintenance window", "at": p["next_window"]}
            )
    for g in estate:
        for d in g["definitions"]:
            for v in d["versions"]:
                waiting = [r["name"] for r in v["regions"] if r["state"] not in ("Completed", "Absent")]
                if waiting:
                    out.append(
                        {
                            "what": f"{g['name']}/{d['name']}/{v['name']}",
                            "kind": "image-version",
                            "why": "replication to " + ", ".join(waiting),
                            "at": None,
                        }
                    )
    return sorted(out, key=lambda w: (w["at"] is None, w["at"] or ""))


def controller_summary(status: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The controller's record, less anything not for a page (its source URL may carry credentials)."""
    if not status:
        return None
    last = status.get("last_cycle") or {}
    desired = status.get("desired") or {}
    return {
        "identity": status.get("identity"),
        "role": status.get("role"),
        "leader": status.get("leader"),
        "dry_run": status.get("dry_run"),
        "suspended": status.get("suspended"),
        "cycles": status.get("cycles"),
        "consecutive_failures": status.get("consecutive_failures"),
        "last_success_at": status.get("last_success_at"),
        "next_cycle_in_s": status.get("next_cycle_in_s"),
        "latest_commit": desired.get("latest_commit"),
        "last_good_commit": desired.get("last_good_commit"),
        "invalid": desired.get("invalid"),
        "source_error": desired.get("source_error"),
        "last_cycle": {
            k: last.get(k) for k in ("finished_at", "commit", "ok", "error", "duration_s", "drift")
        }
        if last
        else None,
    }


def estate_view(
    *,
    pools: Sequence[dict[str, Any]],
    conditions: ConditionSet,
    observed: Observed | None = None,
    rollouts: Sequence[RolloutPreview] = (),
    failed_builds: Sequence[dict[str, Any]] = (),
    controller: Mapping[str, Any] | None = None,
    capacity_history: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    previews = {r.pool: r for r in rollouts}
    names = {norm_id(p["id"]): p["pool"] for p in pools if p.get("id")}
    tree = estate_tree(observed, names) if observed is not None else []
    view_pools = []
    for p in pools:
        pool = dict(p)
        obj = conditions_for(conditions, "host-pool", p["pool"])
        pool["conditions"] = obj.to_json()["conditions"] if obj else []
        if p.get("exists"):
            pool["rollout"] = rollout(p, previews.get(p["pool"]))
            pool["capacity"] = [
                {"at": s["at"], "available": s["available"]}
                for s in capacity_history
                if s["pool"] == p["pool"]
            ]
        view_pools.append(pool)
    return {
        "observed_at": _iso(observed.observed_at) if observed is not None else None,
        "pools": view_pools,
        "rings": _rings(pools),
        "estate": tree,
        "builds": builds(observed, failed_builds) if observed is not None else [],
        "failed_builds": list(failed_builds),
        "pending": pending(pools, tree),
        "controller": controller_summary(controller),
        "conditions": conditions_json(conditions),
    }


__all__ = ["builds", "capacity_sample", "controller_summary", "estate_tree", "estate_view", "pending"]
