"""The cadence of operation checks follows the service: after a check, the action waits the operation
status's `Retry-After` (server seconds), clamped to [min_poll, max_poll]; while a version's create runs, the
check is the operation status alone — the version (`$expand=ReplicationStatus`) is read once the operation
ends, or for per-region progress at most every `progress_poll`.

The real SDK against the sandbox at time scale 1, so the sandbox's Retry-After (real seconds, capped by
`poll_retry_after_cap`) is the server's seconds too; `sb.advance` jumps the clock past the operation. Requests
are counted with the sandbox's request stats.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from support.sandbox import RG, connect, time_scale

from reconciler.azure.clock import ServerClock
from reconciler.azure.reads import Reader
from reconciler.azure.writes import Writer
from reconciler.engine.actions import dispatch
from reconciler.engine.actions.env import ActionEnv
from reconciler.engine.operations import OperationLedger
from reconciler.engine.outcome import Done, WaitUntil
from reconciler.model.plan import Action, Change
from reconciler.store import LocalStore

REPLICATION = 3600.0  # longer than the advice cap, so the cap shows
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class _Fixed:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize(
    ("retry_after", "elapsed", "delay"),
    [
        (120.0, timedelta(0), timedelta(seconds=120)),  # the service's advice, as given
        (0.25, timedelta(0), timedelta(seconds=5)),  # raised to the floor
        (600.0, timedelta(0), timedelta(minutes=10)),
        (7200.0, timedelta(0), timedelta(minutes=30)),  # lowered to the cap
        (30.0, timedelta(hours=2), timedelta(seconds=30)),  # advice wins over how long it has run
        (None, timedelta(minutes=16), timedelta(minutes=2)),  # no advice: an eighth of the time so far
        (None, timedelta(hours=4), timedelta(minutes=5)),  # ... capped lower: a guess is bounded tighter
        (None, timedelta(0), timedelta(seconds=5)),
    ],
)
def test_wait_is_at_the_retry_after_clamped(tmp_path, retry_after, elapsed, delay):
    clock = _Fixed()
    env = ActionEnv(None, None, OperationLedger(LocalStore(tmp_path), clock=clock), clock)
    assert env.wait(T0 - elapsed, "x", retry_after).at == T0 + delay


def test_progress_is_due_once_per_progress_poll(tmp_path):
    clock = _Fixed()
    env = ActionEnv(None, None, OperationLedger(LocalStore(tmp_path), clock=clock), clock)
    assert not env.progress_due("k"), "the first period starts at the first ask"
    clock.now = T0 + env.progress_poll - timedelta(seconds=1)
    assert not env.progress_due("k")
    clock.now = T0 + env.progress_poll
    assert env.progress_due("k") and not env.progress_due("k")
    assert not env.progress_due("other")


@pytest.fixture
def live(sb, tmp_path):
    """An ActionEnv on the production Writer/Reader/ServerClock against the sandbox at real time, with a
    gallery, a definition and a source image seeded."""
    gallery = f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/gal"
    source = (
        f"/subscriptions/{sb.subscription_ids[0]}/resourceGroups/{RG}/providers/Microsoft.Compute/images/src"
    )
    sb.seed(
        [
            {"id": gallery, "location": "westeurope", "properties": {}},
            {
                "id": f"{gallery}/images/img",
                "location": "westeurope",
                "properties": {
                    "osType": "Windows",
                    "osState": "Generalized",
                    "hyperVGeneration": "V2",
                    "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
                },
            },
            {"id": source, "location": "westeurope", "properties": {}},
        ]
    )
    sb.configure(replication_seconds=REPLICATION)
    with time_scale(sb, 1), connect(sb) as conn:
        clock = ServerClock(conn, sb.subscription_ids[0])
        env = ActionEnv(
            Writer(conn), Reader(conn), OperationLedger(LocalStore(tmp_path), clock=clock.now), clock.now
        )
        change = Change(
            Action.CREATE,
            "image-version",
            f"{gallery}/images/img/versions/1.0.0",
            "missing",
            after={
                "location": "westeurope",
                "properties": {
                    "storageProfile": {"source": {"id": source}},
                    "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
                },
            },
        )
        yield sb, env, change


def _step(sb, env, change):
    """(outcome, GETs it made, server time before, server time after)."""
    before, at0 = sb.stats()["requests"], env.clock()
    outcome = dispatch(change, env, None)
    after, at1 = sb.stats()["requests"], env.clock()
    gets = Counter({k: n - before.get(k, 0) for k, n in after.items() if k.startswith("GET ")})
    return outcome, +gets, at0, at1


@pytest.mark.parametrize(("cap", "delay"), [(30.0, 30.0), (0.5, 5.0), (3600.0, 1800.0)])
def test_the_wait_after_a_check_is_at_the_status_retry_after_clamped(live, cap, delay):
    sb, env, change = live
    sb.configure(poll_retry_after_cap=cap)  # the sandbox's advice: the time left, capped here
    started, gets, _, _ = _step(sb, env, change)
    assert isinstance(started, WaitUntil) and not gets, "the PUT alone; no advice on it: the floor"
    checked, gets, at0, at1 = _step(sb, env, change)
    assert isinstance(checked, WaitUntil)
    assert at0 + timedelta(seconds=delay) <= checked.at <= at1 + timedelta(seconds=delay)
    assert gets == {"GET operations": 1}, "one read per check: the status, not the version"


def test_the_version_is_read_once_the_operation_ends_and_for_progress_at_the_slow_cadence(live):
    sb, env, change = live
    sb.configure(poll_retry_after_cap=60.0)
    _step(sb, env, change)
    for _ in range(3):  # checks while it runs: the status only
        outcome, gets, _, _ = _step(sb, env, change)
        assert isinstance(outcome, WaitUntil) and gets == {"GET operations": 1}
    # Past the progress period (Date has whole seconds): one look at the regions beside the check.
    sb.advance(env.progress_poll.total_seconds() + 5)
    outcome, gets, _, _ = _step(sb, env, change)
    assert isinstance(outcome, WaitUntil) and "Replicating" in outcome.why
    assert gets == {"GET operations": 1, "GET galleries/images/versions": 1}
    outcome, gets, _, _ = _step(sb, env, change)
    assert gets == {"GET operations": 1}
    sb.advance(REPLICATION)
    outcome, gets, _, _ = _step(sb, env, change)
    assert isinstance(outcome, Done), outcome
    # the status, the SDK's final GET of the version, and one read of its replication for the recap
    assert gets == {"GET operations": 1, "GET galleries/images/versions": 2}
    assert env.replication[change.resource_id.lower()] == {
        "northeurope": "Completed",
        "westeurope": "Completed",
    }


def test_a_retry_after_on_the_initial_answer_sets_the_first_check(live):
    sb, env, change = live
    sb.configure(initial_retry_after=60)  # Azure may advise on the 201 too (integer seconds)
    before = env.clock()
    started = dispatch(change, env, None)
    assert isinstance(started, WaitUntil)
    assert before + timedelta(seconds=60) <= started.at <= env.clock() + timedelta(seconds=60)
