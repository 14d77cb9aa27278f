"""The fault campaign (issue 12): desired/ applied (as shipped but for its acceptance suite), then a five-pool
rollout, by `reconcile apply --wait none` passes (in process, or child processes SIGKILLed along the way;
support.fault_passes) against a sandbox answering about 10 % of ARM requests with the faults Azure really
sends. What the sandbox saw (its audit and invariants) is judged afterwards.

The sandbox clock is frozen: it moves only between passes, by the test, to the earliest moment a pass said it
resumes (at least support.fault_passes.STEP). A pass does what is ready and hands every wait back, so no
sandbox time passes while a pass runs however slow the machine is: a loaded machine changes how long the
campaign takes, never what the reconciler sees (with the clock running, a starved apply saw hours of sandbox
time go by between two of its own requests). Kills land after a seeded number of answered requests (counted
by the sandbox), not after a wall-clock delay.
"""

from __future__ import annotations

import math
import re
import shutil
from datetime import datetime
from pathlib import Path

from reconciler.sandbox import Sandbox
from reconciler.spec import load_desired

SHIPPED = Path(__file__).resolve().parents[2] / "desired"
ARM = r"^/subscriptions/"
# Compute's throttle as CRP sends it (azure-surface.md 2.6; the Compute throttling troubleshooting guide).
CRP_THROTTLE = (
    "The server rejected the request because too many requests have been received for this subscription."
)
EXPIRED = (
    "The access token expiry UTC time '12/3/2026 10:00:00 PM' is earlier than current UTC time "
    "'12/3/2026 10:05:00 PM'."
)
CHALLENGE = (
    'Bearer authorization_uri="https://login.microsoftonline.com/tenant", error="invalid_token", '
    'error_description="The access token has expired."'
)

CLINICAL_160 = """
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {name: 1.6.0}
spec:
  definition: win11-24h2-m365-clinical
  source: {build: clinical-win11-m365}
  targetRegions: [{name: westeurope, replicaCount: 2}, {name: northeurope}]
  storageAccountType: Standard_ZRS
"""
CORP_2026_12 = """
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {name: 2026.12.1}
spec:
  definition: win11-24h2-corp
  source: {build: corp-win11-monthly}
  targetRegions: [{name: westeurope, replicaCount: 2}, {name: northeurope, replicaCount: 1}]
"""


