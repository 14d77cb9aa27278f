"""Azure's waits through `reconcile apply`: a 20-minute Compute throttle, a 409 while another operation runs and
a 503 with Retry-After are handed back as waits (never failures), the write is re-sent only once the service's
Retry-After has passed, and apply then converges. A VM create that first meets GalleryImageNotFound (the
read-after-replication lag) is retried and the pool converges."""

from __future__ import annotations

from datetime import datetime, timedelta

from support.cli import apply_json, drive
from support.estate import seed_estate
from support.rollout import RG_POOLS, SUB, check_invariants, hosts_of, pool_doc, write_desired
from support.sandbox import sandbox_environ, time_scale

from reconciler.spec import load_desired

VERSIONS = {"1.0.0": ["westeurope"]}
GALLERY = r"/galleries/galtest$"
DEFINITION = r"/galleries/galtest/images/win11$"
VERSION = r"/galleries/galtest/images/win11/versions/1\.0\.0$"
POOL = r"/hostPools/hp-t$"
# Compute's throttle as CRP sends it (azure-surface.md 2.6; the Compute throttling troubleshooting guide).
CRP_THROTTLE = (
    "The server rejected the request because too many requests have been received for this subscription."
)


STEP = 60.0
RUNNING_SCALE = 2_000


def _groups(sb) -> None:
    sb.seed(
        [
            {"id": f"/subscriptions/{SUB}/resourceGroups/{rg}", "location": "westeurope"}
            for rg in ("rg-img", RG_POOLS, "rg-net")
        ]
    )


def _passes(sb, root, state, max_passes: int = 80):
    """`apply --wait none` until it succeeds with nothing pending; every pass's (sandbox time, exit, recap).
    Between passes the frozen clock moves to the earliest resume the apply named, at least STEP (each pass
    is a new run, so a replication's polls restart at 5 s)."""
    passes = []
    for _ in range(max_passes):
        started = sb.now()
        with sandbox_environ(sb):
            code, recap, err = apply_json(root, state, "--wait", "none")
        passes.append((started, code, recap))
        assert code == 0, f"exit {code}: {err[-2000:]}"
        assert recap.get("outcome") in (None, "succeeded", "pending"), recap.get("failures")
        if not recap or recap.get("outcome") == "succeeded":
            return passes
        resumes = [datetime.fromisoformat(p["resumes_at"]) for p in recap["pending"] if p.get("resumes_at")]
        delta = (min(resumes) - sb.now()).total_seconds() if resumes else STEP
        sb.advance(max(delta, STEP))
    lines = [
        f"{a} {[(p['resource'][-40:], p['reason_code'], p.get('resumes_at')) for p in r.get('pending') or ()]}"
        for a, _c, r in passes[:14]
    ]
    raise AssertionError(f"not converged after {max_passes} passes:\n" + "\n".join(lines))


def _pending(recap: dict, pattern: str) -> dict | None:
    import re

    return next((p for p in recap.get("pending") or () if re.search(pattern, p["resource"], re.I)), None)


