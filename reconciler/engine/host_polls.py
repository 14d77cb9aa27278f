"""When apply looks again at a pool's hosts: at what is in flight, not at a fixed poll.

The decision (planner/hosts.py) asks to look again after `POLL` (30 s) while something is in flight; it cannot
know for how long, and the rollout preview skips those polls. Here, after a cycle, a plain poll is moved to
when the awaited things are expected to be done: a VM being created at its create's expected end from its
creation stamp, a host whose agent went out at its registration's expected end, then backing off by an eighth
of the time each has taken (in [POLL_FLOOR, POLL_CAP]), never past its health deadline, so a host is judged on
time. Anything whose start is not known (a delete, an extension, a drain, a sign-out) keeps the plain poll, and
so does a cycle whose writes may enable more (host_steps.may_enable_more: a ready mark, a logoff, a retirement;
a create, an extension, a delete or a message alone enable nothing before Azure or a named time is done).
Pure: the cycle's inputs carry the server time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.planner.host_inputs import HostView, PoolInputs
from reconciler.planner.host_steps import POLL, Decision, StepOp

POLL_FLOOR = timedelta(seconds=15)
POLL_CAP = timedelta(minutes=5)
# Typical durations on Azure: a VM create (CRP's PUT to Succeeded) and an AVD agent's registration (agent
# installed to session host Available). Looking earlier finds nothing; later, the backoff takes over.
VM_CREATE = timedelta(minutes=3)
REGISTRATION = timedelta(minutes=5)


def backoff_at(
    now: datetime, since: datetime, expected: timedelta, deadline: datetime | None = None
) -> datetime:
    """Look again at `since + expected` if that is ahead, else after an eighth of the time taken so far; the
    delay within [POLL_FLOOR, POLL_CAP], and never past `deadline` (if still ahead)."""
    elapsed = max(now - since, timedelta(0))
    delay = expected - elapsed if elapsed < expected else elapsed / 8
    at = now + min(max(delay, POLL_FLOOR), POLL_CAP)
    return min(at, deadline) if deadline is not None and deadline > now else at


def next_look(d: Decision, p: PoolInputs, wrote: bool) -> datetime | None:
    """The instant to look again instead of the decision's earliest wait, or None to keep it."""
    plain = p.now + POLL
    if wrote or not d.waits or min(at for at, _ in d.waits) != plain:
        return None
    # Every other wait, and a named time (Decision.wait: a deadline) that falls on the plain poll: kept.
    others = [at for at, _ in d.waits if at != plain] + d.named
    looks = [_look(h, p) for h in p.hosts if _in_flight(h)]
    if any(s.op is StepOp.CREATE for s in d.steps):  # created this cycle, so not among the observed hosts
        looks.append(backoff_at(p.now, p.now, VM_CREATE))
    if not looks or any(at is None for at in looks):
        return None  # something whose start is unknown: the plain poll
    return min([*looks, *others])


def _in_flight(h: HostView) -> bool:
    return h.managed and (h.deleting or h.retiring or h.failed or not (h.established or h.available))


def _look(h: HostView, p: PoolInputs) -> datetime | None:
    if h.deleting or h.retiring or h.failed:
        return None
    if h.provisioning == "Creating" and h.created_at is not None:
        return backoff_at(p.now, h.created_at, VM_CREATE)
    if h.registered_at is not None and h.provisioning == "Succeeded":
        deadline = h.registered_at + p.policy.health_timeout
        return backoff_at(p.now, h.registered_at, REGISTRATION, deadline)
    return None
