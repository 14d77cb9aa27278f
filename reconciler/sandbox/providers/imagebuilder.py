"""Microsoft.VirtualMachineImages imageTemplates: the template resource itself (validation, immutability, delete).

Templates are immutable apart from tags, identity, vmProfile and distribute (PATCH): a PUT with other content is
409 Conflict. A template's references (identities, build subnet, source, staging group) are checked as Azure does.
The run and cancel actions live in imagebuilder_runs.py; a run's staging group and logs, which exist only with a
Blob service (`blob_connection_string`), in imagebuilder_staging.py.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ArmError, bad_request, conflict
from ..store import PRIVATE, json_copy, private
from . import storage
from .base import ResourceType
from .imagebuilder_runs import TemplateRuns
from .landing import identity_problem, missing_identity
from .network import subnet_problem
from .sources import template_source_problem

READ_ONLY = ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")
PATCHABLE = ("vmProfile", "distribute")


def content_of(body: dict[str, Any]) -> str:
    props = {k: v for k, v in (body.get("properties") or {}).items() if k not in READ_ONLY}
    return json.dumps(
        {"location": (body.get("location") or "").replace(" ", "").lower(), "properties": props},
        sort_keys=True,
    )


class ImageTemplates(TemplateRuns):
    type_name = "Microsoft.VirtualMachineImages/imageTemplates"

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
