"""Retention of image versions: keep the newest N, deprecate the rest, delete after end-of-life if opted in.

A pure function of (versions, policy, what is in use, now). The rules, in order:
1. Rank all versions of a definition (existing and desired) by semantic version, newest first. The newest
   `keep` are kept untouched.
2. An older version is *superseded* once the version `keep` places above it is published; from then on it is
   excluded from `latest` (if the policy says so) and, if it has no end-of-life date yet, stamped with
   superseded + `eol_after_days` (a date someone set by hand is never moved).
3. A superseded version whose end-of-life has passed is deleted when `delete_after_eol` is on — unless it is
   in use (a pin, a VM or session host, an in-flight build) or not ours (no ownership tag). Those are kept
   and the plan says why.
4. An older desired version that does not exist yet is not created: retention would retire it at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Decision(StrEnum):
    KEEP = "keep"
    DEPRECATE = "deprecate"  # set excludeFromLatest and/or stamp endOfLifeDate
    DELETE = "delete"
    PROTECT = "protect"  # retention would delete it, but it is in use or not ours
    SKIP_CREATE = "skip-create"  # desired but already retired by the policy


@dataclass(frozen=True)
class RetentionPolicy:
    keep: int
    exclude_from_latest: bool = True
    eol_after_days: int | None = None
    delete_after_eol: bool = False


@dataclass(frozen=True)
class VersionFacts:
    """What retention needs to know about one version. `exists` is False for a desired-only version."""

    name: str
    exists: bool
    published: datetime | None = None
    exclude_from_latest: bool = False
    end_of_life: datetime | None = None
    owned: bool = True


@dataclass(frozen=True)
class RetentionDecision:
    name: str
    decision: Decision
    reason: str
    exclude_from_latest: bool | None = None  # new value, when it changes
    end_of_life: datetime | None = None  # new value, when it changes
    superseded: bool = True  # False while among the newest `keep` (or its superseder is unpublished)


def version_key(name: str) -> tuple[int, ...]:
    """Semantic order of `Major.Minor.Patch` (non-numeric parts sort first, so bad data never crashes)."""
    return tuple(int(p) if p.isdigit() else -1 for p in name.split("."))


def decide_retention(
    versions: Iterable[VersionFacts],
    policy: RetentionPolicy,
    in_use: Mapping[str, str],
    now: datetime,
) -> tuple[RetentionDecision, ...]:
    """One decision per version, newest first. `in_use` maps a version name to why it is in use."""
    ranked = sorted(versions, key=lambda v: version_key(v.name), reverse=True)
    decisions: list[RetentionDecision] = []
    for index, version in enumerate(ranked):
        if index < policy.keep:
            decisions.append(
                RetentionDecision(
                    version.name, Decision.KEEP, f"among the newest {policy.keep}", superseded=False
                )
            )
            continue
        superseder = ranked[index - policy.keep]
        if not version.exists:
            decisions.append(
                RetentionDecision(
                    version.name,
                    Decision.SKIP_CREATE,
                    f"not created: retention keeps the newest {policy.keep} and {superseder.name} is newer",
                )
            )
            continue
        if superseder.published is None:
            decisions.append(
                RetentionDecision(
                    version.name,
                    Decision.KEEP,
                    f"superseded by {superseder.name} once it is published",
                    superseded=False,
                )
            )
            continue
        decisions.append(_retire(version, superseder, policy, in_use, now))
    return tuple(decisions)


def _retire(
    version: VersionFacts,
    superseder: VersionFacts,
    policy: RetentionPolicy,
    in_use: Mapping[str, str],
    now: datetime,
) -> RetentionDecision:
    assert superseder.published is not None
    since = f"superseded by {superseder.name} on {superseder.published.date().isoformat()}"
    end_of_life = version.end_of_life
    new_eol = None
    if end_of_life is None and policy.eol_after_days is not None:
        new_eol = superseder.published + timedelta(days=policy.eol_after_days)
        end_of_life = new_eol
    eol_passed = end_of_life is not None and end_of_life <= now
    if policy.delete_after_eol and eol_passed and new_eol is None:
        if version.name in in_use:
            return RetentionDecision(
                version.name, Decision.PROTECT, f"{since}, end-of-life passed, kept: {in_use[version.name]}"
            )
        if not version.owned:
            return RetentionDecision(
                version.name, Decision.PROTECT, f"{since}, end-of-life passed, kept: no ownership tag"
            )
        return RetentionDecision(
            version.name,
            Decision.DELETE,
            f"{since}; end-of-life {end_of_life.isoformat()} passed and delete_after_eol is on",
        )
    new_exclude = True if policy.exclude_from_latest and not version.exclude_from_latest else None
    if new_exclude is None and new_eol is None:
        reason = f"{since}; already deprecated"
        if policy.delete_after_eol and end_of_life is not None and not eol_passed:
            reason += f", deleted after {end_of_life.isoformat()}"
        return RetentionDecision(version.name, Decision.KEEP, reason)
    parts = []
    if new_exclude:
        parts.append("exclude from latest")
    if new_eol is not None:
        parts.append(f"end-of-life {new_eol.date().isoformat()} ({policy.eol_after_days} days after)")
    return RetentionDecision(
        version.name, Decision.DEPRECATE, f"{since}: {', '.join(parts)}", new_exclude, new_eol
    )
