"""A bounded fan-out of dependent read tasks (list a gallery, then each of its definitions, ...).

Workers only do I/O and return results; the callback that turns a result into follow-up tasks runs on the
calling thread, so readers never share mutable state across threads. The depth of the tree (subscription
-> gallery -> definition -> versions) is what bounds wall time, not the number of collections (limits.md A8).
Finished tasks arrive through a queue (O(1) each): `concurrent.futures.wait` over thousands of pending
futures cost seconds of CPU on the large estate.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class TaskTree:
    """`submit(fn, *args, then=callback)`; `run()` returns when every task and its follow-ups finished.

    The first failure cancels what has not started and is re-raised after in-flight tasks end."""

    def __init__(self, max_workers: int):
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="observe")
        self._done: queue.SimpleQueue[tuple[Future, Callable[[Any], None] | None]] = queue.SimpleQueue()
        self._pending: set[Future] = set()

    def submit(self, fn: Callable[..., Any], *args: Any, then: Callable[[Any], None] | None = None) -> None:
        future = self._pool.submit(fn, *args)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._done.put((f, then)))

    def run(self) -> None:
        try:
            while self._pending:
                future, then = self._done.get()
                self._pending.discard(future)
                result = future.result()  # raises the worker's exception here
                if then is not None:
                    then(result)
        except BaseException:
            for future in self._pending:
                future.cancel()
            raise
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
