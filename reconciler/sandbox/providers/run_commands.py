"""Microsoft.Compute virtualMachines/runCommands: managed Run Commands (reference/pipeline.md §2).

A tracked child of a running VM, in the VM's region. A PUT or PATCH that changes what runs starts a run on the
sandbox clock: queued `run_command_start_seconds`, then the script runs for its duration (fault rules of kind
"run_command" script the outcome; default exit 0 after `run_command_seconds`), or until `timeoutInSeconds` when
it hangs or runs longer (TimedOut). The write's LRO ends when the script ends, or when it starts with
`asyncExecution`. A failed script leaves provisioningState Succeeded unless `treatFailureAsDeploymentFailure`,
which fails the LRO and the resource. A PUT that repeats what already ran runs nothing (ARM PUTs are
idempotent). `$expand=instanceView` shows the run as it stands at sandbox time. Deleting the command, or its VM,
ends a script still running.

Secrets: protectedParameters and runAsPassword are never stored, echoed or persisted; only their names, and a
keyed digest that tells a changed secret from a repeated one, are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from ..clock import iso
from ..errors import ArmError, bad_request, conflict
from ..routing import Request, norm_region
from ..store import PRIVATE, json_copy, private, public
from .base import ResourceType, deep_merge

# ARM's deserialiser refuses members a type does not have (Azure/azure-sdk-for-net#3487: 400
# InvalidRequestContent "Could not find member 'X' on object of type 'Y'. Path 'X', line 1, position N.").
TOP_LEVEL = {"id", "name", "type", "location", "tags", "properties"}
WRITABLE = {
    "source",
    "parameters",
    "protectedParameters",
    "asyncExecution",
    "runAsUser",
    "runAsPassword",
    "timeoutInSeconds",
    "outputBlobUri",
    "errorBlobUri",
    "outputBlobManagedIdentity",
    "errorBlobManagedIdentity",
    "treatFailureAsDeploymentFailure",
}
READ_ONLY = {"provisioningState", "instanceView"}
SOURCE_KINDS = ("script", "scriptUri", "commandId")
SOURCE_MEMBERS = {*SOURCE_KINDS, "scriptUriManagedIdentity", "scriptShell"}
OUTPUT_LIMIT = 4096  # managed run commands report the last 4 KB of output (run-command-overview.md)

NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,78}[A-Za-z0-9_])?$")


def not_deserialisable(raw: bytes, member: str, owner: str, path: str) -> ArmError:
    at = raw.find(f'"{member}"'.encode())
    position = at + len(member) + 2 if at >= 0 else 1
    return bad_request(
        "The request content was invalid and could not be deserialized: 'Could not find member "
        f"'{member}' on object of type '{owner}'. Path '{path}', line 1, position {position}.'.",
        "InvalidRequestContent",
    )


def is_cancel(body: Any) -> bool:
    """A write whose source is an empty inline script: Azure's way to stop a run command that is running."""
    source = ((body or {}).get("properties") or {}).get("source") if isinstance(body, dict) else None
    return isinstance(source, dict) and source.get("script") == "" and not source.get("scriptUri")


def script_sha256(source: dict[str, Any]) -> str | None:
    script = source.get("script")
    return hashlib.sha256(script.encode()).hexdigest() if isinstance(script, str) else None


