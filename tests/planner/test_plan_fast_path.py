"""The planner's fast path makes the very plan of the straightforward one, on a whole estate.

`plan()` simulates rollouts over a host index it updates host by host and hashes each distinct field value
once; `plan(..., reference=True)` rebuilds the index every simulated cycle and hashes every field on its own.
Both run on one observation of the sandbox's small estate (read with the real SDK clients), drifted (pins
moved: every pool rolls, versions to create and replicate) and converged (nothing to do): the plans must be
equal, change by change and in order, and their JSON byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reconciler.azure.connection import Connection, ConnectionSettings
from reconciler.azure.observe import observe
from reconciler.model.observed import ObserveScope
from reconciler.planner import plan
from reconciler.render.json_render import render_json
from reconciler.sandbox import Sandbox
from reconciler.sandbox.estate import estate_subscription_ids, generate
from reconciler.spec import load_desired

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from desired_gen import generate_desired  # noqa: E402


def _observe_and_load(estate: str, drift: float, root: Path, monkeypatch):
    subs = estate_subscription_ids(estate)
    with Sandbox(
        estate=estate, page_size=20, settings={"subscription_ids": tuple(subs)}, throttle=False
    ) as sb:
        for key, value in sb.env.items():
            monkeypatch.setenv(key, value)
        summary = generate_desired(list(generate(estate, subs, sb.now())), subs, root, drift_share=drift)
        scope = ObserveScope.of(subs, roll_pools=summary.pins_moved)
        with Connection(ConnectionSettings.from_env(polling_interval=0)) as conn:
            observed = observe(scope, conn)
    return load_desired(root), observed, summary


@pytest.mark.parametrize(("estate", "drift"), [("small", 0.3), ("small-converged", 0.0)])
def test_fast_plan_equals_the_reference_plan(estate, drift, tmp_path, monkeypatch):
    desired, observed, summary = _observe_and_load(estate, drift, tmp_path / "desired", monkeypatch)
    fast = plan(desired, observed, observed.observed_at)
    slow = plan(desired, observed, observed.observed_at, reference=True)

    assert [c.key for c in fast.changes] == [c.key for c in slow.changes]
    assert fast.changes == slow.changes
    assert fast.rollouts == slow.rollouts
    assert fast == slow
    assert render_json(fast) == render_json(slow)
    if drift:  # the drifted estate exercises the simulation: its pools roll
        assert summary.pins_moved and fast.rollouts
        assert any(r.batches for r in fast.rollouts)
    else:
        assert not fast.has_changes
