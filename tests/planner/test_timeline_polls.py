"""Which looks the rollout preview takes: every time a rule names (Decision.wait), never a poll
(Decision.poll) after a cycle that wrote nothing or only inert writes (host_steps.may_enable_more), since
nothing in the model moves between polls but its own completions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

from reconciler.model.rollout import HOST_DRAIN_TAG, HOST_MESSAGED_TAG, HOST_RETIRE_TAG
from reconciler.planner.host_steps import POLL, StepOp, may_enable_more
from reconciler.planner.hosts import decide
from reconciler.planner.timeline import Durations, simulate_rollout

from .test_timeline import NOW, V2, pool


def _retiring_pool(drained_ago: timedelta, messaged_ago: timedelta):
    """avd-0 retiring with 1 user (replaced, drain grace 30 min), the other hosts already on the pin."""
    p = pool(n=5, count=4)
    tags = {
        HOST_RETIRE_TAG: "replaced",
        HOST_DRAIN_TAG: (NOW - drained_ago).isoformat(),
        HOST_MESSAGED_TAG: (NOW - messaged_ago).isoformat(),
    }
    hosts = tuple(
        replace(h, tags=tags, accepting=False) if h.name == "avd-0" else replace(h, version=V2, managed=True)
        for h in p.hosts
    )
    return replace(p, hosts=hosts)


def test_a_deadline_on_the_poll_is_looked_at_as_apply_looks():
    # The grace ends exactly one poll from now and nothing is due before: apply looks again at now + POLL
    # and signs the user out then, so the preview must not take the deadline for a poll and skip it.
    p = _retiring_pool(drained_ago=timedelta(minutes=30) - POLL, messaged_ago=timedelta(minutes=1))
    first = decide(p)
    assert not first.steps and first.next_check[0] == NOW + POLL
    timeline = simulate_rollout(p)
    logoffs = [c.at for c in timeline.cycles for s in c.steps if s.op == "logoff"]
    assert logoffs == [NOW + POLL]
    assert ("logoff", "avd-0") in [(s.op, s.host) for s in decide(replace(p, now=NOW + POLL)).steps]


def test_the_five_minute_sign_out_polls_are_skipped_between_named_times():
    # Drained (and messaged) 4:40 ago, grace 30 min: the next message is due 10 min before the deadline, in
    # 15:20, the last 2 min before it. Apply looks every 5 min for users who left; in the model none leave
    # (forceLogoff: they stay until signed out), and a message enables nothing, so the preview goes from one
    # named time to the next.
    drained = timedelta(minutes=4, seconds=40)
    p = _retiring_pool(drained_ago=drained, messaged_ago=drained)
    assert (NOW + timedelta(minutes=5), "avd-0: waiting for users to sign out") in decide(p).waits
    timeline = simulate_rollout(p)
    at = [timedelta(minutes=m, seconds=s) for m, s in ((0, 0), (15, 20), (23, 20), (25, 20))]
    before = [c for c in timeline.cycles if c.at <= NOW + at[-1]]
    assert [c.at - NOW for c in before] == at
    assert [[s.op for s in c.steps] for c in before] == [[], ["message"], ["message"], ["logoff"]]


def test_inert_writes_are_followed_up_when_azure_is_done_and_a_ready_mark_at_once():
    inert = {
        StepOp.CREATE,
        StepOp.JOIN,
        StepOp.REGISTER,
        StepOp.STAMP_REGISTERED,
        StepOp.REMOVE,
        StepOp.MESSAGE,
    }
    assert {op for op in StepOp if not may_enable_more([SimpleNamespace(op=op)])} == inert
    timeline = simulate_rollout(pool())
    du = Durations()
    first, second = timeline.cycles[:2]
    assert [s.op for s in first.steps] == ["create", "create"]
    # Apply would look after the poll and find the VMs still creating; the preview goes to their completion.
    assert second.at == NOW + du.create and [s.op for s in second.steps] == ["join", "join"]
    ready = next(i for i, c in enumerate(timeline.cycles) if any(s.op == "ready" for s in c.steps))
    after = timeline.cycles[ready + 1]
    # A ready mark lets the replaced host retire: looked at a poll later, as apply does.
    assert after.at - timeline.cycles[ready].at == POLL and "retire" in [s.op for s in after.steps]
