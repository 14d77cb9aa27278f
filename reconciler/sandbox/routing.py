"""Request/response values and ARM path parsing (case-insensitive, duplicate slashes collapsed)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ArmError


@dataclass
class Request:
    method: str
    path: str  # collapsed, original casing, no query
    query: dict[str, str]  # keys lower-cased
    headers: dict[str, str]  # keys lower-cased
    raw_body: bytes
    base: str  # https://host:port from the Host header
    caller: str = "unknown"

    @property
    def segments(self) -> list[str]:
        return [p for p in self.path.split("/") if p]

    def json(self) -> Any:
        if not self.raw_body:
            return None
        try:
            return json.loads(self.raw_body)
        except ValueError as exc:
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: {exc}") from exc

    def flag(self, name: str) -> bool:
        return self.query.get(name.lower(), "").lower() == "true"

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def make_request(method: str, target: str, headers: dict[str, str], body: bytes, scheme_host: str) -> Request:
    split = urlsplit(target)
    path = re.sub(r"/{2,}", "/", split.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query: dict[str, str] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        query[key.lower()] = value
    return Request(method.upper(), path, query, {k.lower(): v for k, v in headers.items()}, body, scheme_host)


@dataclass
class ArmPath:
    """`/subscriptions/{s}[/resourceGroups/{rg}][/providers/{ns}/{rest...}]`."""

    sub: str | None = None
    rg: str | None = None
    ns: str | None = None
    rest: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)  # segments after the rg when they are not providers/...

    def scope(self) -> str:
        s = f"/subscriptions/{self.sub}"
        if self.rg is not None:
            s += f"/resourceGroups/{self.rg}"
        return s

    def full_type(self, rest: list[str] | None = None) -> str:
        rest = self.rest if rest is None else rest
        return "/".join([self.ns or ""] + rest[0::2])

    def resource_id(self, rest: list[str] | None = None) -> str:
        rest = self.rest if rest is None else rest
        return f"{self.scope()}/providers/{self.ns}/" + "/".join(rest)


def parse_arm_path(segments: list[str]) -> ArmPath | None:
    low = [s.lower() for s in segments]
    if not low or low[0] != "subscriptions":
        return None
    p = ArmPath()
    if len(segments) >= 2:
        p.sub = segments[1]
    i = 2
    if len(low) > i + 1 and low[i] == "resourcegroups":
        p.rg = segments[i + 1]
        i += 2
    if len(low) > i + 1 and low[i] == "providers":
        p.ns = segments[i + 1]
        p.rest = segments[i + 2 :]
    else:
        p.tail = segments[i:]
    return p


def split_id(rid: str) -> tuple[str, list[str]]:
    """Return (parent id, [type, name]) of an id's last pair."""
    parts = rid.rstrip("/").split("/")
    return "/".join(parts[:-2]), parts[-2:]


def norm_region(name: str | None) -> str:
    return (name or "").replace(" ", "").lower()
