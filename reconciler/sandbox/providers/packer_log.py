"""The customization.log of a failed Image Builder run, in Azure's format, and the run's error messages.

Format (reference/pipeline.md 1.5): every line is `[<operationId>] PACKER OUT <packer UI line>` or
`[<operationId>] PACKER ERR <yyyy/mm/dd hh:mm:ss> packer...: <debug line>`; a customizer starts at its
`(telemetry) Starting provisioner <type>` line and ends at `(telemetry) ending <type>`; the hidden deprovision
step (Sysprep) runs last; the log ends with `Done exporting Packer logs to Azure for Packer prefix`.

Causes (a fault rule of kind "build" names one, `FAULT_CAUSES`): the failure texts are Packer's and Windows'
own where public sources show them (pipeline.md 1.5/1.6); the sha256 mismatch, quota and SKU texts are
inferred from the same patterns (no public sample of Image Builder's own wording exists).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

FAULT_CAUSES = (
    "sysprep-appx",
    "exit-code",
    "checksum",
    "windows-update-timeout",
    "restart-timeout",
    "build-timeout",
    "quota",
    "sku-not-available",
    "allocation-failed",
    "internal-error",
)
PROVISIONER = {
    "powershell": "powershell",
    "shell": "shell",
    "file": "file",
    "windowsupdate": "windows-update",
    "windowsrestart": "windows-restart",
}
APPX_PACKAGE = "Microsoft.Edge.GameAssist_1.0.3336.0_x64__8wekyb3d8bbwe"


def default_step(customize: list[dict[str, Any]], cause: str) -> int | None:
    """Index of the customizer a cause hits when the rule names none."""
    want = {
        "exit-code": ("powershell", "shell"),
        "checksum": ("file", "powershell", "shell"),
        "windows-update-timeout": ("windowsupdate",),
        "restart-timeout": ("windowsrestart",),
        "build-timeout": tuple(PROVISIONER),
    }.get(cause)
    if want is None:
        return None
    for i, step in enumerate(customize):
        usable = cause != "checksum" or step.get("sha256Checksum")
        if (step.get("type") or "").lower() in want and usable:
            return i
    return len(customize) - 1 if cause == "build-timeout" and customize else None


class LogWriter:
    """Collects lines, each stamped on the sandbox clock, which moves forward as the build would."""

    def __init__(self, op_id: str, start: float) -> None:
        self.prefix, self.start, self.at, self.lines = f"[{op_id}]", start, start, []

    def out(self, text: str, seconds: float = 1.0) -> None:
        self.at += seconds
        self.lines.append(f"{self.prefix} PACKER OUT {text}")

    def err(self, text: str, seconds: float = 0.5) -> None:
        self.at += seconds
        stamp = datetime.fromtimestamp(self.at, UTC).strftime("%Y/%m/%d %H:%M:%S")
        self.lines.append(f"{self.prefix} PACKER ERR {stamp} packer.exe: {text}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def failure_log(
    template: dict[str, Any], rule: dict[str, Any], op_id: str, start: float, end: float
) -> tuple[str, str]:
    """(customization.log text, the Packer error the build ended with) for a run failing as `rule` says."""
    props = template.get("properties") or {}
    customize = list(props.get("customize") or [])
    cause = rule["cause"]
    step = _step_index(customize, rule)
    vm_size = (props.get("vmProfile") or {}).get("vmSize") or "Standard_D2ds_v4"
    location = template.get("location") or "westeurope"
    log = LogWriter(op_id, start)
    log.out("Build 'azure-arm' ...")  # Packer's own first line
    log.err("[INFO] Packer version: 1.10.0 [go1.21.5 windows amd64]")
    log.out("==> azure-arm: Running builder ...")
    log.out(f"==> azure-arm:  -> Location       : '{location}'")
    log.out(f"==> azure-arm:  -> VM Size        : '{vm_size}'")
    log.out("==> azure-arm: Deploying deployment template ...", 60)
    error = _deploy_error(cause, template, vm_size, location)
    if error is not None:
        log.out(f"==> azure-arm: ERROR: -> {error}", 30)
        return _ending(log, error, end)
    linux = any((c.get("type") or "").lower() == "shell" for c in customize)
    if linux:
        log.out("==> azure-arm: Waiting for SSH to become available...", 120)
        log.out("==> azure-arm: Connected to SSH!", 30)
    else:
        log.out("==> azure-arm: Waiting for WinRM, up to timeout: 10m0s", 120)
        log.out("==> azure-arm: WinRM connected.", 30)
    for i, customizer in enumerate(customize):
        kind = PROVISIONER.get((customizer.get("type") or "").lower(), "powershell")
        log.err(f"[INFO] (telemetry) Starting provisioner {kind}")
        if i == step:
            return _ending(log, _fail_step(log, cause, customizer, kind, rule), end)
        _ok_step(log, customizer, kind)
        log.err(f"[INFO] (telemetry) ending {kind}")
    if linux:  # waagent deprovisions; nothing of the causes here fails it
        log.err("[INFO] (telemetry) Starting provisioner shell")
        log.out("==> azure-arm: Provisioning with shell script: /tmp/DeprovisioningScript.sh")
        log.out("    azure-arm: WARNING! The waagent service will be stopped.", 5)
        log.out("    azure-arm: sudo waagent -force -deprovision+user && export HISTSIZE=0 && sync", 5)
        return _ending(log, "unexpected EOF", end)
    log.err("[INFO] (telemetry) Starting provisioner powershell")
    log.out("==> azure-arm: Provisioning with powershell script: c:\\DeprovisioningScript.ps1")
    if cause == "sysprep-appx":
        return _ending(log, _sysprep_appx(log, rule), end)
    log.out("    azure-arm: IMAGE_STATE_COMPLETE", 30)
    return _ending(log, "unexpected EOF", end)


def _step_index(customize: list[dict[str, Any]], rule: dict[str, Any]) -> int | None:
    name = rule.get("customizer")
    if name:
        for i, step in enumerate(customize):
            if step.get("name") == name:
                return i
    return default_step(customize, rule["cause"])


def _family(vm_size: str) -> str:
    """Compute's quota family of a size: Standard_D4s_v5 -> standardDSv5Family, Standard_D2ds_v4 ->
    standardDDSv4Family (the a/d/l/s feature letters count; memory or tiny variants do not)."""
    match = re.fullmatch(r"Standard_([A-Z]+)\d+(?:-\d+)?([a-z]*)(?:_[A-Z]\d+)?(?:_v(\d+))?", vm_size)
    if not match:
        return "standardDSv5Family"
    letters, features, version = match.groups()
    features = "".join(c for c in features if c in "adls").upper()
    return f"standard{letters}{features}{'v' + version if version else ''}Family"


def _deploy_error(cause: str, template: dict[str, Any], vm_size: str, location: str) -> str | None:
    family = _family(vm_size)
    sub = template["id"].split("/")[2]
    return {
        "quota": (
            f"OperationNotAllowed : Operation could not be completed as it results in exceeding approved "
            f"{family} Cores quota. Additional details - Deployment Model: Resource Manager, Location: "
            f"{location}, Current Limit: 10, Current Usage: 8, Additional Required: 4, (Minimum) New Limit "
            "Required: 12. Submit a request for Quota increase at https://aka.ms/ProdportalCRP"
        ),
        "sku-not-available": (
            f"SkuNotAvailable : The requested VM size for resource 'Following SKUs have failed for Capacity "
            f"Restrictions: {vm_size}' is currently not available in location '{location}'. Please try another "
            f"size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for "
            f"details. (subscription {sub})"
        ),
        "allocation-failed": (
            "AllocationFailed : Allocation failed. We do not have sufficient capacity for the requested VM size "
            "in this region. Read more about improving likelihood of allocation success at "
            "http://aka.ms/allocation-guidance"
        ),
        "internal-error": "InternalServerError : An internal error occurred in the build VM's deployment.",
    }.get(cause)


def _script(customizer: dict[str, Any], kind: str) -> str:
    """What Packer names as the script: the URI, or the temporary file it writes an inline script to."""
    if customizer.get("scriptUri"):
        return str(customizer["scriptUri"])
    return "/tmp/script_4286.sh" if kind == "shell" else "C:\\Windows\\Temp\\script-6643a1f2.ps1"


def _command(customizer: dict[str, Any], kind: str) -> str:
    script = _script(customizer, kind)
    if kind == "shell":
        return f"chmod +x {script}; sudo -E sh -eux '{script}'"
    return f"powershell -executionpolicy bypass \"& {{ . '{script}'; exit $LastExitCode }}\""


def _ok_step(log: LogWriter, customizer: dict[str, Any], kind: str) -> None:
    if kind in ("powershell", "shell"):
        script = _script(customizer, kind)
        log.out(f"==> azure-arm: Provisioning with {kind} script: {script}", 5)
        for command in (customizer.get("inline") or [])[:3]:
            log.out(f"    azure-arm: {command}", 20)
        log.err(f"[INFO] command '{_command(customizer, kind)}' exited with code: 0")
    elif kind == "file":
        log.out(
            f"==> azure-arm: Uploading {customizer.get('sourceUri')} => {customizer.get('destination')}", 10
        )
    elif kind == "windows-update":
        log.out("==> azure-arm: Uploading the Windows update elevated script...")
        log.out("==> azure-arm: Running Windows update...", 600)
        log.out("    azure-arm: Found 3 updates.", 600)
        log.out("    azure-arm: Installing updates...", 900)
        log.out("==> azure-arm: No Windows updates found", 30)
    elif kind == "windows-restart":
        log.out("==> azure-arm: Restarting Machine", 5)
        log.out("==> azure-arm: Waiting for machine to restart...", 60)
        log.out("==> azure-arm: Machine successfully restarted, moving on", 30)


def _fail_step(
    log: LogWriter, cause: str, customizer: dict[str, Any], kind: str, rule: dict[str, Any]
) -> str:
    """Lines of the failing customizer; returns the error Packer ends the build with."""
    if cause == "exit-code":
        code = int(rule.get("exit_code") if rule.get("exit_code") is not None else 1)
        allowed = customizer.get("validExitCodes") or [0]
        log.out(f"==> azure-arm: Provisioning with {kind} script: {_script(customizer, kind)}")
        for command in (customizer.get("inline") or [])[:3]:
            log.out(f"    azure-arm: {command}", 20)
        log.out(f"    azure-arm: {customizer.get('name') or 'step'}: the installer reported an error", 30)
        log.err(f"[INFO] command '{_command(customizer, kind)}' exited with code: {code}")
        log.err(f"[INFO] RPC endpoint: Communicator ended with: {code}")
        return f"Script exited with non-zero exit status: {code}. Allowed exit codes are: {allowed}"
    if cause == "checksum":
        uri = customizer.get("sourceUri") or customizer.get("scriptUri") or "https://example.invalid/file"
        expected = (customizer.get("sha256Checksum") or "0" * 64).lower()
        got = rule.get("actual_checksum") or ("f" * 8 + expected[8:])
        log.out(
            f"==> azure-arm: Downloading external file ({uri}) to local file (C:\\Windows\\Temp\\customizer.fp)"
        )
        log.err(f"[ERROR] sha256 checksum of {uri} does not match: expected {expected}, got {got}")
        return f"Checksum verification failed for {uri}: sha256 mismatch: expected {expected}, got {got}"
    if cause == "windows-update-timeout":
        log.out("==> azure-arm: Uploading the Windows update elevated script...")
        log.out("==> azure-arm: Running Windows update...", 300)
        log.out("    azure-arm: Waiting for the Windows Modules Installer to exit...", 600)
        log.err("[INFO] command 'packer-windows-update-elevated.ps1' exited with code: 101", 900)
        log.out("==> azure-arm: Restarting the machine...")
        log.out("==> azure-arm: Waiting for machine to become available...", 60)
        log.err("[INFO] Retryable error: Machine not yet available (exit status 1115)", 1800)
        return "Timeout waiting for machine to restart."
    if cause == "restart-timeout":
        timeout = customizer.get("restartTimeout") or "5m"
        log.out("==> azure-arm: Restarting Machine")
        log.out(f"==> azure-arm: Waiting for machine to restart... (timeout {timeout})", 300)
        log.err("[INFO] Retryable error: Machine not yet available (exit status 1115)", 300)
        return "Timeout waiting for machine to restart."
    # build-timeout: the step runs on until Image Builder's deadline cancels the build.
    log.out(f"==> azure-arm: Provisioning with {kind} script: {_script(customizer, kind)}")
    log.out("    azure-arm: Waiting for the installer to finish...", 600)
    log.out("==> azure-arm: Cancelling builder after context cancellation context canceled", 3600)
    log.err("[ERROR] Remote command exited without exit status or exit signal.")
    return "context deadline exceeded"


def _sysprep_appx(log: LogWriter, rule: dict[str, Any]) -> str:
    package = rule.get("package") or APPX_PACKAGE
    log.out("    azure-arm: Running Sysprep /oobe /generalize /quiet /quit", 5)
    log.out("    azure-arm: IMAGE_STATE_COMPLETE", 60)
    log.out("    azure-arm: Sysprep encountered errors. Review the setuperr.log for details.", 60)
    log.out("    azure-arm: C:\\Windows\\System32\\Sysprep\\Panther\\setuperr.log:")
    log.out(
        f"    azure-arm: SYSPRP Package {package} was installed for a user, but not provisioned for all users. "
        "This package will not function properly in the sysprep image."
    )
    log.out("    azure-arm: SYSPRP Failed to remove apps for the current user: 0x80073cf2.")
    log.out(
        "    azure-arm: SYSPRP Failure occurred while executing 'SysprepGeneralizeValidate' from "
        "C:\\Windows\\System32\\AppxSysprep.dll; dwRet = 0x3cf2"
    )
    log.err(
        "[INFO] command 'powershell -executionpolicy bypass \"& { c:\\DeprovisioningScript.ps1 }\"' exited with code: 1"
    )
    return "Script exited with non-zero exit status: 1. Allowed exit codes are: [0]"


def _ending(log: LogWriter, error: str, end: float) -> tuple[str, str]:
    log.at = max(log.at, end - 2)
    took = _duration(log.at - log.start)
    log.out(f"Build 'azure-arm' errored after {took}: {error}")
    log.out(f"==> Wait completed after {took}")
    log.out("==> Some builds didn't complete successfully and had errors:")
    log.out(f"--> azure-arm: {error}")
    log.out("==> Builds finished but no artifacts were created.")
    log.out(f"Done exporting Packer logs to Azure for Packer prefix: {log.prefix} PACKER OUT")
    return log.text(), error


def _duration(seconds: float) -> str:
    """Packer's wording: `1 hour 2 minutes`, `12 minutes 3 seconds`."""
    total = int(seconds)
    hours, minutes, secs = total // 3600, total % 3600 // 60, total % 60
    parts = [(hours, "hour"), (minutes, "minute"), (secs, "second")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words[:2]) or "0 seconds"


def status_messages(cause: str, error: str, log_url: str, log_arm_path: str, op_id: str) -> tuple[str, dict]:
    """(lastRunStatus.message, the run operation's error) in Image Builder's two documented shapes."""
    if cause == "build-timeout":
        message = "Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline exceeded'"
        return message, {"code": "BuildTimeout", "message": message}
    if cause == "internal-error":
        message = "Internal error occurred."
        return message, {"code": "InternalOperationError", "message": message}
    message = (
        "Failed while waiting for packerizer: Microservice has failed: Failed while processing request: Error "
        "when executing packerizer: Packer build command has failed: exit status 1. During the image build, a "
        "failure has occurred, please review the build log to identify which build/customization step failed. "
        "For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts. Image Build log location: "
        f"{log_url}. OperationId: {op_id}. Use this operationId to search packer logs."
    )
    op_error = {
        "code": "PackerBuildFailed",
        "message": (
            f"During the image build a failure has occurred. Packer build logs are at location {log_arm_path}. "
            f"For more troubleshooting steps go to https://aka.ms/azvmimagebuilderts. Use this operationId "
            f"{op_id} to search packer logs."
        ),
    }
    return message, op_error
