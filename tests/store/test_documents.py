"""Small JSON documents (LRO continuation tokens…): round trips, atomic replacement, clear errors."""

import threading

import pytest

from reconciler.store import LocalStore, StoreError

VERSION_ID = (
    "/subscriptions/11111111-1111-4111-8111-111111111111/resourcegroups/rg-images/providers/"
    "microsoft.compute/galleries/gal/images/win11-avd/versions/" + "1.0.0" * 60
)


def test_put_get_delete_round_trip_with_arm_ids_as_keys(tmp_path):
    store = LocalStore(tmp_path)
    assert store.get(f"lro/{VERSION_ID}") is None
    store.put(f"lro/{VERSION_ID}", {"token": "abc", "started": "2026-01-01T00:00:00+00:00"})
    store.put("lro/other", {"token": "def"})
    store.put("note", {"x": 1})
    assert store.get(f"lro/{VERSION_ID}") == {"token": "abc", "started": "2026-01-01T00:00:00+00:00"}
    assert store.keys("lro/") == sorted([f"lro/{VERSION_ID}", "lro/other"])
    assert store.delete("lro/other") is True
    assert store.delete("lro/other") is False
    assert store.keys() == sorted([f"lro/{VERSION_ID}", "note"])


def test_put_replaces_and_a_failed_write_keeps_the_old_value_and_no_temp_file(tmp_path):
    store = LocalStore(tmp_path)
    store.put("k", {"v": 1})
    store.put("k", {"v": 2})
    with pytest.raises(TypeError):
        store.put("k", {"v": object()})
    assert store.get("k") == {"v": 2}
    assert [p.name for p in (tmp_path / "documents").iterdir() if p.name.endswith(".tmp")] == []


def test_readers_never_see_a_half_written_document(tmp_path):
    store = LocalStore(tmp_path)
    big = {"blob": "y" * 200_000}
    store.put("k", {"n": -1, **big})
    stop = threading.Event()
    seen, errors = set(), []

    def reader():
        while not stop.is_set():
            try:
                seen.add(store.get("k")["n"])
            except Exception as exc:  # a torn read would surface as a JSON error here
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for n in range(40):
        store.put("k", {"n": n, **big})
    stop.set()
    thread.join()
    assert errors == []
    assert len(seen) > 1, "the reader actually raced the writer"


def test_a_corrupt_document_is_an_error_naming_the_file(tmp_path):
    store = LocalStore(tmp_path)
    store.put("k", {"v": 1})
    (path,) = (tmp_path / "documents").glob("*.json")
    path.write_text('{"key": "k", "value": ')
    with pytest.raises(StoreError, match=rf"{path.name}:1:\d+: not valid JSON"):
        store.get("k")


@pytest.mark.parametrize("key", ["", "x" * 2049])
def test_empty_or_huge_keys_are_refused(tmp_path, key):
    with pytest.raises(StoreError, match="invalid document key"):
        LocalStore(tmp_path).put(key, {})
