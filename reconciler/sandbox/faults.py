"""Fault injection rules: method + path regex -> an error response (or a failed LRO), by count or probability.

Rule fields: method ("*" or a verb), path (regex, searched case-insensitively in the request path), status,
code, message, count (how many times; null = unlimited), probability (0..1, default 1), delay (real seconds to
wait before answering), retry_after (header value; 429/503 rules get "0.01" unless given), kind ("response"
answers with the error instead of routing; "lro" lets the request through and makes the operation it starts end
Failed with the code; "build" makes the Image Builder run it matches fail the way `cause` says, writing the
customization.log of such a failure when the sandbox has a Blob service: see providers/packer_log.py for the
causes and the optional `customizer` (its name), `exit_code`, `package` (the Appx package) and
`actual_checksum`).

Two kinds script what happens inside a VM rather than at the front door, so they match no method or path:
- "run_command": the outcome of a managed Run Command whose name (`name`, a glob), inline script
  (`script_sha256`, hex of the UTF-8 text) or `script_uri` (a glob) matches, all given ones must; outcome
  `exit_code` (0), `output`, `error` (stderr text), `duration` (sandbox seconds) or `hang` (runs until its
  timeoutInSeconds). Read when the run starts (providers/run_command_outcome.py).
- "health_check": a session host's AVD health check `check` (e.g. FSLogixHealthCheck) reported failed, on
  hosts whose name (`host`, a glob on the FQDN or its first label) and pool (`pool`, a glob) match; optional
  `message`, `error_code` (int) and `result` (HealthCheckFailed). `agent_version` instead of (or with) `check`
  makes those hosts report that agent version. Read when the host reports (providers/avd_health.py).
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import re
from collections.abc import Callable
from typing import Any

from .providers.avd_health import HEALTH_CHECKS
from .providers.packer_log import FAULT_CAUSES
from .seed import read_data_file

BUILD_FIELDS = ("cause", "customizer", "exit_code", "package", "actual_checksum")
RUN_COMMAND_FIELDS = ("name", "script_sha256", "script_uri", "output", "error", "duration", "hang")
HEALTH_FIELDS = ("check", "host", "pool", "error_code", "result", "agent_version")
KINDS = ("response", "lro", "build", "run_command", "health_check")

_ids = itertools.count(1)


def load_rules(path: str) -> list[dict[str, Any]]:
    data = read_data_file(path)
    if isinstance(data, dict):
        data = data.get("faults", data.get("rules", [data]))
    return list(data or [])


class Faults:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rules: list[dict[str, Any]] = []

    def add(self, rule: dict[str, Any]) -> dict[str, Any]:
        allowed = {
            "method",
            "path",
            "status",
            "code",
            "message",
            "count",
            "probability",
            "delay",
            "retry_after",
            "kind",
            "headers",
            "id",
            *BUILD_FIELDS,
            *RUN_COMMAND_FIELDS,
            *HEALTH_FIELDS,
        }
        unknown = set(rule) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        r = {
            "id": rule.get("id") or f"f{next(_ids)}",
            "method": str(rule.get("method", "*")).upper(),
            "path": rule.get("path", ".*"),
            "status": int(rule.get("status", 500)),
            "code": rule.get("code", "InternalServerError"),
            "message": rule.get("message", "Injected fault."),
            "count": rule.get("count"),
            "probability": float(rule.get("probability", 1.0)),
            "delay": float(rule.get("delay", 0.0)),
            "retry_after": rule.get("retry_after"),
            "kind": rule.get("kind", "response"),
            "headers": dict(rule.get("headers") or {}),
            "hits": 0,
            **{k: rule[k] for k in (*BUILD_FIELDS, *RUN_COMMAND_FIELDS, *HEALTH_FIELDS) if k in rule},
        }
        if r["kind"] not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(repr(k) for k in KINDS)}")
        if r["kind"] == "build" and r.get("cause") not in FAULT_CAUSES:
            raise ValueError(f"a build fault needs a cause, one of {', '.join(FAULT_CAUSES)}")
        if r["kind"] == "run_command":
            check_run_command_rule(r)
        if r["kind"] == "health_check":
            check_health_rule(r)
            if "message" not in rule:
                r["message"] = None  # the check's own failure text (providers/avd_health.py)
        re.compile(r["path"])
        if r["retry_after"] is None and r["status"] in (429, 503) and r["kind"] == "response":
            r["retry_after"] = "0.01"
        self.rules.append(r)
        return r

    def match(self, method: str, path: str, kind: str = "response") -> dict[str, Any] | None:
        for r in self.rules:
            if r["kind"] != kind or r["count"] == 0:
                continue
            if r["method"] not in ("*", method) or not re.search(r["path"], path, re.IGNORECASE):
                continue
            if self._fires(r):
                return r
        return None

    def _fires(self, r: dict[str, Any]) -> bool:
        """A matching rule's dice roll; when it fires, one of its `count` is spent and the hit counted."""
        if r["probability"] < 1.0 and self.rng.random() >= r["probability"]:
            return False
        if r["count"] is not None:
            r["count"] -= 1
        r["hits"] += 1
        return True

    def match_inside(self, kind: str, matches: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every live rule of an in-VM `kind` that `matches`, each counted as hit (several health checks of one
        host can fail at once; a run command takes the first)."""
        hits = []
        for r in self.rules:
            if r["kind"] != kind or r["count"] == 0 or not matches(r):
                continue
            if self._fires(r):
                hits.append(r)
        return hits

    def clear(self) -> None:
        self.rules.clear()


def glob_match(pattern: str | None, *values: str | None) -> bool:
    """No pattern matches everything; otherwise a case-insensitive glob on any of the values."""
    if pattern is None:
        return True
    return any(v is not None and fnmatch.fnmatchcase(v.lower(), str(pattern).lower()) for v in values)


def check_run_command_rule(r: dict[str, Any]) -> None:
    if not any(k in r for k in ("name", "script_sha256", "script_uri")):
        raise ValueError("a run_command fault needs name, script_sha256 or script_uri to match")
    if "exit_code" in r and not isinstance(r["exit_code"], int):
        raise ValueError("exit_code must be an integer")
    if "duration" in r and (not isinstance(r["duration"], int | float) or r["duration"] < 0):
        raise ValueError("duration must be a number of sandbox seconds >= 0")
    if "script_sha256" in r and not re.fullmatch(r"[0-9a-fA-F]{64}", str(r["script_sha256"])):
        raise ValueError("script_sha256 must be 64 hex characters")


def check_health_rule(r: dict[str, Any]) -> None:
    if "check" not in r and "agent_version" not in r:
        raise ValueError("a health_check fault needs check (a health check name) or agent_version")
    if "check" in r and r["check"] not in HEALTH_CHECKS:
        raise ValueError(f"unknown health check {r['check']!r}; one of {', '.join(HEALTH_CHECKS)}")
    if "error_code" in r and not isinstance(r["error_code"], int):
        raise ValueError("error_code must be an integer")
    if r.get("result", "HealthCheckFailed") not in ("HealthCheckFailed", "Unknown", "SessionHostShutdown"):
        raise ValueError("result must be HealthCheckFailed, Unknown or SessionHostShutdown")
