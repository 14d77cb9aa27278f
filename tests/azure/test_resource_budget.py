"""Compute's per-policy budgets (`x-ms-ratelimit-remaining-resource`) slow our requests down before they run
out, against the sandbox with a small gallery-write window: no more requests in flight than the budget the
provider last reported, and a 429 holds every request of that provider back for its Retry-After, so a spent
window costs one 429 where a client that ignores the header collects one per request in flight."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from observe_support import connect
from support.sandbox import RG, own_sandbox, sandbox_environ

from reconciler.azure.metering import PacingSettings

WINDOW = 6  # gallery writes per 3-minute window
CREATES = 16
WORKERS = 8


def _burst(sb, pacing: PacingSettings):
    """One gallery create to learn the budget, then CREATES more from WORKERS threads; returns the stats."""
    sub = sb.subscription_ids[0]
    tag = uuid.uuid4().hex[:6]
    with sandbox_environ(sb), connect(pacing=pacing, retry_total=40, retry_status=40) as conn:
        galleries = conn.compute(sub).galleries

        def create(i: int) -> str:
            poller = galleries.begin_create_or_update(RG, f"g{tag}{i}", {"location": "westeurope"})
            return poller.result().name

        create(0)
        with ThreadPoolExecutor(WORKERS) as pool:
            names = list(pool.map(create, range(1, CREATES + 1)))
        return names, conn.meter.stats()


def test_a_low_compute_budget_narrows_the_burst_to_what_is_left():
    # The 3-minute window lasts 2 s of real time: the burst spans three of them.
    with own_sandbox(throttle=True, time_scale=90) as sb:
        sub = sb.subscription_ids[0]
        sb.seed([{"id": f"/subscriptions/{sub}/resourceGroups/{RG}", "location": "westeurope"}])
        sb.configure(read_bucket=(10_000.0, 10_000.0), write_bucket=(10_000.0, 10_000.0))
        sb._app().throttle.compute_policies["CreateUpdateGalleryResources"] = {
            "3Min": (180.0, WINDOW),
            "30Min": (1800.0, 10_000),
        }
        # No spacing by the window's refill rate: the sandbox's 3 minutes pass in 2 s, which no client can know.
        names, followed = _burst(sb, PacingSettings(resource_low_water=0))
        sb.advance(600)  # a fresh window for the run that ignores the header
        _, ignored = _burst(sb, PacingSettings(resource_budgets=False))

    assert len(names) == CREATES  # every create got through, throttled or not
    spent = (CREATES + 1) // WINDOW  # windows emptied before the last creates go through
    # Following the header: one 429 per window emptied (the one request that finds it so; measured: 2), and
    # the budget read is the one the sandbox reported.
    assert followed.throttled <= spent
    assert min(v for k, v in followed.lowest_remaining.items() if k.endswith("3Min")) == 0
    # Ignoring it: every request in flight when the window empties is refused, window after window
    # (measured: 13).
    assert ignored.throttled > 2 * followed.throttled
