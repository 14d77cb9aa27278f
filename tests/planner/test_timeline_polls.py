"""Which looks the rollout preview takes: every time a rule names (Decision.wait), never a poll
(Decision.poll) after a cycle that wrote nothing, since nothing in the model moves between polls."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from reconciler.model.rollout import HOST_DRAIN_TAG, HOST_MESSAGED_TAG, HOST_RETIRE_TAG
from reconciler.planner.host_steps import POLL
from reconciler.planner.hosts import decide
from reconciler.planner.timeline import simulate_rollout

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
    # 15:20. Apply looks every 5 min for users who left; in the model none leave (forceLogoff: they stay until
    # signed out), so after a cycle that wrote nothing the preview goes on to the next named time. After one
    # that wrote (a message), it looks at the earliest wait, a poll included, as apply does.
    drained = timedelta(minutes=4, seconds=40)
    p = _retiring_pool(drained_ago=drained, messaged_ago=drained)
    assert (NOW + timedelta(minutes=5), "avd-0: waiting for users to sign out") in decide(p).waits
    timeline = simulate_rollout(p)
    at = [timedelta(minutes=m, seconds=s) for m, s in ((0, 0), (15, 20), (20, 20), (23, 20), (25, 20))]
    before = [c for c in timeline.cycles if c.at <= NOW + at[-1]]
    assert [c.at - NOW for c in before] == at
    assert [[s.op for s in c.steps] for c in before] == [[], ["message"], [], ["message"], ["logoff"]]