def campaign_desired(root: Path, *, rolled: bool = False) -> Path:
    """A copy of desired/, its health timeouts as shipped (no sandbox time passes while a pass runs, so a
    loaded machine cannot make a host late). `rolled`: all five pools move to a new
    version: clinical 1.6.0 (the three clinical pools take `latest`), corporate 2026.12.1 (validation takes
    `latest`, general is pinned to it)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(SHIPPED, root)
    # The campaign is about faults and kills during rollouts, not acceptance (issue 14, tested on its own):
    # without the clinical suite, 1.6.0 reaches production as before.
    clinical = root / "galleries" / "healthcare.yaml"
    clinical.write_text(re.sub(r"\n  acceptance:\n(?:    .*\n)+", "\n", clinical.read_text()))
    if not rolled:
        return root
    with (root / "galleries" / "healthcare.yaml").open("a") as f:
        f.write(CLINICAL_160)
    with (root / "galleries" / "corporate.yaml").open("a") as f:
        f.write(CORP_2026_12)
    pools = root / "pools" / "corporate.yaml"
    text = pools.read_text()
    assert text.count("version: 2026.10.1") == 1
    pools.write_text(text.replace("version: 2026.10.1", "version: 2026.12.1"))
    return root


# A failed session host (its VM create or an extension failed) counts against its pool's failure budget, and
# past the budget the pool halts by design until a person runs `reconcile clear-quarantine`. So VM creates fail
# by count, as many per rollout as each pool's budget allows (hp-clinical-weu 1, hp-corp-general 2; the others
# 0), and failed creates at random hit everything else.
NOT_A_HOST = r"^/subscriptions/(?!.*/virtualMachines/)"
BUDGETED_HOSTS = {
    r"/virtualMachines/avdclnweu-\d+$": 1,
    r"/virtualMachines/avdcorp-\d+(/extensions/[^/]+)?$": 2,
}


def fault_mix() -> list[dict]:
    """About 10 % of ARM requests meet a fault, mixed the way Azure sends them. Probabilities are per matching
    request; writes are a minority of requests, so their rules are denser than the read ones.

    Retry-After is in the client's (real) seconds. Compute's PUT and PATCH throttles say what Compute says
    (20 and 10 minutes): past the connection's 120 s azure-core hands them to the engine, which waits them
    in server time (a pending `throttled` wait the test's clock moves past). The DELETE throttle and the 5xx
    ones are short, so azure-core sits through them itself; on the frozen clock no server time passes meanwhile."""
    rules: list[dict] = [
        # Compute throttles writes with 429 OperationNotAllowed and a Retry-After of up to 20 minutes. No
        # x-ms-ratelimit-remaining-resource: this sandbox (throttle off) sends none on other answers, so an
        # injected "0" would never be refreshed and the meter would pace every Compute write from then on.
        {
            "method": method,
            "path": r"/providers/Microsoft\.Compute/",
            "status": 429,
            "code": "OperationNotAllowed",
            "message": CRP_THROTTLE,
            "retry_after": retry_after,
            "probability": 0.02,
        }
        for method, retry_after in (("PUT", "1200"), ("PATCH", "600"), ("DELETE", "0.08"))
    ]
    rules += [
        # Another operation owns the resource.
        {
            "method": "PUT",
            "path": ARM,
            "status": 409,
            "code": "AnotherOperationInProgress",
            "probability": 0.02,
        },
        {"method": "PATCH", "path": ARM, "status": 409, "code": "OperationNotAllowed", "probability": 0.02},
        # 5xx on anything, reads included. azure-core retries them itself; without a Retry-After it would back
        # off 0.8, 1.6, 3.2 real seconds, so each names a few milliseconds.
        *(
            {
                "method": m,
                "path": ARM,
                "status": st,
                "code": code,
                "probability": pr,
                "retry_after": "0.003",
            }
            for m, st, code, pr in (
                ("*", 503, "ServiceUnavailable", 0.035),
                ("*", 500, "InternalServerError", 0.035),
                ("GET", 502, "BadGateway", 0.02),
            )
        ),
        # Accepted, then the operation fails: the resource shows provisioningState Failed, as ARM does.
        {
            "method": "PUT",
            "path": NOT_A_HOST,
            "kind": "lro",
            "code": "InternalOperationError",
            "probability": 0.03,
        },
        {
            "method": "PATCH",
            "path": ARM,
            "kind": "lro",
            "code": "InternalExecutionError",
            "probability": 0.03,
        },
        {
            "method": "DELETE",
            "path": ARM,
            "kind": "lro",
            "code": "InternalExecutionError",
            "probability": 0.05,
        },
        # A token ARM says has expired (on top of the short lifetimes the sandbox issues).
        {
            "method": "*",
            "path": ARM,
            "status": 401,
            "code": "ExpiredAuthenticationToken",
            "message": EXPIRED,
            "headers": {"WWW-Authenticate": CHALLENGE},
            "probability": 0.002,
        },
    ]
    rules += [
        {
            "method": "PUT",
            "path": path,
            "kind": "lro",
            "code": "AllocationFailed",
            "count": n,
            "probability": 0.2,
        }
        for path, n in BUDGETED_HOSTS.items()
    ]
    return rules


def campaign_sandbox(seed: int) -> Sandbox:
    """The shipped landing zone, the clock frozen; sessions end at once (the clinical pools wait for users
    rather than log them off); a token lasts 10 sandbox minutes; a VM create sees a version 10 minutes after
    its region completed."""
    settings = {
        "seed": seed,
        "session_mean_seconds": 0,
        "token_lifetime_seconds": 600.0,
        "token_min_real_seconds": 305.0,
        "gallery_image_read_lag_seconds": 600.0,
    }
    return Sandbox(time_scale=0, landing_zone=True, settings=settings, page_size=100)


def floors(desired: Path) -> dict[str, tuple[int, int]]:
    """Pool id (lower case) -> (count, capacity floor in hosts), as the rollout policy says."""
    out = {}
    for pool in load_desired(desired).host_pools:
        count = pool.spec.session_hosts.count
        out[pool.arm_id.lower()] = (count, math.ceil(count * pool.spec.rollout.capacity_floor / 100))
    return out


def duplicate_creates(entries: list[dict]) -> list[str]:
    """Ids created (PUT 201) again after a create succeeded, with no DELETE of that id in between."""
    created: set[str] = set()
    dupes = []
    for e in entries:
        rid = e["id"].lower()
        if e["method"] == "DELETE" and e["status"] < 300:
            # A VM's delete takes its extensions with it: children go with their parent.
            created = {c for c in created if c != rid and not c.startswith(rid + "/")}
        elif e["method"] == "PUT" and e["status"] == 201:
            if rid in created:
                dupes.append(rid)
            created.add(rid)
    return dupes


def lowest_since(timeline: list, since: datetime) -> int | None:
    """The lowest Available-and-accepting count in force at any moment from `since` on."""
    points = [(datetime.fromisoformat(t.replace("Z", "+00:00")), v) for t, v in timeline]
    before = [v for t, v in points if t <= since]
    after = [v for t, v in points if t > since]
    values = ([before[-1]] if before else []) + after
    return min(values) if values else None
