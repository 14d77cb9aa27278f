"""What one ARM call is, as the meter counts and paces it: its operation ("list Microsoft.Compute/galleries")
and bucket kind (reads, writes, deletes) from method and path, its subscription, and what its response headers
say (the server's `Date`, Compute's per-policy budgets in `x-ms-ratelimit-remaining-resource`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
_WINDOW = re.compile(r"(\d+)(Sec|Min|Hour)s?$", re.IGNORECASE)


def operation_of(method: str, path: str) -> tuple[str, str]:
    """("list" | "get" | "put" | "poll" | ..., "<Namespace>/<type>/<childtype>") for an ARM request path.

    A path whose part after the last provider namespace has an odd number of segments is a collection (GET)
    or an action (POST); an even number names one resource."""
    parts = [p for p in path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        verb = "list" if method.upper() == "GET" and len(parts) % 2 == 1 else method.lower()
        return verb, "/".join(lowered[2:4:2]) or "subscription"
    at = len(lowered) - 1 - lowered[::-1].index("providers")
    namespace, rest = parts[at + 1] if at + 1 < len(parts) else "", parts[at + 2 :]
    types = rest[0::2]
    if (
        len(types) >= 2
        and types[0].lower() == "locations"
        and types[1].lower() in ("operations", "capsoperations", "operationresults")
    ):
        return "poll", f"{namespace}/{types[1]}"
    method = method.upper()
    if len(rest) % 2 == 1:
        verb = "list" if method == "GET" else "post"
        if method == "POST":
            return "post", f"{namespace}/{'/'.join(types[:-1])}/{rest[-1]}"
        return verb, f"{namespace}/{'/'.join(types)}"
    return {"GET": "get", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower()), (
        f"{namespace}/{'/'.join(types)}"
    )


def kind_of(method: str) -> str:
    method = method.upper()
    return "reads" if method in ("GET", "HEAD") else "deletes" if method == "DELETE" else "writes"


def server_time(headers) -> datetime | None:
    """The server's clock from a response's HTTP `Date` (whole seconds)."""
    date = headers.get("Date")
    if date:
        try:
            return parsedate_to_datetime(date).astimezone(UTC)
        except (TypeError, ValueError):
            return None
    return None


def crp_budgets(header: str | None) -> list[tuple[str, int]]:
    """ "Microsoft.Compute/HighCostGet3Min;107,Microsoft.Compute/HighCostGet30Min;827" -> [(policy, n), ...]."""
    out = []
    for part in (header or "").split(","):
        name, _, count = part.strip().rpartition(";")
        if name and count.strip().isdigit():
            out.append((name.split("/")[-1], int(count)))
    return out


def window_seconds(policy: str) -> float:
    """The window a CRP policy name ends with ("PutVM3Min" -> 180 s; unknown: a minute)."""
    match = _WINDOW.search(policy)
    if not match:
        return 60.0
    return float(match.group(1)) * {"sec": 1, "min": 60, "hour": 3600}[match.group(2).lower()]


def subscription_of(path: str) -> str:
    match = _SUBSCRIPTION.match(path)
    return match.group(1).lower() if match else ""
