"""The apply lock: exclusive across processes, names its holder, survives a crashed holder."""

import multiprocessing
import os
import socket

import pytest

from reconciler.store import LocalStore, LockHeld, LockLost, LockState, StoreError, held

from . import workers

spawn = multiprocessing.get_context("spawn")


def test_a_second_process_is_refused_with_the_holder_named(tmp_path):
    ready, stop = spawn.Event(), spawn.Event()
    child = spawn.Process(
        target=workers.hold_until_told, args=(str(tmp_path), "reconcile apply", ready, stop)
    )
    child.start()
    try:
        assert ready.wait(30)
        with pytest.raises(LockHeld) as info:
            LocalStore(tmp_path).acquire(owner="second apply")
        assert info.value.holder.pid == child.pid
        assert info.value.holder.host == socket.gethostname()
        assert f"held by pid {child.pid} on host {socket.gethostname()} (reconcile apply) since" in str(
            info.value
        )
        assert LocalStore(tmp_path).inspect_lock().state is LockState.HELD
    finally:
        stop.set()
        child.join(30)
    assert child.exitcode == 0
    lease = LocalStore(tmp_path).acquire(owner="second apply")
    assert lease.took_over_from is None, "a clean release leaves nothing to take over"


def test_only_one_of_many_simultaneous_acquirers_wins(tmp_path):
    racers = 4
    barrier, results, done = spawn.Barrier(racers), spawn.Queue(), spawn.Event()
    procs = [
        spawn.Process(target=workers.race_for_the_lock, args=(str(tmp_path), barrier, results, done))
        for _ in range(racers)
    ]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=30) for _ in range(racers)]
    finally:
        done.set()
        for p in procs:
            p.join(30)
    winners = [o for o in outcomes if o[0] == "won"]
    assert len(winners) == 1
    winner_pid = winners[0][1]
    # every loser was told who the winner is (or that the record was still being written)
    assert {o[2] for o in outcomes if o[0] == "held"} <= {winner_pid, None}


def test_a_crashed_holder_leaves_a_stale_lock_that_is_detected_and_taken_over(tmp_path):
    child = spawn.Process(target=workers.acquire_then_crash, args=(str(tmp_path),))
    child.start()
    child.join(30)
    assert child.exitcode == 3
    store = LocalStore(tmp_path)
    assert store.lock_path().exists(), "the crash left the lock file behind"

    status = store.inspect_lock()
    assert status.state is LockState.STALE
    assert (status.holder.pid, status.holder.owner, status.holder_alive) == (child.pid, "doomed apply", False)

    lease = store.acquire(owner="next apply")
    assert lease.took_over_from.pid == child.pid
    assert lease.holder.pid == os.getpid()
    assert store.inspect_lock().holder.owner == "next apply"


def test_the_same_process_cannot_take_the_lock_twice(tmp_path):
    store = LocalStore(tmp_path)
    lease = store.acquire(owner="first")
    with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
        LocalStore(tmp_path).acquire(owner="second")
    store.release(lease)


def test_release_is_idempotent_and_a_released_lease_cannot_be_renewed(tmp_path):
    store = LocalStore(tmp_path)
    lease = store.acquire()
    assert store.renew(lease) == lease
    store.release(lease)
    store.release(lease)
    assert not store.lock_path().exists()
    assert store.inspect_lock().state is LockState.FREE
    with pytest.raises(LockLost):
        store.renew(lease)


def test_renew_notices_a_lock_file_removed_behind_our_back(tmp_path):
    store = LocalStore(tmp_path)
    lease = store.acquire()
    store.lock_path().unlink()
    with pytest.raises(LockLost, match="removed or replaced"):
        store.renew(lease)
    store.release(lease)


def test_locks_with_different_names_are_independent_and_ttl_is_accepted(tmp_path):
    from datetime import timedelta

    store = LocalStore(tmp_path)
    with (
        held(store, "apply", owner="apply") as apply_lease,
        held(store, "leader", ttl=timedelta(seconds=30)) as lead,
    ):
        assert {apply_lease.name, lead.name} == {"apply", "leader"}
        assert lead.expires_at is None, "a local lock never expires; the kernel frees it when the holder dies"
    assert store.inspect_lock("leader").state is LockState.FREE


def test_held_releases_even_when_the_block_fails(tmp_path):
    store = LocalStore(tmp_path)
    with pytest.raises(RuntimeError), held(store):
        raise RuntimeError("apply crashed inside the block")
    assert store.inspect_lock().state is LockState.FREE


@pytest.mark.parametrize("name", ["", "../apply", "a/b", ".hidden", "x" * 129, "apply.lock"])
def test_lock_names_that_are_not_plain_file_names_are_refused(tmp_path, name):
    with pytest.raises(StoreError, match="invalid lock name"):
        LocalStore(tmp_path).acquire(name)
