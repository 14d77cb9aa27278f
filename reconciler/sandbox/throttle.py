"""Per-subscription, per-principal token buckets for reads, writes and deletes (limits.md A1), off by default.

Buckets refill on the sandbox clock, so a faster clock also means more headroom per real second; Retry-After is
the real time until one token is back, as a fraction when that is under a second. Compute paths answer 429 with
the CRP body (code OperationNotAllowed, details TooManyRequests), everything else with ARM's TooManyRequests.
"""

from __future__ import annotations

from typing import Any

from .clock import SandboxClock
from .errors import ArmError

CLASSES = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}


class Throttle:
    def __init__(self, clock: SandboxClock, config: Any) -> None:
        self.clock = clock
        self.config = config
        self.buckets: dict[tuple[str, str, str], list[float]] = {}

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
            wait = 1.0 if wait == float("inf") else max(wait, 0.001)
            retry = f"{wait:.3f}" if wait < 10 else str(int(wait + 0.999))
            headers = {"Retry-After": retry, header: "0"}
            message = "The server rejected the request because too many requests have been received for this subscription."
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
        return {header: str(int(tokens))}

    def clear(self) -> None:
        self.buckets.clear()
