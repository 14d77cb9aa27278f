"""Fault injection rules: method + path regex -> an error response (or a failed LRO), by count or probability.

Rule fields: method ("*" or a verb), path (regex, searched case-insensitively in the request path), status,
code, message, count (how many times; null = unlimited), probability (0..1, default 1), delay (real seconds to
wait before answering), retry_after (header value; 429/503 rules get "0.01" unless given), kind ("response"
answers with the error instead of routing; "lro" lets the request through and makes the operation it starts end
Failed with the code; "build" makes the Image Builder run it matches fail the way `cause` says, writing the
customization.log of such a failure when the sandbox has a Blob service: see providers/packer_log.py for the
causes and the optional `customizer` (its name), `exit_code`, `package` (the Appx package) and
`actual_checksum`).
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

from .providers.packer_log import FAULT_CAUSES
from .seed import read_data_file

BUILD_FIELDS = ("cause", "customizer", "exit_code", "package", "actual_checksum")

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
            **{k: rule[k] for k in BUILD_FIELDS if k in rule},
        }
        if r["kind"] not in ("response", "lro", "build"):
            raise ValueError("fault kind must be 'response', 'lro' or 'build'")
        if r["kind"] == "build" and r.get("cause") not in FAULT_CAUSES:
            raise ValueError(f"a build fault needs a cause, one of {', '.join(FAULT_CAUSES)}")
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
            if r["probability"] < 1.0 and self.rng.random() >= r["probability"]:
                continue
            if r["count"] is not None:
                r["count"] -= 1
            r["hits"] += 1
            return r
        return None

    def clear(self) -> None:
        self.rules.clear()
