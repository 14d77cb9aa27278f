"""Retiring one session host: drain, message its users as the deadline nears, log off after the grace period
(only with `forceLogoff`, only inside a maintenance window), then remove it — pure, from the host's tags."""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.planner.host_inputs import HostView, PoolInputs
from reconciler.planner.host_steps import (
    POLL,
    Decision,
    DrainData,
    LogoffData,
    MessageData,
    RemoveData,
    RemoveReason,
    Step,
    StepOp,
)

REMINDERS = (timedelta(minutes=30), timedelta(minutes=10), timedelta(minutes=2))
_FIVE_MINUTES = timedelta(minutes=5)  # how often a draining host is looked at again for its users


def message_due(host: HostView, deadline: datetime, grace: timedelta, now: datetime) -> datetime | None:
    """When the next user message is due: at drain, then as each reminder threshold before the deadline
    passes. Returns a time <= now when one is due now, a future time for the next one, or None."""
    return _due_after(host.messaged_at, deadline, grace)


def _due_after(last: datetime | None, deadline: datetime, grace: timedelta) -> datetime | None:
    """`message_due` for a host last messaged at `last`."""
    # The points are the drain, then each reminder shorter than the grace; REMINDERS run longest first, so
    # they come out in order. Walked without a list: a retiring host asks this every cycle.
    point = deadline - grace
    if last is None or point > last:
        return point
    for r in REMINDERS:
        if r < grace:
            point = deadline - r
            if point > last:
                return point
    return None


def message_body(host: HostView, text: str, deadline: datetime, now: datetime) -> MessageData:
    minutes = max(0, int((deadline - now).total_seconds() // 60))
    return MessageData(
        session_host=host.session_host,
        sessions=tuple(s.id for s in host.sessions),
        title="Session host maintenance",
        body=f"{text} (time left: {minutes} min)",
    )


def progress_retirement(h: HostView, p: PoolInputs, d: Decision) -> None:
    pol, now = p.policy, p.now
    if h.deleting:
        d.poll(now + POLL, f"{h.name} being deleted")
        return
    if not h.session_host or not h.sessions:
        d.steps.append(Step(StepOp.REMOVE, h.name, RemoveData(h.session_host, RemoveReason.EMPTY)))
        return
    if h.accepting and p.window_open:
        d.steps.append(Step(StepOp.DRAIN, h.name, DrainData(h.session_host)))
    drain_at = h.drain_at or now
    deadline = drain_at + pol.drain_grace
    if now >= deadline:
        if pol.force_logoff and p.window_open:
            sessions = tuple(s.id for s in h.sessions)
            d.steps.append(Step(StepOp.LOGOFF, h.name, LogoffData(h.session_host, sessions)))
            d.poll(now + POLL, f"{h.name} users being signed out")
        elif pol.force_logoff:
            d.wait(p.next_window or now + timedelta(hours=1), f"{h.name}: logoff waits for the next window")
        else:
            d.poll(now + _FIVE_MINUTES, f"{h.name}: {len(h.sessions)} user(s) still signed in")
            d.notes.append(f"{h.name}: grace ended, forceLogoff is false: waiting for users to sign out")
        return
    due = message_due(h, deadline, pol.drain_grace, now)
    if due is not None and due <= now:
        d.steps.append(Step(StepOp.MESSAGE, h.name, message_body(h, pol.user_message, deadline, now)))
        # As if the host were tagged messaged now (the tag's time reads back as `now`; a naive one never does).
        nxt = _due_after(now if now.tzinfo is not None else None, deadline, pol.drain_grace)
    else:
        nxt = due
    d.wait(nxt if nxt and nxt < deadline else deadline, f"{h.name}: drain grace ends {deadline.isoformat()}")
    d.poll(now + _FIVE_MINUTES, f"{h.name}: waiting for users to sign out")