def test_throttles_and_conflicts_are_waits_and_apply_converges_after_them(frozen, tmp_path):
    _groups(frozen)
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-t", count=1)])
    frozen.inject_fault(method="PUT", path=DEFINITION, status=409, code="AnotherOperationInProgress", count=1)
    frozen.inject_fault(
        method="PUT",
        path=VERSION,
        status=429,
        code="OperationNotAllowed",
        message=CRP_THROTTLE,
        retry_after="1200",
        count=1,
    )
    # Longer than the connection's Retry-After ceiling (120 s): azure-core hands it back instead of sleeping.
    frozen.inject_fault(
        method="PUT", path=POOL, status=503, code="ServiceUnavailable", retry_after="600", count=1
    )

    passes = _passes(frozen, root, tmp_path / "state")

    seen = {}
    for at, _code, recap in passes:
        for name, pattern in (("definition", DEFINITION), ("version", VERSION), ("pool", POOL)):
            item = _pending(recap, pattern)
            if item and item["reason_code"] in ("in-progress", "throttled") and name not in seen:
                seen[name] = (at, item)
    assert seen["definition"][1]["reason_code"] == "in-progress"
    assert seen["pool"][1]["reason_code"] == "throttled"
    throttled_at, version_wait = seen["version"]
    assert version_wait["reason_code"] == "throttled" and version_wait["status"] == "waiting"
    # The frozen clock only ticks per request within a pass: the wait is the Retry-After, not a capped backoff.
    resumes = datetime.fromisoformat(version_wait["resumes_at"])
    assert abs(resumes - (throttled_at + timedelta(seconds=1200))) < timedelta(seconds=5)
    assert "OperationNotAllowed" in version_wait["why"]

    hits = {r["path"]: r["hits"] for r in frozen._app().faults.rules}
    assert hits == {DEFINITION: 1, VERSION: 1, POOL: 1}, "every refusal must actually have been sent"
    entries = frozen.audit()["entries"]
    version_puts = [
        e for e in entries if e["method"] == "PUT" and e["id"].lower().endswith("/versions/1.0.0")
    ]
    assert len(version_puts) == 1, version_puts
    resent = datetime.fromisoformat(version_puts[0]["time"].replace("Z", "+00:00"))
    # Server time reaches us through the whole-second `Date` header: one second is the resolution of "after".
    assert resent >= throttled_at + timedelta(seconds=1199), "re-sent before the service's Retry-After"

    # Converged: a fresh plan has nothing to do, and the pool has its host.
    with sandbox_environ(frozen):
        code, recap, _ = apply_json(root, tmp_path / "state", "--wait", "none")
    assert code == 0 and not recap
    assert [h["properties"]["status"] for h in hosts_of(frozen, "hp-t")] == ["Available"]


def test_a_vm_create_meeting_gallery_image_not_found_is_retried_and_the_pool_converges(frozen, tmp_path):
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-t", count=2)])
    seed_estate(frozen, load_desired(root))
    frozen.inject_fault(
        method="PUT",
        path=r"/virtualMachines/[^/]+$",
        status=404,
        code="GalleryImageNotFound",
        message="The gallery image version is not available in westeurope region.",
        count=2,
    )
    reasons = []
    passes, last = drive(frozen, root, on_cycle=lambda _n, r: reasons.append(r.pool("hp-t").reason_code))
    assert last.pool("hp-t").done
    assert "not-yet-visible" in reasons, reasons
    assert sum(r["hits"] for r in frozen._app().faults.rules) == 2
    hosts = hosts_of(frozen, "hp-t")
    assert len(hosts) == 2 and all(h["properties"]["status"] == "Available" for h in hosts)
    check_invariants(frozen)


def test_a_throttled_operation_check_is_a_wait_not_a_failed_operation(sb, tmp_path):
    """Compute throttles its GETs too: a 429 on the operation's status URL, or on the final GET of the
    resource once it says Succeeded, tells nothing about the operation. Within one apply (that waits, on the
    sandbox's running clock) each is a throttle wait: the same operation is checked again after the
    Retry-After, nothing is created twice, and the apply succeeds."""
    _groups(sb)
    root = write_desired(tmp_path / "d", VERSIONS, [pool_doc("hp-t", count=1)])
    for path in (r"/capsOperations/", GALLERY):
        sb.inject_fault(
            method="GET",
            path=path,
            status=429,
            code="OperationNotAllowed",
            message=CRP_THROTTLE,
            retry_after="1200",
            count=1,
        )
    # The session sandbox's 100 000× clock turns a 0.1 s stall of a loaded machine into 3 h: the registration
    # token's 4 h lifetime (hosts_write.TOKEN_LIFETIME) would then arrive under Azure's 1 h minimum. At 2 000× a
    # 1200 s Retry-After is still 0.6 s, and a 5 s stall still leaves the token valid.
    with time_scale(sb, RUNNING_SCALE), sandbox_environ(sb):
        code, recap, err = apply_json(root, tmp_path / "state", "--wait", "forever")
    assert code == 0 and recap["outcome"] == "succeeded", (err[-2000:], recap.get("failures"))
    assert [r["hits"] for r in sb._app().faults.rules] == [1, 1], "both throttles must have been sent"
    puts = [e for e in sb.audit()["entries"] if e["method"] == "PUT" and "/galleries/" in e["id"].lower()]
    assert len(puts) == len({e["id"].lower() for e in puts}) == 3, f"an operation was started twice: {puts}"
    assert [h["properties"]["status"] for h in hosts_of(sb, "hp-t")] == ["Available"]
