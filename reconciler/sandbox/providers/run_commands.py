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

Request validation is in run_command_checks.py; a run's outcome and instance view in run_command_outcome.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from ..clock import iso
from ..store import PRIVATE, json_copy, private, public
from .base import ResourceType, deep_merge
from .run_command_checks import READ_ONLY, TOP_LEVEL, check_body, check_source, check_vm
from .run_command_outcome import deployment_failure, instance_view, plan_run, script_sha256

NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,78}[A-Za-z0-9_])?$")


def is_cancel(body: Any) -> bool:
    """A write whose source is an empty inline script: Azure's way to stop a run command that is running."""
    source = ((body or {}).get("properties") or {}).get("source") if isinstance(body, dict) else None
    return isinstance(source, dict) and source.get("script") == "" and not source.get("scriptUri")


class RunCommands(ResourceType):
    type_name = "Microsoft.Compute/virtualMachines/runCommands"
    name_re = NAME_RE

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        # Keys the digest of secrets: a changed password re-runs the command, yet nothing stored reveals it.
        self._key = secrets.token_bytes(32)

    # ---- writes
    def refuse_while_running(self, req, res):
        if not is_cancel(req.json()):
            super().refuse_while_running(req, res)

    def build(self, req, rid, body, existing):
        check_body(req, body, existing)
        body = json_copy(body)
        props = body.setdefault("properties", {})
        for key in READ_ONLY:
            props.pop(key, None)
        vm = self.app.store.get(rid.rsplit("/", 2)[0])
        check_vm(vm, body.get("location") or (existing or {}).get("location"))
        secret = self.take_secrets(props)
        res = super().build(req, rid, {k: v for k, v in body.items() if k in TOP_LEVEL}, existing)
        check_source(res["properties"])
        self.defaults(res["properties"])
        self.prepare_run(res, secret)
        return res

    def patch(self, req, res, body):
        check_body(req, body, res)
        body = json_copy(body)
        props = body.get("properties") or {}
        for key in READ_ONLY:
            props.pop(key, None)
        vm = self.app.store.get(res["id"].rsplit("/", 2)[0])
        check_vm(vm, None)
        secret = self.take_secrets(props)
        merged = json_copy(res.get("properties") or {})
        deep_merge(merged, props)
        check_source(merged)
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
        sb["run"] = run = plan_run(self.app, res)
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
            op["fail"] = deployment_failure(res, run)
            private(res)["failed"] = True  # a repeated PUT runs it again, as for a failed extension
        return None

    def delete_seconds(self, res):
        run = res.get(PRIVATE, {}).get("run")
        if run is not None and self.app.clock.now_ts() < run["end"]:
            run["state"], run["end"], run["exit_code"] = "Canceled", self.app.clock.now_ts(), None
        return self.app.config.delete_seconds

    # ---- reads
    def render(self, req, res):
        out = public(res)
        if "instanceview" in req.query.get("$expand", "").lower():
            out["properties"]["instanceView"] = instance_view(self.app, res)
        return out


def install(app: Any) -> None:
    app.register(RunCommands(app))
