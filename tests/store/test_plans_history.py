"""Saved plans and the append-only apply history."""

import json
import multiprocessing
from datetime import UTC, datetime

import pytest

from reconciler.store import LocalStore, NotFound, StoreError

from . import workers

spawn = multiprocessing.get_context("spawn")
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_plans_save_load_list_and_overwrite(tmp_path):
    store = LocalStore(tmp_path)
    plan = {"format": 1, "changes": [{"id": "gallery/a", "action": "create"}], "fingerprint": "abc"}
    location = store.save_plan("nightly", plan)
    assert location == str(tmp_path / "plans" / "nightly.json")
    assert store.load_plan("nightly") == plan
    store.save_plan("nightly", {"format": 1, "changes": []})
    store.save_plan("hotfix-1.2", plan)
    assert store.load_plan("nightly") == {"format": 1, "changes": []}
    assert store.list_plans() == ["hotfix-1.2", "nightly"]


def test_a_missing_plan_is_a_clear_not_found(tmp_path):
    with pytest.raises(NotFound, match="no saved plan named 'nope'"):
        LocalStore(tmp_path).load_plan("nope")
    assert LocalStore(tmp_path).list_plans() == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", ".x", "", "p.json"])
def test_plan_names_cannot_escape_the_plans_folder(tmp_path, name):
    with pytest.raises(StoreError, match="invalid plan name"):
        LocalStore(tmp_path).save_plan(name, {})


def test_history_appends_in_order_stamps_time_and_limits(tmp_path):
    store = LocalStore(tmp_path, clock=lambda: T0)
    assert store.read_history() == []
    for i in range(5):
        store.append_history({"apply": i})
    store.append_history({"apply": 5, "recorded_at": "given"})
    records = store.read_history()
    assert [r["apply"] for r in records] == [0, 1, 2, 3, 4, 5]
    assert records[0]["recorded_at"] == "2026-01-01T12:00:00+00:00"
    assert records[5]["recorded_at"] == "given"
    assert [r["apply"] for r in store.read_history(limit=2)] == [4, 5]
    assert store.read_history(limit=0) == []
    assert all(json.loads(line) for line in store.history_path().read_text().splitlines())


def test_a_torn_line_from_a_crash_is_skipped_and_later_appends_stay_whole(tmp_path):
    store = LocalStore(tmp_path)
    store.append_history({"apply": 1})
    with store.history_path().open("a") as handle:
        handle.write('{"apply": 2, "changes": [')  # the crash: half a record, no newline
    store.append_history({"apply": 3})
    assert [r["apply"] for r in store.read_history()] == [1, 3]


def test_a_record_that_is_not_json_writes_nothing(tmp_path):
    store = LocalStore(tmp_path)
    store.append_history({"apply": 1})
    with pytest.raises(TypeError):
        store.append_history({"when": datetime.now(UTC)})
    assert [r["apply"] for r in store.read_history()] == [1]


def test_concurrent_appends_from_processes_never_interleave(tmp_path):
    writers, count = 3, 100
    procs = [
        spawn.Process(target=workers.append_many, args=(str(tmp_path), w, count)) for w in range(writers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * writers
    records = LocalStore(tmp_path).read_history()
    assert len(records) == writers * count
    for w in range(writers):
        assert [r["seq"] for r in records if r["writer"] == w] == list(range(count))


def test_history_keeps_every_outcome_in_order(tmp_path):
    from reconciler.engine.apply import HISTORY_OUTCOMES

    store = LocalStore(tmp_path / "state")
    for outcome in HISTORY_OUTCOMES:
        store.append_history(
            {"kind": "apply", "outcome": outcome, "succeeded": outcome in ("succeeded", "pending")}
        )
    assert [r["outcome"] for r in store.read_history()] == [
        "succeeded",
        "pending",
        "failed",
        "timed-out",
        "interrupted",
    ]
    assert all("recorded_at" in r for r in store.read_history())
