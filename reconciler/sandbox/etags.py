"""ETags and conditional writes (If-Match / If-None-Match) for the resource types whose Azure REST spec carries
`etag` in the body. Sources and the observed error bodies: tests/fixtures/etag.md.

Each resource provider spells its ETags its own way, and the clients send back what they read, so the style is
per type: Compute counts model versions ("1", "2", ...), Network sends a weak W/"<guid>", DesktopVirtualization
an opaque quoted guid. Types without an etag in their spec (galleries, definitions, versions, disks, templates)
get none and ignore the headers, as their services do.
"""

from __future__ import annotations

import uuid
from typing import Any

from .errors import ArmError
from .routing import Request

COUNTER, WEAK_GUID, GUID = "counter", "weak-guid", "guid"

ETAG_STYLE = {
    "microsoft.compute/virtualmachines": COUNTER,
    "microsoft.network/networkinterfaces": WEAK_GUID,
    "microsoft.network/virtualnetworks": WEAK_GUID,
    "microsoft.desktopvirtualization/hostpools": GUID,
}


def carries_etag(kind: str) -> bool:
    return kind in ETAG_STYLE


def stamp(kind: str, res: dict[str, Any], at: float) -> None:
    """Give `res` the etag of a new version of itself: every accepted write changes it. Derived from the id,
    the previous etag and the sandbox time (not the app's random stream, which the failure shares draw from)."""
    style = ETAG_STYLE.get(kind)
    if style is None:
        return
    if style == COUNTER:
        previous = str(res.get("etag") or '"0"').strip('"')
        res["etag"] = f'"{int(previous) + 1 if previous.isdigit() else 1}"'
        return
    guid = uuid.uuid5(uuid.NAMESPACE_URL, f"{res['id'].lower()}|{res.get('etag')}|{at!r}")
    res["etag"] = f'W/"{guid}"' if style == WEAK_GUID else f'"{guid}"'


def stamp_if_missing(kind: str, res: dict[str, Any], at: float) -> None:
    """Seeded resources come without an etag; Azure never serves one of these types without it."""
    if "etag" not in res:
        stamp(kind, res, at)


def header(kind: str, res: dict[str, Any] | None) -> dict[str, str]:
    if res is None or not carries_etag(kind) or not res.get("etag"):
        return {}
    return {"ETag": res["etag"]}


def check(req: Request, kind: str, existing: dict[str, Any] | None) -> None:
    """412 PreconditionFailed when the request's If-Match / If-None-Match does not hold for `existing`."""
    if not carries_etag(kind):
        return
    if_match = req.headers.get("if-match")
    if_none_match = req.headers.get("if-none-match")
    current = (existing or {}).get("etag")
    if if_match is not None and not _holds(if_match, current):
        raise _refusal(kind, existing, "if-match", if_match, current)
    if if_none_match is not None and existing is not None and _holds(if_none_match, current):
        raise _refusal(kind, existing, "if-none-match", if_none_match, current)


def _holds(condition: str, current: str | None) -> bool:
    """RFC 9110 13.1.1: `*` matches any current representation; otherwise one of the listed tags must be the
    resource's. The comparison is exact: ARM compares the strings it handed out, W/ prefix and quotes included."""
    if current is None:
        return False
    tags = [t.strip() for t in condition.split(",") if t.strip()]
    return "*" in tags or current in tags


def _refusal(kind: str, res: dict[str, Any] | None, header_name: str, sent: str, current: str | None):
    rid = (res or {}).get("id", "")
    if current is None:
        message = f"Etag provided in {header_name} header {sent} does not match: the resource does not exist."
    elif header_name == "if-none-match":
        message = f"Etag provided in {header_name} header {sent} matches etag {current} of resource."
    else:
        message = f"Etag provided in {header_name} header {sent} does not match etag {current} of resource."
    if kind.startswith("microsoft.network/"):
        # NRP wraps the reason in details (kubernetes-sigs/cloud-provider-azure#9729).
        detail = {
            "code": "PreconditionFailedEtagMismatch",
            "message": f"{message[:-1]} {rid} in NRP data store.",
        }
        return ArmError(412, "PreconditionFailed", "Precondition failed.", details=[detail])
    return ArmError(412, "PreconditionFailed", message)
