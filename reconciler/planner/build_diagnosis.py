"""Why an Image Builder run failed: its customization.log and run status read into a cause, a hint and the lines
that show it. Pure: text in, a `Diagnosis` out (the azure layer fetches the log; no I/O, no clock here).

The log's shape (reference/pipeline.md 1.5): each customizer starts at a `(telemetry) Starting provisioner
<type>` line, the k-th such line being the template's k-th customizer, then Image Builder's hidden deprovision
step (Sysprep on Windows, waagent on Linux). The failing step is the last one started. Known causes are matched
on the words Packer, Windows and ARM use (pipeline.md 1.5/1.6); `transient` says whether the same run may
succeed if tried again (capacity, internal errors) or needs a change first (a script's exit code, a checksum).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

SETUPERR = r"C:\Windows\System32\Sysprep\Panther\setuperr.log"
MAX_EXCERPT = 20
_PREFIX = re.compile(r"^(?:\[[^\]]*\] )?PACKER (?:OUT|ERR) (?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d [^:]*: )?")
_START = re.compile(r"\(telemetry\) Starting provisioner (\S+)")
_END = re.compile(r"\(telemetry\) ending (\S+)")
_EXIT = re.compile(
    r"(Restart script|Script) exited with non-zero exit status: (-?\d+)(?:\. Allowed exit codes are: (\[[^\]]*\]))?"
)
_APPX = re.compile(r"Package (\S+) was installed for a user, but not provisioned for all users")
_BOILERPLATE = (
    "==> Wait completed after",
    "==> Some builds didn't complete successfully",
    "==> Builds finished but no artifacts were created",
    "Done exporting Packer logs to Azure",
)
_ERRORISH = re.compile(
    r"error|fail|timeout|timed out|exited with|deadline|not available|exceed", re.IGNORECASE
)


@dataclass(frozen=True)
class Customizer:
    """One step of the template's `customize`, as the log's k-th provisioner."""

    type: str
    name: str
    valid_exit_codes: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class Diagnosis:
    cause: str  # a code below, or "unknown"
    summary: str  # one line: what failed
    hint: str | None = None
    customizer: str | None = None
    exit_code: int | None = None
    transient: bool = False
    excerpt: tuple[str, ...] = ()
    log_note: str | None = None  # why the log was not read, when it was not
    details: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The diagnosis for people: cause, step, hint, then the excerpt (indented)."""
        step = f" in customizer '{self.customizer}'" if self.customizer else ""
        code = f" (exit code {self.exit_code})" if self.exit_code is not None else ""
        kind = "transient" if self.transient else "needs a change"
        out = [f"cause: {self.cause}{step}{code}: {self.summary} [{kind}]"]
        if self.hint:
            out.append(f"hint: {self.hint}")
        if self.log_note:
            out.append(f"log: {self.log_note}")
        if self.excerpt:
            out.append("log excerpt:")
            out.extend(f"  {line}" for line in self.excerpt)
        return out


def customizers_of(template_body: dict) -> tuple[Customizer, ...]:
    """The `customize` steps of an imageTemplate body (REST JSON)."""
    steps = ((template_body or {}).get("properties") or {}).get("customize") or []
    return tuple(
        Customizer(
            str(s.get("type") or ""),
            str(s.get("name") or f"step {i + 1}"),
            tuple(int(c) for c in (s.get("validExitCodes") or [0])),
        )
        for i, s in enumerate(steps)
    )


def strip(line: str) -> str:
    """A log line without its `[<operationId>] PACKER OUT|ERR <timestamp> packer: ` prefix."""
    return _PREFIX.sub("", line.rstrip())


