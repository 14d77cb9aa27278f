"""Microsoft.Compute gallery image versions: the resource's verbs (PUT, PATCH, DELETE with soft delete, seeding).

The create/update LRO ends only when every target region has finished replicating (compute_version_replication.py)
and fails with CrpPirReplicationJobsNotCompleted when a region failed. What a PUT or PATCH must satisfy (name,
immutable source and storage type, regions, replica counts) is in compute_version_rules.py.
"""

from __future__ import annotations

from typing import Any

from .. import soft_delete
from ..clock import iso, parse_iso
from ..errors import ArmError, bad_request, conflict
from ..routing import Request, Response, norm_region
from ..store import PRIVATE, private
from .base import deep_merge
from .compute_version_replication import ReplicatedVersions
from .compute_version_rules import (
    VERSION_NAME_RULE,
    VersionName,
    check_immutable,
    check_publishing,
    check_region_removal,
    check_source,
)


class Versions(ReplicatedVersions):
    type_name = "Microsoft.Compute/galleries/images/versions"
    segment = "capsOperations"
    name_re = VersionName()

    def invalid_name(self, name: str) -> ArmError:
        return bad_request(
            f"The gallery image version name '{name}' is invalid. {VERSION_NAME_RULE}",
            "InvalidParameter",
            "galleryImageVersionName",
        )

    # ---- verbs
    def put(self, req: Request, rid: str) -> Response:
        store = self.app.store
        if store.get(rid) is None:
            entry = soft_delete.find(store, rid, self.app.clock.now_ts())
            if entry is not None:
                raise soft_delete.name_taken(entry)
        return super().put(req, rid)

    def delete(self, req: Request, rid: str) -> Response:
        res = self.app.store.get(rid)
        if res is None:
            if req.flag("bypassSoftDelete") and soft_delete.purge(self.app.store, rid):
                return Response(200)
            return super().delete(req, rid)
        if req.flag("bypassSoftDelete"):
            private(res)["bypass_soft_delete"] = True
        return super().delete(req, rid)

    def remove(self, res: dict[str, Any], at: float) -> None:
        store = self.app.store
        if soft_delete.enabled_for(store, res["id"]) and not res.get(PRIVATE, {}).get("bypass_soft_delete"):
            soft_delete.keep(store, res, at)
        super().remove(res, at)

    def build(self, req, rid, body, existing):
        props = body.get("properties") or {}
        if existing is None and not props.get("storageProfile"):
            raise bad_request(
                "Required parameter 'storageProfile' is missing (null).", "InvalidParameter", "storageProfile"
            )
        if existing is not None:
            check_immutable(existing, props)
            check_region_removal(existing, props, self.regions(existing))
        elif not self.app.config.lenient_version_sources:
            check_source(self.app, rid, props.get("storageProfile") or {})
        check_publishing(props.get("publishingProfile") or {})
        res = super().build(req, rid, body, existing)
        if existing is not None:
            merged = dict(existing.get("properties", {}))
            merged.update(res["properties"])
            res["properties"] = merged
        self.normalize(res)
        return res

    def normalize(self, res: dict[str, Any]) -> None:
        pp = res["properties"].setdefault("publishingProfile", {})
        default_count = pp.get("replicaCount") or 1
        default_sku = pp.get("storageAccountType") or "Standard_LRS"
        trs = pp.get("targetRegions") or [{"name": res.get("location")}]
        pp["targetRegions"] = [
            {
                **t,
                "regionalReplicaCount": t.get("regionalReplicaCount") or default_count,
                "storageAccountType": t.get("storageAccountType") or default_sku,
            }
            for t in trs
        ]
        pp.setdefault("replicaCount", default_count)
        if "storageAccountStrategy" not in pp:
            pp.setdefault("storageAccountType", default_sku)
        sp = res["properties"].setdefault("storageProfile", {})
        sp.setdefault("osDiskImage", {"hostCaching": "ReadOnly", "sizeInGB": 127})
        pp.setdefault("excludeFromLatest", False)
        pp.setdefault("publishedDate", iso(self.app.clock.now_ts()))
        res["properties"].setdefault(
            "safetyProfile", {"allowDeletionOfReplicatedLocations": True, "reportedForPolicyViolation": False}
        )
        res["properties"].pop("replicationStatus", None)

    def patch(self, req, res, body):
        props = body.get("properties") or {}
        check_immutable(res, props)
        check_region_removal(res, props, self.regions(res))
        check_publishing(props.get("publishingProfile") or {})
        if "tags" in body:
            res["tags"] = body["tags"]
        trs = (props.get("publishingProfile") or {}).get("targetRegions")
        deep_merge(res["properties"], {k: v for k, v in props.items()})
        if trs is not None:
            res["properties"]["publishingProfile"]["targetRegions"] = trs
        self.normalize(res)

    def put_seconds(self, res, existing):
        now = self.app.clock.now_ts()
        return max(1.0, self.replicate(res, now) - now)

    def on_put_done(self, res, op, at):
        failed = [r for r in self.regions(res) if self.region_state(res, r, at)[0] == "Failed"]
        if failed and not op.get("fail"):
            regions = ", ".join(f"{{region:{r}, detail:Failed with internal server error.}}" for r in failed)
            op["fail"] = {
                "code": "CrpPirReplicationJobsNotCompleted",
                "message": "Gallery replication jobs failed in one or more regions. The failing regions' details "
                f"are as follows: '{regions}'. If retry does not work, then please do an update by removing the "
                "failed regions and update again by adding them back.",
            }
        return None

    def delete_seconds(self, res):
        return self.app.config.version_delete_seconds

    def vms_using(self, version_id: str, provisioning_only: bool = False) -> list[str]:
        out = []
        lid = version_id.lower()
        for vm in self.app.store.list_type(version_id.split("/")[2], "Microsoft.Compute/virtualMachines"):
            if vm.get(PRIVATE, {}).get("version", "").lower() != lid:
                continue
            if provisioning_only and vm["properties"].get("provisioningState") != "Creating":
                continue
            out.append(vm["id"])
        return out

    def check_delete(self, req, res):
        props = res.get("properties", {})
        eol = props.get("publishingProfile", {}).get("endOfLifeDate")
        blocked = (props.get("safetyProfile") or {}).get("blockDeletionBeforeEndOfLife")
        if blocked and eol and parse_iso(eol) > self.app.clock.now_ts():
            raise conflict(
                "OperationNotAllowed",
                f"The gallery image version cannot be deleted before its "
                f"end of life date {eol} (safetyProfile.blockDeletionBeforeEndOfLife is true).",
            )
        if self.vms_using(res["id"], provisioning_only=True):
            raise conflict(
                "OperationNotAllowed",
                f"Operation 'Delete' is not allowed on Image '{res['id']}' "
                "since Virtual Machines are being provisioned using the Image.",
            )
        if self.app.config.strict_version_delete and self.vms_using(res["id"]):
            raise conflict(
                "OperationNotAllowed", "Strict mode: virtual machines still reference this version."
            )

    def on_delete(self, res, at):
        definition = self.app.store.get(res["id"].rsplit("/", 2)[0])
        if definition is not None and self.app.config.ghost_child_seconds > 0:
            private(definition)["ghost_until"] = at + self.app.config.ghost_child_seconds
        users = self.vms_using(res["id"])
        # A tag naming the version is a reference too (a host pool's pin, whoever wrote it).
        lid = res["id"].lower()
        tagged = [
            r["id"]
            for r in self.app.store.all()
            if any(str(v).lower() == lid for v in (r.get("tags") or {}).values())
        ]
        if users or tagged:
            self.app.audit.version_deleted_in_use(at, res["id"], users, tagged)

    def seed(self, res: dict[str, Any], now: float) -> None:
        """Seeded versions: honour a given replicationStatus, otherwise treat every region as replicated."""
        status = res.get("properties", {}).pop("replicationStatus", None)
        self.normalize(res)
        if not status and PRIVATE not in res and res["properties"].get("provisioningState") == "Succeeded":
            # A Succeeded version is replicated in every target region: record that, so its first PATCH
            # (a tag, a deprecation) does not start replicating every region again.
            rep = private(res).setdefault("replication", {})
            for tr in res["properties"]["publishingProfile"]["targetRegions"]:
                region, secs = norm_region(tr.get("name")), self.region_seconds(norm_region(tr.get("name")))
                rep[region] = {"start": now - secs, "seconds": secs, "fail": False, "name": tr.get("name")}
        elif status and PRIVATE not in res:
            rep = {}
            for s in status.get("summary") or []:
                region = norm_region(s.get("region"))
                secs = self.region_seconds(region)
                done = s.get("state") in ("Completed", "Failed")
                start = now - secs if done else now - secs * (s.get("progress") or 0) / 100
                rep[region] = {
                    "start": start,
                    "seconds": secs,
                    "fail": s.get("state") == "Failed",
                    "name": s.get("region"),
                }
            private(res)["replication"] = rep


def install(app: Any) -> None:
    app.register(Versions(app))
