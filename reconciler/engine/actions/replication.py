"""`replicate`: make a version's target regions match desired, retrying failed regions as Azure advises.

Each call re-reads the version with `$expand=ReplicationStatus` and takes the next step from what it sees:
1. a PATCH still running → wait at the operation status's Retry-After (only the status is read meanwhile);
2. a region Failed → remove it with a PATCH (first allowing region removal in the safety profile if it is
   off, restored afterwards), at most `env.max_region_retries` times per region per run;
3. regions, replica counts or excludeFromLatest differ from the plan's → one PATCH of `targetRegions`;
4. a region still replicating with no PATCH of ours running → wait (the version is the one read per check,
   spaced by how long replication has run);
5. every region Completed → done.
The per-region state goes to the recap.
"""

from __future__ import annotations

from reconciler.azure.writes import HttpResponseError
from reconciler.engine.actions import register
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.actions.steps import http_failure
from reconciler.engine.outcome import Done, Failed, Outcome
from reconciler.model.observed import normalize_region
from reconciler.model.plan import Action, Change


def _shape(regions) -> dict[str, tuple]:
    return {
        normalize_region(r["name"]): (r.get("regionalReplicaCount"), bool(r.get("excludeFromLatest")))
        for r in regions
    }


def _observed_shape(version) -> dict[str, tuple]:
    default = version.replica_count or 1
    return {
        r.name: (r.regional_replica_count or default, bool(r.exclude_from_latest))
        for r in version.target_regions
    }


def _start_patch(env: ActionEnv, change: Change, body: dict, why: str) -> Outcome:
    mem = env.memory(change.key)
    token, status = env.writer.start("patch", change.resource_id, body)
    mem["wrote"] = True
    if token is not None:
        env.ledger.record(change.resource_id, "patch", token, detail={"why": why})
    mem["since"] = env.clock()
    return env.wait(None, why, status.retry_after)


@register("image-version", Action.REPLICATE)
def replicate(change: Change, env: ActionEnv, ctx) -> Outcome:
    what = f"replicate image version {change.name}"
    mem = env.memory(change.key)
    wanted = (((change.after or {}).get("properties") or {}).get("publishingProfile") or {}).get(
        "targetRegions"
    )
    wanted = wanted or []
    try:
        pending = env.ledger.lookup(change.resource_id, "patch")
        if pending is not None:
            status = env.writer.check("patch", change.resource_id, pending.token)
            if not status.done:  # the version is read once the PATCH ends, not beside every check
                return env.wait(pending.started_at, "updating target regions", status.retry_after)
            env.ledger.forget(change.resource_id, "patch")
        version = env.reader.version(change.resource_id)
        if version is None:
            return Failed(f"{what}: the version no longer exists", error_code="ResourceNotFound")
        env.record_replication(version)
        failed = sorted(r.region for r in version.replication or () if r.state == "Failed")
        retries: dict = mem.setdefault("retries", {})
        home = normalize_region(version.location)
        if home in failed:  # the gallery's own region cannot be removed; only a person can look into it
            return Failed(
                f"{what}: replication to the gallery's home region {home} failed",
                error_code="CrpPirReplicationJobsNotCompleted",
            )
        if failed:
            exhausted = [r for r in failed if retries.get(r, 0) >= env.max_region_retries]
            if exhausted:
                return Failed(
                    f"{what}: replication to {', '.join(exhausted)} failed again after "
                    f"{env.max_region_retries} remove-and-re-add retries",
                    error_code="CrpPirReplicationJobsNotCompleted",
                )
            if not version.allow_deletion_of_replicated_locations:
                mem["restore_safety"] = True
                body = {"properties": {"safetyProfile": {"allowDeletionOfReplicatedLocations": True}}}
                return _start_patch(env, change, body, "allowing removal of the failed region")
            for r in failed:
                retries[r] = retries.get(r, 0) + 1
            keep = [
                {
                    "name": r.name,
                    "regionalReplicaCount": r.regional_replica_count,
                    "storageAccountType": r.storage_account_type,
                    "excludeFromLatest": bool(r.exclude_from_latest),
                }
                for r in version.target_regions
                if r.name not in failed
            ]
            body = {"properties": {"publishingProfile": {"targetRegions": keep}}}
            return _start_patch(env, change, body, f"removing failed region(s) {', '.join(failed)}")
        if _observed_shape(version) != _shape(wanted) or mem.get("restore_safety"):
            body: dict = {"properties": {"publishingProfile": {"targetRegions": wanted}}}
            if mem.pop("restore_safety", False):
                body["properties"]["safetyProfile"] = {"allowDeletionOfReplicatedLocations": False}
            return _start_patch(env, change, body, "updating target regions")
        busy = [r for r in version.region_names if version.replication_state_in(r) != "Completed"]
        if busy:
            text = ", ".join(f"{r}={version.replication_state_in(r)}" for r in sorted(busy))
            return env.wait(mem.get("since"), f"replicating: {text}")
    except HttpResponseError as exc:
        return http_failure(what, exc)
    regions = ", ".join(sorted(version.region_names))
    return Done(mem["wrote"], f"image version {change.name} replicated to {regions}")
