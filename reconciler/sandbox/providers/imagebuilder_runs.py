"""An image template's run lifecycle: `run` (202 + Azure-AsyncOperation) and `cancel`, and their progress.

A run builds for `build_seconds` on the sandbox clock (runSubState walks Queued -> Building -> Customizing ->
Optimizing -> Validating -> Distributing), then creates the gallery version named by each SharedImage distribute
target (imagebuilder_distribute.py) and replicates it; the run ends when replication does, writing
`runOutputs/{runOutputName}` with the version as artifactId. A fault rule of kind "build" picks how the run fails
(`cause`: sysprep-appx, exit-code, checksum, …); with a Blob service the failure leaves a customization.log in
the staging account (imagebuilder_staging.py).
"""

from __future__ import annotations

from typing import Any

from ..clock import iso
from ..errors import ArmError, conflict
from ..routing import Request, Response
from ..store import PRIVATE, private, public
from .base import ResourceType
from .imagebuilder_distribute import make_version
from .imagebuilder_staging import failure_messages, failure_seconds, stage, write_log

PHASES = (
    (0.05, "Queued"),
    (0.2, "Building"),
    (0.8, "Customizing"),
    (0.85, "Optimizing"),
    (1.0, "Validating"),
)


class TemplateRuns(ResourceType):
    """The run and cancel actions of Microsoft.VirtualMachineImages/imageTemplates (ImageTemplates adds the rest)."""

    actions = {"run": "run", "cancel": "cancel"}

    def running(self, res: dict[str, Any]) -> bool:
        return (res["properties"].get("lastRunStatus") or {}).get("runState") in ("Running", "Canceling")

    def _get(self, rid: str) -> dict[str, Any]:
        res = self.app.store.get(rid)
        if res is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{rid}' was not found.")
        return res

    def render(self, req, res):
        out = public(res)
        run = res.get(PRIVATE, {}).get("run")
        status = out["properties"].get("lastRunStatus")
        if run and status and status.get("runState") == "Running":
            span = max(run["build_end"] - run["start"], 1e-9)
            frac = (self.app.clock.now_ts() - run["start"]) / span
            status["runSubState"] = next((name for limit, name in PHASES if frac < limit), "Distributing")
        return out

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
            stage(self.app, res, run)
        if cause is not None:
            seconds = failure_seconds(self.app, res, cause["cause"])
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
            run["status_message"], op["fail"] = failure_messages(res, run, op["id"])
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
                write_log(self.app, res, run, op["id"], at)
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
                version = make_version(self.app, res, target, at)
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
