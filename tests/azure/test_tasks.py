"""TaskTree: dependent fan-out with callbacks on the calling thread, bounded workers, first error wins."""

from __future__ import annotations

import threading
import time

import pytest

from reconciler.azure.tasks import TaskTree


def test_follow_ups_run_until_the_tree_is_exhausted_and_callbacks_stay_on_the_caller():
    tree = TaskTree(max_workers=4)
    seen, caller = [], threading.get_ident()

    def on_level(level):
        assert threading.get_ident() == caller
        seen.append(level)
        if level < 3:
            for _ in range(2):
                tree.submit(lambda n=level: n + 1, then=on_level)

    tree.submit(lambda: 0, then=on_level)
    tree.run()
    assert sorted(seen) == [0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]


def test_never_more_workers_than_asked():
    tree, lock, running, peak = TaskTree(max_workers=3), threading.Lock(), [0], [0]

    def work():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    for _ in range(12):
        tree.submit(work)
    tree.run()
    assert peak[0] == 3


def test_the_first_failure_is_raised():
    tree = TaskTree(max_workers=2)

    def boom():
        raise ValueError("listing failed")

    tree.submit(boom)
    for _ in range(5):
        tree.submit(time.sleep, 0.01)
    with pytest.raises(ValueError, match="listing failed"):
        tree.run()
