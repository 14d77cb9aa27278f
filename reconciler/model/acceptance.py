"""Acceptance of an image version: what its tests found, kept as tags on the version itself.

A version's acceptance result lives on Azure (DESIGN.md: progress on the resources), so any controller
replica resumes it and `plan`, `status`, `/status` and the dashboard read the same thing. The planner reads
these tags (pure); the engine writes them after each test, so a killed apply never runs a passed test twice.

Tag values are at most 256 characters in Azure; every value here is built to fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# On an image version: "<state>|<ISO time>|<VM name>[|<reason>]", the suite's verdict.
ACCEPTANCE_TAG = "avd-reconciler-acceptance"
# On an image version, one per test: "<verdict>|<exit code or ->|<ISO time>|<VM name>".
ACCEPT_TEST_TAG_PREFIX = "avd-reconciler-accept-"
# On an image version that failed: "<test>: exit <code>: <last output lines>", sanitised, at most 240 chars.
ACCEPTANCE_FAILURE_TAG = "avd-reconciler-acceptance-failure"
# The managed run command a test runs as on its VM: idempotent by name, so a resumed apply adopts it.
RUN_COMMAND_PREFIX = "avd-accept-"

TAG_VALUE_LIMIT = 256
FAILURE_EXCERPT_LIMIT = 240
OUTPUT_LIMIT = 4096  # Azure keeps the last 4 KB of a managed run command's output in the instance view

TEST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")  # fits tag and run command names


class AcceptanceState(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    FORCED = "forced"  # a person accepted it (`reconcile accept --force --reason`)


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # ran, and its exit code was not the expected one (or Azure said Failed)
    TIMED_OUT = "timed-out"


def is_accepted(state: AcceptanceState | None) -> bool:
    """Whether a version may go past its validation ring (and into `latest`)."""
    return state in (AcceptanceState.PASSED, AcceptanceState.FORCED)


def _clean_field(value: str) -> str:
    # a separator inside a field would shift every field after it when parsed
    return value.replace("|", "/")


@dataclass(frozen=True)
class Acceptance:
    """The suite's verdict on a version: since when, on which VM, and why (failed or forced)."""

    state: AcceptanceState
    at: str  # ISO time
    host: str  # VM name ("" when none: a force-accept)
    reason: str | None = None

    def to_tag(self) -> str:
        head = f"{self.state.value}|{self.at}|{_clean_field(self.host)}"
        if not self.reason:
            return head
        return f"{head}|{_clean_field(self.reason)}"[:TAG_VALUE_LIMIT]

    @classmethod
    def parse(cls, value: str | None) -> Acceptance | None:
        """None when absent or malformed (a malformed tag is no verdict: the suite runs again)."""
        parts = (value or "").split("|", 3)
        if len(parts) < 3:
            return None
        try:
            state = AcceptanceState(parts[0])
        except ValueError:
            return None
        return cls(state, parts[1], parts[2], parts[3] if len(parts) == 4 and parts[3] else None)


@dataclass(frozen=True)
class Outcome:
    """One test's verdict on a version."""

    verdict: Verdict
    exit_code: int | None
    at: str
    host: str

    def to_tag(self) -> str:
        code = "-" if self.exit_code is None else str(self.exit_code)
        return f"{self.verdict.value}|{code}|{self.at}|{_clean_field(self.host)}"

    @classmethod
    def parse(cls, value: str | None) -> Outcome | None:
        parts = (value or "").split("|")
        if len(parts) != 4:
            return None
        try:
            verdict = Verdict(parts[0])
            code = None if parts[1] == "-" else int(parts[1])
        except ValueError:
            return None
        return cls(verdict, code, parts[2], parts[3])


def outcome_tag(name: str) -> str:
    return ACCEPT_TEST_TAG_PREFIX + name


def run_command_name(test: str) -> str:
    return RUN_COMMAND_PREFIX + test


def acceptance_of(tags: dict[str, str] | None) -> Acceptance | None:
    return Acceptance.parse((tags or {}).get(ACCEPTANCE_TAG))


def outcomes_of(tags: dict[str, str] | None) -> dict[str, Outcome]:
    """Per test name, the verdict recorded on the version (malformed values are left out)."""
    found = {}
    for key, value in (tags or {}).items():
        if key.startswith(ACCEPT_TEST_TAG_PREFIX):
            result = Outcome.parse(value)
            if result is not None:
                found[key[len(ACCEPT_TEST_TAG_PREFIX) :]] = result
    return found


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def sanitize_output(text: str | None, secrets: tuple[str, ...] = (), limit: int = OUTPUT_LIMIT) -> str:
    """A script's output made safe to show: untrusted text from a VM.

    Escape sequences and control characters (bar newline and tab) are stripped, so output cannot rewrite a
    terminal or a log line; every secret passed to the test is masked, longest first, so a script that echoes
    its parameters does not leak them; the LAST `limit` characters are kept (the end says why it failed).
    """
    cleaned = _CONTROL.sub("", _ANSI.sub("", text or "").replace("\r\n", "\n").replace("\r", "\n"))
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        cleaned = cleaned.replace(secret, "***")
    return cleaned[-limit:] if len(cleaned) > limit else cleaned


def failure_excerpt(test: str, exit_code: int | None, output: str, secrets: tuple[str, ...] = ()) -> str:
    """The ACCEPTANCE_FAILURE_TAG value: the test, its exit code and the last lines of its output."""
    how = "timed out" if exit_code is None else f"exit {exit_code}"
    lines = [line.strip() for line in sanitize_output(output, secrets).splitlines() if line.strip()]
    head = f"{test}: {how}"
    tail = " / ".join(lines)
    room = FAILURE_EXCERPT_LIMIT - len(head) - 2
    if not tail or room <= 0:
        return head[:FAILURE_EXCERPT_LIMIT]
    if len(tail) > room:
        tail = "…" + tail[-(room - 1) :]
    return f"{head}: {tail}"


@dataclass(frozen=True)
class HealthCheck:
    """One of a session host's own AVD health checks (`sessionHostHealthCheckResults[]`)."""

    name: str  # healthCheckName, e.g. FSLogixHealthCheck
    result: str  # Unknown | HealthCheckSucceeded | HealthCheckFailed | SessionHostShutdown
    message: str | None = None
    error_code: int | None = None
    at: str | None = None  # lastHealthCheckDateTime

    @property
    def succeeded(self) -> bool:
        return self.result == "HealthCheckSucceeded"


@dataclass(frozen=True)
class AcceptTest:
    """One declared test, as the plan carries it to the engine (a closed shape: the plan is the contract).

    `parameters` are plain (name, value) pairs; `secret_parameters` are (name, Key Vault secret URI) pairs the
    engine resolves at run time and sends as protectedParameters: never in the plan, a tag or a log.
    `run_as_user` None runs as System; else `run_as_password` is the Key Vault secret URI of its password.
    """

    name: str
    inline: str | None = None
    script_uri: str | None = None
    sha256: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    secret_parameters: tuple[tuple[str, str], ...] = ()
    timeout_seconds: int = 600
    expect_exit_code: int = 0
    run_as_user: str | None = None
    run_as_password: str | None = None
    retries: int = 0  # runs again after a failure or timeout, at most this many times
