"""A failed host is counted once even when its mark is lost: the pool tag records the count before the VM's
mark, and if that mark write fails (a throttle, a kill) while another host fails too, the host already counted
is marked first. Counting the other one first would move the tag's last-counted marker away, and the
unmarked host would then be counted a second time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from reconciler.model.rollout import HOST_CREATED_TAG, HOST_FAILED_TAG, HOST_REGISTERED_TAG, HOST_REPLACES_TAG
from reconciler.planner.host_failures import failure_marker
from reconciler.planner.host_inputs import HostView
from reconciler.planner.hosts import decide

from .test_hosts_decide import NOW, V2, host, inputs, ops, policy


def _late(name: str, replaces: str) -> HostView:
    old = (NOW - timedelta(minutes=50)).isoformat()
    tags = {HOST_CREATED_TAG: old, HOST_REGISTERED_TAG: old, HOST_REPLACES_TAG: replaces}
    return HostView(name, f"/vms/{name}", V2, "Succeeded", tags, f"{name}.corp", "Unavailable", managed=True)


def _apply(hosts, failures, d):
    """What the engine's writes leave: the pool's count tag, then each named VM's mark."""
    for s in d.steps:
        if s.op == "count-failure":
            failures = (s.data.count, s.data.version, s.data.marker)
    marked = {s.host for s in d.steps if s.op == "mark-failed"}
    hosts = [replace(h, tags={**h.tags, HOST_FAILED_TAG: "failed"}) if h.name in marked else h for h in hosts]
    return hosts, failures


def test_the_host_counted_before_its_mark_was_lost_is_marked_before_another_is_counted():
    counted = _late("avd-5", "avd-1")  # counted last cycle; its mark write failed
    newly = _late("avd-4", "avd-0")  # failed since; sorts first by name
    hosts = [host(f"avd-{i}") for i in range(4)] + [newly, counted]
    failures = (1, V2, failure_marker(counted))
    pol = policy(failure_budget=5)
    total = 1
    for _ in range(4):  # cycles until both are marked
        d = decide(inputs(hosts, pol, failures=failures))
        total += sum(1 for s in d.steps if s.op == "count-failure")
        hosts, failures = _apply(hosts, failures, d)
    assert all(h.failed for h in hosts if h.name in ("avd-4", "avd-5"))
    assert total == 2 and failures[0] == 2


def test_the_first_cycle_marks_the_counted_host_without_counting_it_again():
    counted = _late("avd-5", "avd-1")
    hosts = [host(f"avd-{i}") for i in range(4)] + [_late("avd-4", "avd-0"), counted]
    d = decide(inputs(hosts, policy(failure_budget=5), failures=(1, V2, failure_marker(counted))))
    assert ("mark-failed", "avd-5") in ops(d) and not [s for s in d.steps if s.op == "count-failure"]
