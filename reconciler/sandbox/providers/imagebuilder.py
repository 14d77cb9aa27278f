"""Microsoft.VirtualMachineImages imageTemplates (+ run, cancel, runOutputs).

Templates are immutable apart from tags, identity, vmProfile and distribute (PATCH): a PUT with other content is
409 Conflict. `run` (202 + Azure-AsyncOperation) builds for `build_seconds` on the sandbox clock (runSubState walks
Queued -> Building -> Customizing -> Optimizing -> Validating -> Distributing), then creates the gallery version
named by each SharedImage distribute target (definition id -> a generated version number) and replicates it;
the run ends when replication does, writing `runOutputs/{runOutputName}` with the version as artifactId.

With a Blob service (`blob_connection_string`), a run also gets Image Builder's staging: the resource group
`IT_<rg>_<template>_<guid>` (or `stagingResourceGroup`), reported as `exactStagingResourceGroup`, holding a
storage account; a failed run leaves its `packerlogs/<run guid>/customization.log` there (packer_log.py) and
names it in `lastRunStatus.message` (the https URL) and in the operation's error (the ARM path). A fault rule
of kind "build" picks how the run fails (`cause`: sysprep-appx, exit-code, checksum, …). Without a Blob
service nothing of this exists, as before.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from ..clock import iso
from ..errors import ArmError, bad_request, conflict
from ..routing import Request, Response
from ..store import PRIVATE, json_copy, private, public
from . import storage
from .base import ResourceType
from .landing import identity_problem, missing_identity
from .network import subnet_problem
from .packer_log import failure_log, status_messages
from .sources import template_source_problem
from .storage import BlobWriter, create_account

READ_ONLY = ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")
PATCHABLE = ("vmProfile", "distribute")
PHASES = (
    (0.05, "Queued"),
    (0.2, "Building"),
    (0.8, "Customizing"),
    (0.85, "Optimizing"),
    (1.0, "Validating"),
)


def content_of(body: dict[str, Any]) -> str:
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in READ_ONLY}
    return json.dumps(
        {"location": (body.get("location") or "").replace(" ", "").lower(), "properties": props},
        sort_keys=True,
    )


class ImageTemplates(ResourceType):
    type_name = "Microsoft.VirtualMachineImages/imageTemplates"
    actions = {"run": "run", "cancel": "cancel"}

    def build(self, req, rid, body, existing):
        props = body.get("properties") or {}
        if existing is not None:
            if content_of(body) != existing.get(PRIVATE, {}).get("content"):
                raise conflict(
                    "Conflict",
                    "Update/Upgrade of image templates is currently not supported. Please change the name of the "
                    "template you are submitting. If you have previously tried to submit a template and it failed "
                    "to provision, you must delete it first and then resubmit.",
                )
            res = existing
            if "tags" in body:
                res["tags"] = body["tags"]
            return res
        for field in ("source", "distribute"):
            if not props.get(field):
                raise bad_request(f"Missing field '{field}'.", "InvalidParameter", f"properties.{field}")
        res = super().build(req, rid, json_copy(body), None)
        self.check_references(res)
        private(res)["content"] = content_of(body)
        res["properties"] = {k: v for k, v in res["properties"].items() if k not in READ_ONLY}
        res["properties"].setdefault("buildTimeoutInMinutes", 0)
        for step in res["properties"].get("customize") or []:
            if (step.get("type") or "").lower() == "powershell":
                step.setdefault("runElevated", False)
                step.setdefault("runAsSystem", False)
        return res

    def check_references(self, res: dict[str, Any]) -> None:
        """Like Azure: the template's and the build VM's user-assigned identities and the build subnet must exist
        (the subnet in the template's region). A staging resource group that exists must be empty; one that does not
        exist is created by Image Builder (and removed with the template). Builds place nothing in it here, so two
        templates may share one (Azure's build VMs would make it non-empty while they run)."""
        props, rid = res["properties"], res["id"]
        problem = identity_problem(self.app, res, rid)
        vm = props.get("vmProfile") or {}
        problem = problem or missing_identity(self.app, list(vm.get("userAssignedIdentities") or []), rid)
        if not self.app.config.lenient_version_sources:
            problem = problem or template_source_problem(self.app, props.get("source") or {})
        for key in ("subnetId", "containerInstanceSubnetId"):
            subnet = (vm.get("vnetConfig") or {}).get(key)
            if subnet and problem is None:
                problem = subnet_problem(self.app, subnet, res["location"], rid)
        if problem is not None:
            raise problem
        staging = props.get("stagingResourceGroup")
        if not staging:
            return
        group = self.app.store.get(staging)
        if group is None:
            self.app.types["microsoft.resources/resourcegroups"].ensure(staging, None, res["location"])
            private(res)["created_staging"] = staging
            return
        if self.app.store.list_rg(staging):
            raise bad_request(
                f"The staging resource group '{staging}' is not empty. Specify an empty resource group in the "
                "template's region, or none.",
                "InvalidParameter",
                "properties.stagingResourceGroup",
            )

    def on_delete(self, res, at):
        # Deleting a template removes what Image Builder put in its staging group (logs included).
        account = res.get(PRIVATE, {}).get("staging_account")
        if account and self.app.store.get(account) is not None:
            self.app.store.delete(account)
        staging = res.get(PRIVATE, {}).get("created_staging")
        if staging and self.app.store.get(staging) is not None and not self.app.store.list_rg(staging):
            self.app.store.delete(staging)

    def patch(self, req, res, body):
        props = body.get("properties") or {}
        bad = [k for k in props if k not in PATCHABLE]
        if bad:
            raise bad_request(f"Only tags, identity, vmProfile and distribute can be updated, not {bad}.")
        if "tags" in body:
            res["tags"] = body["tags"]
        if "identity" in body:
            res["identity"] = body["identity"]
        res["properties"].update(props)
        private(res)["content"] = content_of(res)

    def put_seconds(self, res, existing):
        return self.app.config.template_create_seconds

    def running(self, res: dict[str, Any]) -> bool:
        return (res["properties"].get("lastRunStatus") or {}).get("runState") in ("Running", "Canceling")

    def check_delete(self, req, res):
        state = res["properties"].get("provisioningState", "")
        if self.running(res) or state in ("Creating", "Updating"):
            run_state = (res["properties"].get("lastRunStatus") or {}).get("runState", "").lower()
            raise conflict(
                "OperationNotAllowed",
                f"Operation 'Microsoft.VirtualMachineImages/imageTemplates/delete' is not allowed in "
                f"provisioningState: '{state.lower()}', runState: '{run_state}'",
            )

    def delete(self, req, rid):
        resp = super().delete(req, rid)
        resp.headers.pop("Azure-AsyncOperation", None)
        return resp

    def render(self, req, res):
        out = public(res)
        run = res.get(PRIVATE, {}).get("run")
        status = out["properties"].get("lastRunStatus")
        if run and status and status.get("runState") == "Running":
            span = max(run["build_end"] - run["start"], 1e-9)
            frac = (self.app.clock.now_ts() - run["start"]) / span
            status["runSubState"] = next((name for limit, name in PHASES if frac < limit), "Distributing")
        return out

    def _get(self, rid: str) -> dict[str, Any]:
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        return res

    # ---- run / cancel
    def run(self, req: Request, rid: str) -> Response:
        res = self._get(rid)
        if self.running(res):
            raise conflict("Conflict", "A build is already running for this image template.")
        if res["properties"].get("provisioningState") != "Succeeded":
            raise conflict(
                "OperationNotAllowed", "The image template is not in a runnable provisioning state."
            )
        now = self.app.clock.now_ts()
        share = self.app.config.build_failure_share
        fail = self.app.lro_fault(req)
        logs = bool(self.app.config.blob_connection_string)
        cause = self.app.faults.match(req.method, req.path, kind="build") if fail is None else None
        if fail is None and cause is None and share and self.app.rng.random() < share:
            if logs:
                cause = {"cause": "exit-code", "exit_code": 1}
            else:
                fail = {
                    "code": "ImageBuildFailed",
                    "message": "Customizer 'PowerShell' failed with exit code 1.",
                }
        if cause is not None and not logs:
            fail = {"code": "ImageBuildFailed", "message": f"The build failed ({cause['cause']})."}
            cause = None
        run: dict[str, Any] = {"start": now, "versions": []}
        seconds = self.app.config.build_seconds
        if logs:
            self.stage(res, run)
        if cause is not None:
            seconds = self.failure_seconds(res, cause["cause"])
            run["cause"], fail = dict(cause), {"code": "PackerBuildFailed", "message": ""}
        op = self.app.ops.start(
            req,
            kind="imagetemplate:run",
            resource_id=res["id"],
            ns="Microsoft.VirtualMachineImages",
            location=res["location"],
            seconds=seconds,
            fail=fail,
        )
        if cause is not None:
            run["status_message"], op["fail"] = self.failure_messages(res, run, op["id"])
        run.update({"op": op["id"], "build_end": op["due"]})
        private(res)["run"] = run
        res["properties"]["lastRunStatus"] = {
            "startTime": iso(now),
            "endTime": None,
            "runState": "Running",
            "runSubState": "Queued",
            "message": "",
        }
        return Response(
            202, None, {"Azure-AsyncOperation": self.app.ops.initial_headers(req, op)["Azure-AsyncOperation"]}
        )

    def run_progress(self, op: dict[str, Any], at: float) -> float | None:
        res = self.app.store.get(op["resource_id"])
        if res is None:
            op["fail"] = op.get("fail") or {
                "code": "ResourceNotFound",
                "message": "The template was deleted.",
            }
            return None
        run = private(res)["run"]
        status = res["properties"]["lastRunStatus"]
        if op.get("fail"):
            if run.get("cause"):
                self.write_log(res, run, op["id"], at)
            status.update(
                {
                    "runState": "Failed",
                    "runSubState": None,
                    "endTime": iso(at),
                    "message": run.get("status_message") or op["fail"]["message"],
                }
            )
            return None
        versions = self.app.types["microsoft.compute/galleries/images/versions"]
        if not run["versions"]:
            end = at
            for target in res["properties"].get("distribute") or []:
                if (target.get("type") or "").lower() != "sharedimage":
                    continue
                version = self.make_version(res, target, at)
                if isinstance(version, str):
                    op["fail"] = {"code": "BadSharedImageDistribute", "message": version}
                    status.update({"runState": "Failed", "endTime": iso(at), "message": version})
                    return None
                run["versions"].append([version["id"], target.get("runOutputName") or "output"])
                end = max(end, versions.replicate(version, at))
            if end > at:
                status["runSubState"] = "Distributing"
                return end
        for version_id, output in run["versions"]:
            version = self.app.store.get(version_id)
            if version is None:
                continue
            versions.on_put_done(version, op, at)
            version["properties"]["provisioningState"] = "Failed" if op.get("fail") else "Succeeded"
            if not op.get("fail"):
                out_id = f"{res['id']}/runOutputs/{output}"
                self.app.store.put(
                    {
                        "id": out_id,
                        "name": output,
                        "type": "Microsoft.VirtualMachineImages/imageTemplates/runOutputs",
                        "properties": {"artifactId": version_id, "provisioningState": "Succeeded"},
                    }
                )
        failed = op.get("fail")
        status.update(
            {
                "runState": "Failed" if failed else "Succeeded",
                "runSubState": None,
                "endTime": iso(at),
                "message": failed["message"] if failed else "",
            }
        )
        return None

    # ---- staging and logs (only with a Blob service)
    def stage(self, res: dict[str, Any], run: dict[str, Any]) -> None:
        """Image Builder's staging group and its storage account, made on the first run; a run guid names the
        run's log folder."""
        props, mine = res["properties"], private(res)
        if not props.get("exactStagingResourceGroup"):
            group = props.get("stagingResourceGroup")
            if not group:
                sub, rg = res["id"].split("/")[2], res["id"].split("/")[4]
                guid = uuid.UUID(int=self.app.rng.getrandbits(128), version=4)
                group = f"/subscriptions/{sub}/resourceGroups/IT_{rg}_{res['name']}_{guid}"
                mine["created_staging"] = group
            self.app.types["microsoft.resources/resourcegroups"].ensure(group, None, res["location"])
            props["exactStagingResourceGroup"] = group
        if not mine.get("staging_account") or self.app.store.get(mine["staging_account"]) is None:
            account = create_account(self.app, props["exactStagingResourceGroup"], res["location"])
            mine["staging_account"] = account["id"]
        run["guid"] = str(uuid.UUID(int=self.app.rng.getrandbits(128), version=4))

    def failure_seconds(self, res: dict[str, Any], cause: str) -> float:
        """When a run failing of `cause` ends: at the build VM's deployment, at buildTimeoutInMinutes
        (0 = Image Builder's 240), or while customizing."""
        build = self.app.config.build_seconds
        if cause in ("quota", "sku-not-available", "allocation-failed", "internal-error"):
            return 0.1 * build
        if cause == "build-timeout":
            return float(res["properties"].get("buildTimeoutInMinutes") or 240) * 60
        return 0.7 * build

    def failure_messages(self, res: dict[str, Any], run: dict[str, Any], op_id: str) -> tuple[str, dict]:
        account_id = private(res)["staging_account"]
        account = account_id.rsplit("/", 1)[1]
        blob = f"packerlogs/{run['guid']}/customization.log"
        url = f"https://{account}.blob.core.windows.net/{blob}"
        arm_path = f"{account_id}/blobServices/default/containers/{blob}"
        text, error = failure_log(res, run["cause"], op_id, run["start"], run["start"] + 1)
        run["log_error"] = error
        return status_messages(run["cause"]["cause"], error, url, arm_path, op_id)

    def write_log(self, res: dict[str, Any], run: dict[str, Any], op_id: str, at: float) -> None:
        """The failed run's customization.log into the staging account (best effort: a Blob service that is
        down leaves no log, which a reader must tolerate anyway)."""
        text, _ = failure_log(res, run["cause"], op_id, run["start"], at)
        try:
            BlobWriter(self.app.config.blob_connection_string).put_text(
                "packerlogs", f"{run['guid']}/customization.log", text
            )
        except (OSError, ValueError) as exc:
            print(f"sandbox: could not write the build log: {exc}", file=sys.stderr)

    def make_version(self, res: dict[str, Any], target: dict[str, Any], at: float) -> dict[str, Any] | str:
        image_id = target.get("galleryImageId") or ""
        parts = image_id.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2].lower() == "versions":
            definition_id, name = "/".join(parts[:-2]), parts[-1]
        else:
            definition_id = image_id.rstrip("/")
            name = datetime.fromtimestamp(at, UTC).strftime("%Y.%m%d.%H%M%S").replace(".0", ".")
        definition = self.app.store.get(definition_id)
        if definition is None:
            return f"The gallery image definition '{definition_id}' was not found."
        version_id = f"{definition['id']}/versions/{name}"
        if self.app.store.get(version_id) is not None:
            return f"The gallery image version '{version_id}' already exists."
        regions = target.get("targetRegions") or [{"name": r} for r in target.get("replicationRegions") or []]
        trs = [
            {
                "name": r["name"],
                "regionalReplicaCount": r.get("replicaCount") or 1,
                "storageAccountType": r.get("storageAccountType")
                or target.get("storageAccountType")
                or "Standard_LRS",
            }
            for r in regions
        ] or [{"name": definition["location"]}]
        source = res["properties"].get("source") or {}
        # The distributor's version-level settings, which Azure fixes at creation (storage type, replication
        # mode cannot change afterwards), land on the version as given; unset ones take Compute's defaults.
        profile = {
            "targetRegions": trs,
            "excludeFromLatest": bool(target.get("excludeFromLatest")),
            **{k: target[k] for k in ("storageAccountType", "replicationMode") if target.get(k)},
        }
        version = {
            "id": version_id,
            "name": name,
            "type": "Microsoft.Compute/galleries/images/versions",
            "location": definition["location"],
            "tags": dict(target.get("artifactTags") or {}),
            "properties": {
                "publishingProfile": profile,
                "storageProfile": {
                    "source": {
                        "id": source.get("imageVersionId")
                        or source.get("imageId")
                        or f"{res['id']}/staging/{name}"
                    }
                },
                "provisioningState": "Creating",
            },
        }
        self.app.types["microsoft.compute/galleries/images/versions"].normalize(version)
        self.app.store.put(version)
        return version

    def cancel(self, req: Request, rid: str) -> Response:
        res = self._get(rid)
        if not self.running(res):
            raise conflict("OperationNotAllowed", "There is no running build to cancel.")
        res["properties"]["lastRunStatus"]["runState"] = "Canceling"
        op = self.app.ops.start(
            req,
            kind="imagetemplate:cancel",
            resource_id=res["id"],
            ns="Microsoft.VirtualMachineImages",
            location=res["location"],
            seconds=self.app.config.cancel_seconds,
        )
        return Response(
            202, None, {"Azure-AsyncOperation": self.app.ops.initial_headers(req, op)["Azure-AsyncOperation"]}
        )

    def cancel_done(self, op: dict[str, Any], at: float) -> None:
        res = self.app.store.get(op["resource_id"])
        if res is None:
            return
        run_op = self.app.ops.ops.get(res.get(PRIVATE, {}).get("run", {}).get("op", ""))
        if run_op is not None and run_op["status"] == "InProgress":
            self.app.ops.finish(
                run_op, at, "Canceled", {"code": "Canceled", "message": "The build was canceled."}
            )
        res["properties"]["lastRunStatus"].update(
            {"runState": "Canceled", "runSubState": None, "endTime": iso(at), "message": "Canceled by user."}
        )


class RunOutputs(ResourceType):
    type_name = "Microsoft.VirtualMachineImages/imageTemplates/runOutputs"
    tracked = False

    def put(self, req, rid):
        raise ArmError(405, "MethodNotAllowed", "Run outputs are written by builds.")


def install(app: Any) -> None:
    storage.install(app)  # the staging accounts exist for Image Builder's sake
    templates = app.register(ImageTemplates(app))
    app.register(RunOutputs(app))
    app.ops.hook("imagetemplate:run", templates.run_progress)
    app.ops.hook("imagetemplate:cancel", templates.cancel_done)
