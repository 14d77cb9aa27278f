"""Functions run in child processes (spawned, so they share no descriptors with the test process)."""

from __future__ import annotations

import os
import socket

from reconciler.store import LocalStore, LockHeld


def hold_until_told(root: str, owner: str, ready, stop) -> None:
    store = LocalStore(root)
    lease = store.acquire(owner=owner)
    ready.set()
    stop.wait(30)
    store.release(lease)


def acquire_then_crash(root: str) -> None:
    LocalStore(root).acquire(owner="doomed apply")
    os._exit(3)  # no release, no cleanup: what a kill -9 or an OOM leaves behind


def race_for_the_lock(root: str, barrier, results, done) -> None:
    store = LocalStore(root)
    barrier.wait(30)
    try:
        lease = store.acquire(owner=f"racer {os.getpid()}")
    except LockHeld as exc:
        results.put(("held", os.getpid(), exc.holder.pid if exc.holder else None))
        return
    results.put(("won", os.getpid(), socket.gethostname()))
    done.wait(30)  # keep holding until every racer has tried
    store.release(lease)


def append_many(root: str, writer: int, count: int) -> None:
    store = LocalStore(root)
    for i in range(count):
        store.append_history({"writer": writer, "seq": i, "pad": "x" * 200})
