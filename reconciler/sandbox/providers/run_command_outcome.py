"""How a run command's run plays out: its timing and outcome (fault rules of kind "run_command", else exit 0
after `run_command_seconds`; TimedOut past `timeoutInSeconds`), the instance view at sandbox time, and the
error a run that fails its deployment reports."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ..clock import iso
from ..store import PRIVATE

OUTPUT_LIMIT = 4096  # managed run commands report the last 4 KB of output (run-command-overview.md)


def script_sha256(source: dict[str, Any]) -> str | None:
    script = source.get("script")
    return hashlib.sha256(script.encode()).hexdigest() if isinstance(script, str) else None


def plan_run(app: Any, res: dict[str, Any]) -> dict[str, Any]:
    props, cfg = res["properties"], app.config
    now = app.clock.now_ts()
    source = props.get("source") or {}
    sha = script_sha256(source)
    uri = source.get("scriptUri")
    name, rid = res["name"], res["id"]

    def matches(rule: dict[str, Any]) -> bool:
        from ..faults import glob_match

        return (
            glob_match(rule.get("name"), name)
            and (rule.get("script_sha256") is None or (sha or "") == str(rule["script_sha256"]).lower())
            and (rule.get("script_uri") is None or (uri is not None and glob_match(rule["script_uri"], uri)))
            and re.search(rule.get("path") or ".*", rid, re.IGNORECASE) is not None
        )

    hits = app.faults.match_inside("run_command", matches)
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


def deployment_failure(res: dict[str, Any], run: dict[str, Any]) -> dict[str, str]:
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


def instance_view(app: Any, res: dict[str, Any]) -> dict[str, Any]:
    run = res.get(PRIVATE, {}).get("run") or {}
    now = app.clock.now_ts()
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
