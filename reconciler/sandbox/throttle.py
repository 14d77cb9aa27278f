"""ARM's and Compute's request limits, off by default (`throttle`).

ARM (limits.md A1): per-subscription, per-principal token buckets for reads, writes and deletes. They refill on
the sandbox clock, so a faster clock also means more headroom per real second; Retry-After is the real time until
one token is back, as a fraction when that is under a second. Compute paths answer 429 with the CRP body (code
OperationNotAllowed, details TooManyRequests), everything else with ARM's TooManyRequests.

Compute (limits.md A2): behind ARM, CRP counts each write against named policies in a 3-minute and a 30-minute
window and reports what is left in `x-ms-ratelimit-remaining-resource`, all windows in one header as
`Microsoft.Compute/PutVM3Min;239,Microsoft.Compute/PutVM30Min;1199` (the shape logged in
Azure/azure-libraries-for-java#1252 for disks; one policy per header in the troubleshooting doc's example, which
HTTP allows to be joined by commas). A spent window answers 429 OperationNotAllowed with the doc's details and
a Retry-After until the window ends: minutes, up to the 1200 s seen in Azure/azure-rest-api-specs#270. Windows
run on the sandbox clock; Retry-After is real seconds, like the ARM buckets'.
"""

from __future__ import annotations

import json
from typing import Any

from .clock import SandboxClock, iso
from .errors import ArmError

CLASSES = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}

THROTTLED = (
    "The server rejected the request because too many requests have been received for this subscription."
)

# Policy -> requests allowed per window (sandbox seconds). PutVM's pair is the brief's header; the disk pair is
# the one logged in azure-libraries-for-java#1252. Gallery policy names and limits are not published (limits.md
# A2: "treat them as unknown CRP policies"), so they get a VM-sized pair under a descriptive name.
COMPUTE_POLICIES: dict[str, dict[str, tuple[float, int]]] = {
    "PutVM": {"3Min": (180.0, 240), "30Min": (1800.0, 1200)},
    "UpdateVM": {"3Min": (180.0, 240), "30Min": (1800.0, 1200)},
    "DeleteVM": {"3Min": (180.0, 240), "30Min": (1800.0, 1200)},
    "CreateUpdateDisks": {"3Min": (180.0, 1000), "30Min": (1800.0, 8000)},
    "DeleteDisks": {"3Min": (180.0, 1000), "30Min": (1800.0, 8000)},
    "CreateUpdateGalleryResources": {"3Min": (180.0, 240), "30Min": (1800.0, 1200)},
    "DeleteGalleryResources": {"3Min": (180.0, 240), "30Min": (1800.0, 1200)},
}


def retry_after(real_seconds: float) -> str:
    """Whole seconds as Azure sends them; fractions below 10 s so a fast sandbox clock is not slowed to 1 s."""
    wait = max(real_seconds, 0.001)
    return f"{wait:.3f}" if wait < 10 else str(int(wait + 0.999))


def compute_policy(method: str, path: str) -> str | None:
    """The CRP policy a write is counted against; None for reads and anything outside Microsoft.Compute."""
    if method in ("GET", "HEAD"):
        return None
    low = path.lower().split("?", 1)[0]
    marker = "/providers/microsoft.compute/"
    if marker not in low:
        return None
    rest = low.split(marker, 1)[1].split("/")
    kind = rest[0]
    deleting = method == "DELETE"
    if kind == "virtualmachines":
        if (
            len(rest) > 2
        ):  # extensions, actions (start, deallocate, runCommand...) update the VM (limits.md A2)
            return "DeleteVM" if rest[2] in ("deallocate", "simulateeviction") else "UpdateVM"
        return {"PUT": "PutVM", "DELETE": "DeleteVM"}.get(method, "UpdateVM")
    if kind == "disks":
        return "DeleteDisks" if deleting else "CreateUpdateDisks"
    if kind == "galleries":
        return "DeleteGalleryResources" if deleting else "CreateUpdateGalleryResources"
    return None