class RunCommands(ResourceType):
    type_name = "Microsoft.Compute/virtualMachines/runCommands"
    name_re = NAME_RE

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        # Keys the digest of secrets: a changed password re-runs the command, yet nothing stored reveals it.
        self._key = secrets.token_bytes(32)

    # ---- validation
    def check_body(self, req: Request, body: dict[str, Any], existing: dict[str, Any] | None) -> None:
        for key in body:
            if key not in TOP_LEVEL:
                raise not_deserialisable(req.raw_body, key, "ResourceDefinition", key)
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise bad_request("The 'properties' must be an object.", "InvalidRequestContent")
        for key in props:
            if key not in WRITABLE | READ_ONLY:
                owner = "VirtualMachineRunCommandProperties"
                raise not_deserialisable(req.raw_body, key, owner, f"properties.{key}")
        source = props.get("source")
        if source is not None:
            if not isinstance(source, dict):
                raise bad_request("The 'source' must be an object.", "InvalidRequestContent")
            for key in source:
                if key not in SOURCE_MEMBERS:
                    owner = "VirtualMachineRunCommandScriptSource"
                    raise not_deserialisable(req.raw_body, key, owner, f"properties.source.{key}")
        for key in ("parameters", "protectedParameters"):
            for item in props.get(key) or []:
                if not isinstance(item, dict) or not item.get("name") or "value" not in item:
                    raise bad_request(
                        f"Each of '{key}' must have a name and a value.",
                        "InvalidParameter",
                        f"properties.{key}",
                    )
        timeout = props.get("timeoutInSeconds")
        if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0):
            raise bad_request(
                "The value of parameter timeoutInSeconds is invalid.",
                "InvalidParameter",
                "properties.timeoutInSeconds",
            )
        user = props.get("runAsUser") or ((existing or {}).get("properties") or {}).get("runAsUser")
        if props.get("runAsPassword") and not user:
            raise bad_request(
                "runAsPassword is given without runAsUser.", "InvalidParameter", "properties.runAsUser"
            )

    def check_source(self, props: dict[str, Any]) -> None:
        source = props.get("source") or {}
        given = [k for k in SOURCE_KINDS if source.get(k) is not None]
        if len(given) != 1:
            raise bad_request(
                "Exactly one of script, scriptUri and commandId must be given in the run command's source.",
                "InvalidParameter",
                "properties.source",
            )

    def check_vm(self, vm: dict[str, Any] | None, location: str | None) -> None:
        if vm is None:
            return  # check_parent answered ParentResourceNotFound already
        if location is not None and norm_region(location) != norm_region(vm.get("location")):
            raise bad_request(
                f"The location '{location}' of the run command must be the location of its virtual machine "
                f"'{vm['name']}' ('{vm.get('location')}').",
                "InvalidParameter",
                "location",
            )
        power = vm.get(PRIVATE, {}).get("power", "running")
        if power != "running":
            # CRP's words for an operation that needs the guest (MicrosoftDocs/azure-docs#32404).
            raise conflict(
                "OperationNotAllowed", "The operation requires the VM to be running (or set to run)."
            )

    # ---- writes
    def refuse_while_running(self, req, res):
        if not is_cancel(req.json()):
            super().refuse_while_running(req, res)

    def build(self, req, rid, body, existing):
        self.check_body(req, body, existing)
        body = json_copy(body)
        props = body.setdefault("properties", {})
        for key in READ_ONLY:
            props.pop(key, None)
        vm = self.app.store.get(rid.rsplit("/", 2)[0])
        self.check_vm(vm, body.get("location") or (existing or {}).get("location"))
        secret = self.take_secrets(props)
        res = super().build(req, rid, {k: v for k, v in body.items() if k in TOP_LEVEL}, existing)
        self.check_source(res["properties"])
        self.defaults(res["properties"])
        self.prepare_run(res, secret)
        return res

    def patch(self, req, res, body):
        self.check_body(req, body, res)
        body = json_copy(body)
        props = body.get("properties") or {}
        for key in READ_ONLY:
            props.pop(key, None)
        vm = self.app.store.get(res["id"].rsplit("/", 2)[0])
        self.check_vm(vm, None)
        secret = self.take_secrets(props)
        merged = json_copy(res.get("properties") or {})
        deep_merge(merged, props)
        self.check_source(merged)
        if "tags" in body:
            res["tags"] = body["tags"]
        res["properties"] = merged
        self.defaults(merged)
        kept = res.get(PRIVATE, {}).get("secret_digest", "") if secret is None else None
        self.prepare_run(res, secret, kept)

    def take_secrets(self, props: dict[str, Any]) -> dict[str, Any] | None:
        """Removes the protected parameters and the password from the body; what is left of them is their names
        and a keyed digest. None when the write names no secret at all."""
        protected = props.pop("protectedParameters", None)
        password = props.pop("runAsPassword", None)
        if protected is None and password is None:
            return None
        material = json.dumps({"p": protected or [], "w": password or ""}, sort_keys=True).encode()
        return {
            "names": None if protected is None else [item["name"] for item in protected],
            "password": bool(password),
            "digest": hmac.new(self._key, material, hashlib.sha256).hexdigest(),
        }

    def defaults(self, props: dict[str, Any]) -> None:
        props.setdefault("parameters", [])
        props.setdefault("asyncExecution", False)
        props.setdefault("treatFailureAsDeploymentFailure", False)
        props.setdefault("timeoutInSeconds", 0)

    def prepare_run(
        self, res: dict[str, Any], secret: dict[str, Any] | None, kept: str | None = None
    ) -> None:
        """A new run unless this write repeats what already ran (same properties, same secrets)."""
        sb = private(res)
        if secret is not None:
            if secret["names"] is not None:  # a PATCH naming only the password keeps the parameters' names
                sb["protected_names"] = secret["names"]
            sb["has_password"] = secret["password"] or sb.get("has_password", False)
            sb["secret_digest"] = secret["digest"]
        elif kept is None:
            sb.pop("protected_names", None), sb.pop("has_password", None), sb.pop("secret_digest", None)
        content = json.dumps({"p": res["properties"], "s": sb.get("secret_digest", "")}, sort_keys=True)
        run = sb.get("run")
        if (res["properties"].get("source") or {}).get("script") == "":
            self.cancel(res, run)
            sb["content"], sb["fresh"] = content, False
            return
        repeated = sb.get("content") == content and not sb.get("failed")
        if run is not None and repeated and run.get("state") != "Canceled":
            sb["fresh"] = False
            return
        sb["content"], sb["fresh"], sb["failed"] = content, True, False
        sb["runs"] = sb.get("runs", 0) + 1
        sb["run"] = run = self.plan_run(res)
        source = res["properties"].get("source") or {}
        self.app.audit.run_command(
            run["queued"], res["id"], sb["runs"], run, script_sha256(source), source.get("scriptUri")
        )

    def cancel(self, res: dict[str, Any], run: dict[str, Any] | None, at: float | None = None) -> None:
        """An empty script cancels the run in progress (run-command-managed.md); the write that started it ends
        Canceled. So does the VM stopping under it (the guest agent is gone)."""
        now = self.app.clock.now_ts() if at is None else at
        if run is None or now >= run["end"] or run["state"] == "Canceled":
            return
        run.update({"state": "Canceled", "end": now, "start": min(run["start"], now), "exit_code": None})
        for entry in reversed(self.app.audit.run_commands):
            if entry["id"] == res["id"]:
                entry.update({"outcome": "Canceled", "exit_code": None, "ends": iso(now)})
                break
        op = self.running_op(res)
        if op is not None:
            self.app.ops.finish(
                op, now, "Canceled", {"code": "OperationCanceled", "message": "The run command was canceled."}
            )
            res["properties"]["provisioningState"] = "Canceled"

    def vm_stopped(self, vm_id: str, at: float) -> None:
        for res in self.app.store.list_children(vm_id + "/runcommands"):
            self.cancel(res, res.get(PRIVATE, {}).get("run"), at)

    def plan_run(self, res: dict[str, Any]) -> dict[str, Any]:
        props, cfg = res["properties"], self.app.config
        now = self.app.clock.now_ts()
        source = props.get("source") or {}
        sha = script_sha256(source)
        uri = source.get("scriptUri")
        name, rid = res["name"], res["id"]

        def matches(rule: dict[str, Any]) -> bool:
            from ..faults import glob_match

            return (
                glob_match(rule.get("name"), name)
                and (rule.get("script_sha256") is None or (sha or "") == str(rule["script_sha256"]).lower())
                and (
                    rule.get("script_uri") is None
                    or (uri is not None and glob_match(rule["script_uri"], uri))
                )
                and re.search(rule.get("path") or ".*", rid, re.IGNORECASE) is not None
            )

        hits = self.app.faults.match_inside("run_command", matches)
        rule = hits[0] if hits else {}
        timeout = float(props.get("timeoutInSeconds") or cfg.run_command_default_timeout_seconds)
        duration = float(rule.get("duration", cfg.run_command_seconds))
        start = now + max(0.0, cfg.run_command_start_seconds)
        timed_out = bool(rule.get("hang")) or duration > timeout
        exit_code = int(rule.get("exit_code", 0))
        run: dict[str, Any] = {
            "queued": now,
            "start": start,
            "end": start + (timeout if timed_out else duration),
            "state": "TimedOut" if timed_out else ("Succeeded" if exit_code == 0 else "Failed"),
            "exit_code": None if timed_out else exit_code,
            "output": str(rule.get("output", f"Run command '{name}' completed."))[-OUTPUT_LIMIT:],
            "error": str(rule.get("error", ""))[-OUTPUT_LIMIT:],
            "timeout": timeout,
            "rule": rule.get("id"),
        }
        if timed_out:
            run["output"] = str(rule.get("output", ""))[-OUTPUT_LIMIT:]
        return run

    def put_seconds(self, res, existing):
        sb = res.get(PRIVATE, {})
        run = sb.get("run") or {}
        if not sb.get("fresh"):
            return min(self.app.config.delete_seconds, 1.0)
        ends = run["start"] if res["properties"].get("asyncExecution") else run["end"]
        return max(0.0, ends - self.app.clock.now_ts())

    def on_put_done(self, res, op, at):
        run = res.get(PRIVATE, {}).get("run") or {}
        if op.get("fail") or not res.get(PRIVATE, {}).get("fresh"):
            return None
        props = res["properties"]
        fails_deployment = props.get("treatFailureAsDeploymentFailure") and not props.get("asyncExecution")
        if fails_deployment and run.get("state") in ("Failed", "TimedOut"):
            op["fail"] = self.deployment_failure(res, run)
            private(res)["failed"] = True  # a repeated PUT runs it again, as for a failed extension
        return None

    def deployment_failure(self, res: dict[str, Any], run: dict[str, Any]) -> dict[str, str]:
        """Run commands execute through the RunCommandHandler extension, so a failure that fails the deployment
        comes back in the extension-provisioning shape [inferred from VMExtensionProvisioningError]."""
        if run["state"] == "TimedOut":
            detail = f"Execution timed out after {int(run['timeout'])} seconds."
        else:
            detail = f"Execution completed with exit code {run['exit_code']}."
        stderr = run.get("error") or ""
        return {
            "code": "VMExtensionProvisioningError",
            "message": f"VM has reported a failure when processing extension '{res['name']}' (publisher "
            "'Microsoft.CPlat.Core' and type 'RunCommandHandlerWindows'). Error message: "
            f"'{detail}{(' Error: ' + stderr[-512:]) if stderr else ''}'.",
        }

    def delete_seconds(self, res):
        run = res.get(PRIVATE, {}).get("run")
        if run is not None and self.app.clock.now_ts() < run["end"]:
            run["state"], run["end"], run["exit_code"] = "Canceled", self.app.clock.now_ts(), None
        return self.app.config.delete_seconds

    # ---- reads
    def render(self, req, res):
        out = public(res)
        if "instanceview" in req.query.get("$expand", "").lower():
            out["properties"]["instanceView"] = self.instance_view(res)
        return out

    def instance_view(self, res: dict[str, Any]) -> dict[str, Any]:
        run = res.get(PRIVATE, {}).get("run") or {}
        now = self.app.clock.now_ts()
        if not run:
            return {"executionState": "Unknown", "statuses": []}
        if now < run["start"] and run["state"] != "Canceled":
            return {"executionState": "Pending", "executionMessage": "", "statuses": []}
        view: dict[str, Any] = {"startTime": iso(run["start"]) if now >= run["start"] else None}
        if now < run["end"]:
            view.update({"executionState": "Running", "executionMessage": "", "output": "", "error": ""})
            return {**view, "statuses": []}
        state = run["state"]
        messages = {
            "Succeeded": "Execution completed",
            "Failed": "Execution completed",
            "TimedOut": f"Execution timed out after {int(run['timeout'])} seconds",
            "Canceled": "Execution was canceled",
        }
        view.update(
            {
                "executionState": state,
                "executionMessage": messages[state],
                "output": run["output"],
                "error": run["error"],
                "endTime": iso(run["end"]),
                "statuses": [
                    {
                        "code": f"ProvisioningState/{'succeeded' if state == 'Succeeded' else 'failed'}",
                        "level": "Info" if state == "Succeeded" else "Error",
                        "displayStatus": "Provisioning succeeded"
                        if state == "Succeeded"
                        else "Provisioning failed",
                        "message": messages[state],
                        "time": iso(run["end"]),
                    }
                ],
            }
        )
        if run.get("exit_code") is not None:
            view["exitCode"] = run["exit_code"]
        return view


def install(app: Any) -> None:
    app.register(RunCommands(app))
