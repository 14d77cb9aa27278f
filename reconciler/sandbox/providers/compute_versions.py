"""Microsoft.Compute gallery image versions.

Versions replicate per target region on the sandbox clock (config.replication_seconds, per-region overrides);
the create/update LRO ends only when every region has finished, and fails with CrpPirReplicationJobsNotCompleted
when a region failed. `$expand=ReplicationStatus` shows per-region state and progress. The storage source and
storage types are immutable (409 PropertyChangeNotAllowed).
"""

from __future__ import annotations

import re
from typing import Any

from .. import soft_delete
from ..clock import iso, parse_iso
from ..errors import ArmError, bad_request, conflict, not_found
from ..routing import Request, Response, norm_region
from ..store import PRIVATE, private, public
from .base import ResourceType, deep_merge, norm_value
from .sources import absent, vm_source_problem

VERSION_RE = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,10}$")
INT32_MAX = 2**31 - 1
# The REST spec's galleryImageVersionName: "Needs to follow semantic version name pattern: The allowed characters
# are digit and period. Digits must be within the range of a 32-bit integer. Format: <MajorVersion>.<MinorVersion>.
# <Patch>" (specification/compute/.../GalleryRP/.../galleryImageVersion.json; the Azure CLI's help repeats it).
VERSION_NAME_RULE = (
    "Needs to follow semantic version name pattern: The allowed characters are digit and period. Digits must be "
    "within the range of a 32-bit integer. Format: <MajorVersion>.<MinorVersion>.<Patch>"
)
REPLICA_COUNT_RANGE = (1, 100)  # [inf] packer-plugin-azure#337: "Replica count must be between 1 and 100"


class VersionName:
    """`name_re` for versions: the pattern, and each part a 32-bit signed integer."""

    def match(self, name: str) -> bool:
        return bool(VERSION_RE.match(name)) and all(int(p) <= INT32_MAX for p in name.split("."))


def source_ids(sp: dict[str, Any]) -> list[str]:
    """Every resource a version's storageProfile is made from: the image, version or VM, and disk snapshots."""
    source = sp.get("source") or {}
    disks = [sp.get("osDiskImage") or {}, *(sp.get("dataDiskImages") or [])]
    ids = [source.get("id"), source.get("virtualMachineId")]
    ids += [(d.get("source") or {}).get("id") for d in disks]
    return [i for i in ids if i]


def version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in name.split("."))
    except ValueError:
        return (0,)


