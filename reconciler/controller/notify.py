"""Webhook notifications: applied changes, halted/rolled-back rollouts, quarantines, acceptance failures and
force-accepts, invalid commits, drift.

Three body shapes, chosen by ``--webhook-format`` (default ``generic``):
- ``generic``: ``{"event", "severity", "title", "text", "commit", "fields": {...}, "time"}``;
- ``slack``: ``{"text": "*title*\\ntext"}`` (Slack incoming webhooks, Mattermost, Rocket.Chat);
- ``teams``: a MessageCard ``{"@type": "MessageCard", "summary", "title", "text", "themeColor"}``.

Rate limits, so a flapping estate cannot flood a channel: the same (event, key) is sent at most once per
``repeat_after`` (default 1 h: an invalid commit is announced once, not every cycle), and at most
``per_hour`` messages go out in any hour (default 30); the rest are counted as ``suppressed``. Delivery is
best effort: a failed POST is logged (without the URL, which often embeds a secret) and never fails a cycle.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("reconciler.controller.notify")
SHAPES = ("generic", "slack", "teams")
_COLOURS = {"info": "2E7D32", "warning": "F9A825", "error": "C62828"}


def body_for(
    shape: str,
    event: str,
    severity: str,
    title: str,
    text: str,
    commit: str | None,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    if shape == "slack":
        return {"text": f"*{title}*\n{text}"}
    if shape == "teams":
        facts = "".join(f"\n\n**{k}**: {v}" for k, v in fields.items())
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "title": title,
            "text": text + facts,
            "themeColor": _COLOURS.get(severity, "607D8B"),
        }
    return {
        "event": event,
        "severity": severity,
        "title": title,
        "text": text,
        "commit": commit,
        "fields": dict(fields),
        "time": datetime.now(UTC).isoformat(),
    }


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (URL given by the operator)
        response.read()


class Notifier:
    """Send events to one webhook, rate-limited. ``url=None`` makes every call a no-op."""

    def __init__(
        self,
        url: str | None,
        *,
        shape: str = "generic",
        repeat_after: float = 3600.0,
        per_hour: int = 30,
        post: Callable[[str, dict], None] = _post,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if shape not in SHAPES:
            raise ValueError(f"webhook format must be one of {', '.join(SHAPES)}")
        self.url, self.shape = url, shape
        self._repeat_after, self._per_hour = repeat_after, per_hour
        self._post, self._clock = post, clock
        self._last: dict[tuple[str, str], float] = {}
        self._sent: deque[float] = deque()
        self.sent = self.suppressed = self.failed = 0

    def notify(
        self,
        event: str,
        title: str,
        text: str = "",
        *,
        key: str = "",
        severity: str = "info",
        commit: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> bool:
        """Send unless rate-limited; True when a POST went out and succeeded."""
        if not self.url:
            return False
        now = self._clock()
        last = self._last.get((event, key))
        while self._sent and now - self._sent[0] >= 3600:
            self._sent.popleft()
        if (last is not None and now - last < self._repeat_after) or len(self._sent) >= self._per_hour:
            self.suppressed += 1
            return False
        self._last[(event, key)] = now
        self._sent.append(now)
        try:
            self._post(self.url, body_for(self.shape, event, severity, title, text, commit, fields or {}))
        except Exception as exc:  # best effort: a chat outage must not stop reconciling
            self.failed += 1
            log.warning("webhook delivery failed", extra={"event": event, "error": type(exc).__name__})
            return False
        self.sent += 1
        return True


# The acceptance states a person must hear about: a version held back, or one let through by hand.
_ACCEPTANCE_EVENTS = {
    "failed": ("acceptance_failed", "error", "Image version {version} failed acceptance"),
    "forced": ("acceptance_forced", "warning", "Image version {version} was force-accepted"),
}


def notify_acceptance(
    notifier: Notifier,
    previous: Mapping[str, Mapping[str, str]],
    current: Mapping[str, Mapping[str, str]],
    commit: str | None = None,
) -> int:
    """One message per version whose acceptance verdict became failed or forced since ``previous`` (both:
    version id -> the cycle's acceptance row); returns how many went out. The failure excerpt in the text is
    the sanitised tag (size-limited, no secret: the engine wrote it that way)."""
    sent = 0
    for version_id in sorted(current):
        row = current[version_id]
        state = row.get("state", "")
        if state not in _ACCEPTANCE_EVENTS or (previous.get(version_id) or {}).get("state") == state:
            continue
        event, severity, title = _ACCEPTANCE_EVENTS[state]
        text = row.get("failure") or row.get("reason") or ""
        fields = {k: row[k] for k in ("definition", "version", "state", "host", "reason") if row.get(k)}
        sent += notifier.notify(
            event,
            title.format(version=f"{row.get('definition', '?')}/{row.get('version', '?')}"),
            text,
            key=f"{version_id}:{row.get('reason', '')}",
            severity=severity,
            commit=commit,
            fields=fields,
        )
    return sent