class Throttle:
    def __init__(self, clock: SandboxClock, config: Any) -> None:
        self.clock = clock
        self.config = config
        self.buckets: dict[tuple[str, str, str], list[float]] = {}
        # A test narrows these to reach a window's end without thousands of requests.
        self.compute_policies = {name: dict(windows) for name, windows in COMPUTE_POLICIES.items()}
        self.windows: dict[tuple[str, str, str], list[float]] = {}  # (sub, policy, window) -> [start, count]

    def _limits(self, cls: str) -> tuple[float, float]:
        return {"reads": self.config.read_bucket, "writes": self.config.write_bucket}.get(
            cls, self.config.delete_bucket
        )

    def take(self, sub: str, principal: str, method: str, path: str) -> dict[str, str]:
        """Spend one token; return the remaining-quota header, or raise a 429 ArmError."""
        cls = CLASSES.get(method, "writes")
        capacity, refill = self._limits(cls)
        key = (sub.lower(), principal, cls)
        now = self.clock.now_ts()
        tokens, last = self.buckets.get(key, [capacity, now])
        tokens = min(capacity, tokens + max(0.0, now - last) * refill)
        header = f"x-ms-ratelimit-remaining-subscription-{cls}"
        if tokens < 1.0:
            self.buckets[key] = [tokens, now]
            wait = self.clock.real_seconds((1.0 - tokens) / refill)
            wait = 1.0 if wait == float("inf") else wait
            headers = {"Retry-After": retry_after(wait), header: "0"}
            message = THROTTLED
            if "/providers/microsoft.compute/" in path.lower():
                details = [
                    {
                        "code": "TooManyRequests",
                        "target": f"Subscription{cls.capitalize()}",
                        "message": f'{{"operationGroup":"Subscription{cls.capitalize()}","allowedRequestCount":{int(capacity)}}}',
                    }
                ]
                raise ArmError(429, "OperationNotAllowed", message, None, details, headers)
            raise ArmError(429, "TooManyRequests", message, None, None, headers)
        tokens -= 1.0
        self.buckets[key] = [tokens, now]
        headers = {header: str(int(tokens))}
        policy = compute_policy(method, path)
        if policy is not None:
            headers.update(self._take_compute(sub, policy, now))
        return headers

    def _take_compute(self, sub: str, policy: str, now: float) -> dict[str, str]:
        """Count one request in every window of `policy`; a full window refuses it without counting it."""
        spans = self.compute_policies[policy]
        states = []
        for window, (seconds, allowed) in spans.items():
            key = (sub.lower(), policy, window)
            state = self.windows.get(key)
            if state is None or now >= state[0] + seconds:
                state = self.windows[key] = [now, 0]
            states.append((f"{policy}{window}", seconds, allowed, state))
        full = [s for s in states if s[3][1] >= s[2]]
        if full:
            group, seconds, allowed, (start, count) = max(full, key=lambda s: s[3][0] + s[1])
            left = start + seconds - now
            wait = self.clock.real_seconds(left)
            wait = left if wait == float("inf") else wait  # a frozen clock moves only when a test advances it
            detail = {
                "operationGroup": group,
                "startTime": iso(start),
                "endTime": iso(start + seconds),
                "allowedRequestCount": allowed,
                "measuredRequestCount": int(count) + 1,
            }
            remaining = ",".join(f"Microsoft.Compute/{g};{max(0, a - int(st[1]))}" for g, _, a, st in states)
            raise ArmError(
                429,
                "OperationNotAllowed",
                THROTTLED,
                None,
                [
                    {
                        "code": "TooManyRequests",
                        "target": group,
                        "message": json.dumps(detail, separators=(",", ":")),
                    }
                ],
                {"Retry-After": retry_after(wait), "x-ms-ratelimit-remaining-resource": remaining},
            )
        for state in states:
            state[3][1] += 1
        remaining = ",".join(f"Microsoft.Compute/{g};{a - int(st[1])}" for g, _, a, st in states)
        return {"x-ms-ratelimit-remaining-resource": remaining, "x-ms-request-charge": "1"}

    def clear(self) -> None:
        self.buckets.clear()
        self.windows.clear()