class Versions(ResourceType):
    type_name = "Microsoft.Compute/galleries/images/versions"
    segment = "capsOperations"
    name_re = VersionName()

    def invalid_name(self, name: str) -> ArmError:
        return bad_request(
            f"The gallery image version name '{name}' is invalid. {VERSION_NAME_RULE}",
            "InvalidParameter",
            "galleryImageVersionName",
        )

    # ---- replication model
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
            self.check_immutable(existing, props)
            self.check_region_removal(existing, props)
        elif not self.app.config.lenient_version_sources:
            self.check_source(rid, props.get("storageProfile") or {})
        self.check_publishing(props.get("publishingProfile") or {})
        res = super().build(req, rid, body, existing)
        if existing is not None:
            merged = dict(existing.get("properties", {}))
            merged.update(res["properties"])
            res["properties"] = merged
        self.normalize(res)
        return res

    def check_immutable(self, existing: dict[str, Any], props: dict[str, Any]) -> None:
        old_sp = existing.get("properties", {}).get("storageProfile") or {}
        new_sp = props.get("storageProfile")
        if new_sp is not None:
            for key in ("source", "osDiskImage"):
                old_src = (
                    (old_sp.get(key) or {}).get("id")
                    if key == "source"
                    else (old_sp.get(key) or {}).get("source")
                )
                new_src = (
                    (new_sp.get(key) or {}).get("id")
                    if key == "source"
                    else (new_sp.get(key) or {}).get("source")
                )
                if new_src and old_src and norm_value(new_src) != norm_value(old_src):
                    raise conflict(
                        "PropertyChangeNotAllowed",
                        f"Changing property 'galleryImageVersion.properties.storageProfile.{key}' is not allowed.",
                        f"galleryImageVersion.properties.storageProfile.{key}",
                    )
        old_pp = existing.get("properties", {}).get("publishingProfile") or {}
        new_pp = props.get("publishingProfile") or {}
        if (
            new_pp.get("storageAccountType")
            and old_pp.get("storageAccountType")
            and (new_pp["storageAccountType"].lower() != old_pp["storageAccountType"].lower())
        ):
            raise conflict(
                "PropertyChangeNotAllowed",
                "Changing property 'galleryImageVersion.properties."
                "publishingProfile.storageAccountType' is not allowed.",
            )

    def check_publishing(self, pp: dict[str, Any]) -> None:
        """Each region once, and every replica count in range: Azure refuses both (400 InvalidParameter)
        instead of deduplicating or defaulting as the sandbox once did."""
        seen: dict[str, int] = {}
        low, high = REPLICA_COUNT_RANGE
        if "replicaCount" in pp and pp["replicaCount"] is not None and not low <= pp["replicaCount"] <= high:
            raise bad_request(
                f"The replica count {pp['replicaCount']} is invalid. Replica count must be between {low} and {high}.",
                "InvalidParameter",
                "galleryImageVersion.properties.publishingProfile.replicaCount",
            )
        for i, tr in enumerate(pp.get("targetRegions") or []):
            region = norm_region(tr.get("name"))
            if region in seen:
                raise bad_request(
                    f"The target region '{tr.get('name')}' is specified more than once in the request "
                    f"(targetRegions[{seen[region]}] and targetRegions[{i}]).",
                    "InvalidParameter",
                    f"galleryImageVersion.properties.publishingProfile.targetRegions[{i}].name",
                )
            seen[region] = i
            count = tr.get("regionalReplicaCount")
            if count is not None and not low <= count <= high:
                raise bad_request(
                    f"The regional replica count {count} for region '{tr.get('name')}' is invalid. Replica count "
                    f"must be between {low} and {high}.",
                    "InvalidParameter",
                    f"galleryImageVersion.properties.publishingProfile.targetRegions[{i}].regionalReplicaCount",
                )

    def check_source(self, rid: str, sp: dict[str, Any]) -> None:
        """The image the version is made from must exist when it is created: Compute reads it to replicate, so
        a create naming a deleted image fails at once (404 ResourceNotFound on the source, ARM's text) instead of
        starting a replication. Only on create: Azure keeps a version whose source was deleted afterwards.
        Shape and sources: tests/fixtures/refusals.json "VersionSourceNotFound"."""
        for sid in source_ids(sp):
            if absent(self.app, sid):
                raise not_found(sid)
        vm_id = (sp.get("source") or {}).get("virtualMachineId")
        problem = vm_id and vm_source_problem(self.app, rid, vm_id)
        if problem:
            raise problem

    def check_region_removal(self, existing: dict[str, Any], props: dict[str, Any]) -> None:
        safety = existing.get("properties", {}).get("safetyProfile") or {}
        new_trs = (props.get("publishingProfile") or {}).get("targetRegions")
        if new_trs is None or safety.get("allowDeletionOfReplicatedLocations", True):
            return
        removed = set(self.regions(existing)) - {norm_region(t.get("name")) for t in new_trs}
        if removed:
            raise conflict(
                "OperationNotAllowed",
                f"Removing replicated regions {sorted(removed)} is not allowed "
                "because safetyProfile.allowDeletionOfReplicatedLocations is false.",
            )

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
        self.check_immutable(res, props)
        self.check_region_removal(res, props)
        self.check_publishing(props.get("publishingProfile") or {})
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


def find_latest(app: Any, definition_id: str, region: str) -> dict[str, Any] | None:
    spec: Versions = app.types["microsoft.compute/galleries/images/versions"]
    best = None
    for v in app.store.list_children(definition_id + "/versions"):
        if spec.excluded_in(v, region) or not spec.completed_in(v, region):
            continue
        if best is None or version_key(v["name"]) > version_key(best["name"]):
            best = v
    return best


def install(app: Any) -> None:
    app.register(Versions(app))
