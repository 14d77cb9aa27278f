"""decide_retention: keep N, exclude older from latest, stamp EOL, delete after EOL, never one in use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.planner.retention import (
    Decision,
    RetentionPolicy,
    VersionFacts,
    decide_retention,
    version_key,
)

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def day(n):
    """n days before NOW."""
    return NOW - timedelta(days=n)


def v(name, published_days_ago=None, *, exists=True, exclude=False, eol=None, owned=True):
    published = day(published_days_ago) if published_days_ago is not None else None
    return VersionFacts(name, exists, published, exclude, eol, owned)


KEEP2 = RetentionPolicy(keep=2, exclude_from_latest=True, eol_after_days=30, delete_after_eol=True)
KEEP2_NODELETE = RetentionPolicy(keep=2, exclude_from_latest=True, eol_after_days=30, delete_after_eol=False)
KEEP1_NOEOL = RetentionPolicy(keep=1, exclude_from_latest=True, eol_after_days=None)

CASES = [
    # id, versions, policy, in_use, expected {name: decision}
    ("newest N kept", [v("1.0.0", 5), v("1.1.0", 1)], KEEP2, {}, {"1.0.0": "keep", "1.1.0": "keep"}),
    (
        "older than N: excluded and EOL stamped",
        [v("1.0.0", 50), v("1.1.0", 10), v("1.2.0", 1)],
        KEEP2,
        {},
        {"1.2.0": "keep", "1.1.0": "keep", "1.0.0": "deprecate"},
    ),
    (
        "EOL passed and delete opted in: delete",
        [v("1.0.0", 90, exclude=True, eol=day(1)), v("1.1.0", 40), v("1.2.0", 35)],
        KEEP2,
        {},
        {"1.0.0": "delete"},
    ),
    (
        "EOL passed but delete not opted in: keep",
        [v("1.0.0", 90, exclude=True, eol=day(1)), v("1.1.0", 40), v("1.2.0", 35)],
        KEEP2_NODELETE,
        {},
        {"1.0.0": "keep"},
    ),
    (
        "EOL in the future: keep until then",
        [v("1.0.0", 90, exclude=True, eol=day(-3)), v("1.1.0", 40), v("1.2.0", 35)],
        KEEP2,
        {},
        {"1.0.0": "keep"},
    ),
    (
        "in use by a session host: protected",
        [v("1.0.0", 90, exclude=True, eol=day(1)), v("1.1.0", 40), v("1.2.0", 35)],
        KEEP2,
        {"1.0.0": "session host avd-0 runs it"},
        {"1.0.0": "protect"},
    ),
    (
        "not ours: protected",
        [v("1.0.0", 90, exclude=True, eol=day(1), owned=False), v("1.1.0", 40), v("1.2.0", 35)],
        KEEP2,
        {},
        {"1.0.0": "protect"},
    ),
    (
        "superseding version not published yet: nothing happens",
        [v("1.0.0", 50), v("1.1.0", 10), v("1.2.0", None, exists=False)],
        KEEP2,
        {},
        {"1.0.0": "keep", "1.1.0": "keep", "1.2.0": "keep"},
    ),
    (
        "old desired version that never existed is not created",
        [v("0.9.0", None, exists=False), v("1.0.0", 5), v("1.1.0", 1)],
        KEEP2,
        {},
        {"0.9.0": "skip-create"},
    ),
    (
        "semantic order, not string order",
        [v("1.10.0", 1), v("1.9.0", 20)],
        KEEP1_NOEOL,
        {},
        {"1.10.0": "keep", "1.9.0": "deprecate"},
    ),
    (
        "already excluded and no EOL policy: keep",
        [v("1.0.0", 20, exclude=True), v("1.1.0", 1)],
        KEEP1_NOEOL,
        {},
        {"1.0.0": "keep"},
    ),
]


@pytest.mark.parametrize(
    ("versions", "policy", "in_use", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_retention_table(versions, policy, in_use, expected):
    decisions = {d.name: d for d in decide_retention(versions, policy, in_use, NOW)}
    for name, decision in expected.items():
        assert decisions[name].decision == Decision(decision), decisions[name].reason


def test_eol_is_stamped_days_after_the_superseding_version_was_published():
    decisions = decide_retention([v("1.0.0", 50), v("1.1.0", 10), v("1.2.0", 1)], KEEP2, {}, NOW)
    old = next(d for d in decisions if d.name == "1.0.0")
    # 1.0.0 fell out of the newest 2 when 1.2.0 was published (1 day ago)
    assert old.end_of_life == day(1) + timedelta(days=30)
    assert old.exclude_from_latest is True
    assert "1.2.0" in old.reason


def test_an_eol_someone_set_is_never_moved():
    decisions = decide_retention([v("1.0.0", 50, eol=day(-100)), v("1.1.0", 1)], KEEP1_NOEOL, {}, NOW)
    assert decisions[1].end_of_life is None
    assert decisions[1].decision is Decision.DEPRECATE  # only excludeFromLatest changes


def test_protected_reason_names_the_user():
    decisions = decide_retention(
        [v("1.0.0", 90, exclude=True, eol=day(1)), v("1.1.0", 40), v("1.2.0", 35)],
        KEEP2,
        {"1.0.0": "pinned by host pool prod"},
        NOW,
    )
    assert "pinned by host pool prod" in decisions[2].reason


def test_version_key_orders_semantically():
    assert sorted(["1.10.0", "1.2.0", "1.9.3"], key=version_key) == ["1.2.0", "1.9.3", "1.10.0"]