def diagnose(
    log: str | None,
    run_message: str,
    customizers: Sequence[Customizer] = (),
    log_note: str | None = None,
) -> Diagnosis:
    """The cause of a failed run from its log (None when it could not be read: `log_note` says why) and its
    `lastRunStatus.message` / operation error."""
    lines = [strip(raw) for raw in (log or "").splitlines() if raw.strip()]
    text = "\n".join(lines)
    both = text + "\n" + (run_message or "")
    step_index, step_lines = _failing_step(lines)
    customizer = _name(step_index, customizers, lines)
    excerpt = _excerpt(step_lines or _from_first_error(lines))
    base = {"customizer": customizer, "excerpt": excerpt, "log_note": log_note if log is None else None}

    appx = _APPX.search(text)
    if appx or "AppxSysprep.dll" in text or "0x80073cf2" in text:
        package = appx.group(1) if appx else "<PackageFullName>"
        return Diagnosis(
            "sysprep-appx",
            f"Sysprep could not generalise: the Store app {package} was installed for a user, but not "
            "provisioned for all users",
            hint=(
                f"remove the app before generalising, in a PowerShell step before the end: "
                f"`Get-AppxPackage -AllUsers {package.split('_')[0]} | Remove-AppxPackage -AllUsers` and "
                f"`Remove-AppxProvisionedPackage -Online -PackageName {package}` (or keep the Store from "
                f"updating apps during the build); Sysprep's own errors are in {SETUPERR} on the build VM"
            ),
            exit_code=_exit_code(text),
            details={"package": package},
            **base,
        )
    checksum = re.search(
        r"(?:checksum|sha256)[^\n]*(?:mismatch|does not match|verification failed)", text, re.I
    )
    if checksum:
        return Diagnosis(
            "checksum-mismatch",
            "a downloaded file's sha256 does not match its sha256Checksum",
            hint="the file at the URI changed (or the checksum is wrong): compute it again with "
            "`Get-FileHash -Algorithm SHA256` (sha256sum) and update sha256Checksum, or pin the file's version",
            **base,
        )
    arm = re.search(r"ERROR: -> (\w+) : (.*)", text)
    code = arm.group(1) if arm else ""
    if (
        code in ("OperationNotAllowed", "QuotaExceeded") and "quota" in both.lower()
    ) or "exceeding approved" in both:
        return Diagnosis(
            "quota",
            "the build VM exceeds the subscription's vCPU quota in its region",
            hint="ask for a quota increase for the VM family in that region, or choose a smaller spec.vmSize",
            details={"error": arm.group(2) if arm else ""},
            **base,
        )
    if code == "SkuNotAvailable" or "SkuNotAvailable" in both:
        return Diagnosis(
            "sku-not-available",
            "the build VM size is not available in the build region",
            hint="choose another spec.vmSize (check `az vm list-skus --location <region> --size <size>`), or "
            "build in another region",
            **base,
        )
    if re.search(r"\b(?:Zonal)?AllocationFailed\b|OverconstrainedAllocationRequest", both):
        return Diagnosis(
            "allocation-failed",
            "Azure had no capacity for the build VM",
            hint="transient: running the build again usually succeeds; if it persists, choose another spec.vmSize",
            transient=True,
            **base,
        )
    if "Timeout waiting for machine to restart" in text or "Timeout waiting for restart" in text:
        return Diagnosis(
            "windows-update-timeout",
            "the build VM did not come back from a restart in time (Windows Update or a WindowsRestart step)",
            hint="Windows Update exhausts small VMs: use a bigger spec.vmSize; raise the WindowsRestart step's "
            "restartTimeout; check that no step changed WinRM or the firewall",
            **base,
        )
    if "context deadline exceeded" in both or "Timeout waiting for microservice" in both:
        stuck = "IMAGE_STATE_COMPLETE" in text and customizer and customizer.startswith("deprovision")
        hint = (
            "the run exceeded spec.buildTimeout (Image Builder's default is 4h): raise it, and look for a step "
            "waiting for input, a File download over 20 MB, or a VM too small for the work"
        )
        if stuck:
            hint += f"; Sysprep never finished: look for a Store app provisioned for one user in {SETUPERR}"
        return Diagnosis("build-timeout", "the build ran out of its buildTimeout", hint=hint, **base)
    exited = _EXIT.search(text)
    if exited:
        exit_code = int(exited.group(2))
        allowed = exited.group(3) or _allowed(step_index, customizers)
        windows = not any(c.type.lower() == "shell" for c in customizers)
        reboot = " (3010: success, a restart is needed)" if windows else ""
        return Diagnosis(
            "script-exit-code",
            f"the script exited with {exit_code}, not one of validExitCodes {allowed}",
            hint=f"fix the script (its output is in the excerpt), or add {exit_code} to the step's "
            f"validExitCodes if it means success{reboot}",
            exit_code=exit_code,
            **base,
        )
    if re.search(r"InternalServerError|InternalOperationError|Internal error occurred", both):
        return Diagnosis(
            "internal-error",
            "Image Builder reported an internal error",
            hint="transient: running the build again usually succeeds; a repeated one on template creation means "
            "the build identity lacks a permission (source image, gallery, script storage)",
            transient=True,
            **base,
        )
    errors = [line for line in lines if _ERRORISH.search(line)][-MAX_EXCERPT:]
    summary = strip(run_message or "").split(". ")[0] or "the run failed"
    return Diagnosis("unknown", summary, **{**base, "excerpt": tuple(errors) or excerpt})


def _failing_step(lines: list[str]) -> tuple[int | None, list[str]]:
    """(1-based index of the last provisioner started and not ended, its lines to the end); (None, [])
    when the failure came before any customizer (the build VM's deployment) or after the last one ended."""
    starts = [i for i, line in enumerate(lines) if _START.search(line)]
    if not starts:
        return None, []
    last = starts[-1]
    if any(_END.search(line) for line in lines[last:]):
        return None, []
    return len(starts), lines[last:]


def _name(index: int | None, customizers: Sequence[Customizer], lines: list[str]) -> str | None:
    if index is None:
        return None
    if index <= len(customizers):
        return customizers[index - 1].name
    if customizers and index == len(customizers) + 1:
        linux = any("DeprovisioningScript.sh" in line or "waagent" in line for line in lines)
        return "deprovision (waagent)" if linux else "deprovision (Sysprep)"
    return f"provisioner {index}"


def _allowed(index: int | None, customizers: Sequence[Customizer]) -> str:
    if index is not None and index <= len(customizers):
        return str(list(customizers[index - 1].valid_exit_codes))
    return "[0]"


def _exit_code(text: str) -> int | None:
    exited = _EXIT.search(text)
    return int(exited.group(2)) if exited else None


def _from_first_error(lines: list[str]) -> list[str]:
    """A failure outside the customizers (the build VM's deployment): from two lines before the first error."""
    first = next((i for i, line in enumerate(lines) if _ERRORISH.search(line)), 0)
    return lines[max(first - 2, 0) :]


def _excerpt(lines: list[str]) -> tuple[str, ...]:
    """The last lines that matter: the failing step's, without Packer's closing summary (it repeats the
    error), at most MAX_EXCERPT."""
    kept = [line for line in lines if not line.startswith(_BOILERPLATE) and not line.startswith("--> ")]
    return tuple(kept[-MAX_EXCERPT:])
