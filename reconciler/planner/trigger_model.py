"""What trigger evaluation decides, per build: due (a version to write to git) or blocked (due, but it cannot
be released; why, since when, and what would unblock it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.spec.state import ImageDefinition


@dataclass(frozen=True)
class DueBuild:
    """One build that is due: its new version's number and document, and why (one line per trigger)."""

    build: str
    definition: ImageDefinition
    version: str
    triggers: tuple[str, ...]  # "schedule", "sourceImageUpdate", "recipeChange"
    reasons: tuple[str, ...]
    source: str  # e.g. "MicrosoftWindowsDesktop/office-365/win11-24h2-avd-m365/26100.2605.241207"
    at: datetime
    document: dict[str, Any] = field(repr=False)
    origin: str = ""

    @property
    def summary(self) -> str:
        return f"ImageBuild {self.build}: {'; '.join(self.reasons)}; next version {self.version}"


@dataclass(frozen=True)
class BlockedRelease:
    """A due build whose version cannot be released. It stays blocked, cycle after cycle, until git or the
    source changes; `since` is when it became due (the schedule slot or the source's publish), when known."""

    build: str
    origin: str
    why: str
    unblock: str
    since: str | None = None  # ISO date or time
    version: str | None = None  # the number it would get, when one could be chosen
    waiting: bool = False  # held back by something that passes by itself (a marketplace region lagging)

    @property
    def message(self) -> str:
        if self.waiting:
            since = f" (since {self.since})" if self.since else ""
            return f"release of {self.build} waits{since}: {self.why}"
        since = f" (due since {self.since})" if self.since else ""
        return f"release of {self.build} blocked{since}: {self.why}; to unblock: {self.unblock}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "build": self.build,
            "origin": self.origin,
            "why": self.why,
            "unblock": self.unblock,
            "since": self.since,
            "version": self.version,
            "waiting": self.waiting,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockedRelease:
        return cls(
            data["build"],
            data["origin"],
            data["why"],
            data["unblock"],
            data.get("since"),
            data.get("version"),
            data.get("waiting", False),
        )
