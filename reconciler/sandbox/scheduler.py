"""Due-time events on the sandbox clock (LRO completion, registration, session ends, build phases).

Events are plain data (kind + JSON payload) so the queue can be persisted. They run lazily: the app calls
``run_due(now)`` at the start of every request, so observable state always reflects sandbox time, whether or not
any client polls. Handlers get the event's own due time, so effects are stamped when they happened.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any], float], None]


class Scheduler:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, dict[str, Any]]] = []
        self._seq = itertools.count()
        self.handlers: dict[str, Handler] = {}

    def on(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def at(self, due: float, kind: str, payload: dict[str, Any]) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), kind, payload))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_due(self, now: float) -> int:
        ran = 0
        while self._heap and self._heap[0][0] <= now:
            due, _, kind, payload = heapq.heappop(self._heap)
            handler = self.handlers.get(kind)
            if handler is not None:
                handler(payload, due)
            ran += 1
        return ran

    def clear(self) -> None:
        self._heap.clear()

    def dump(self) -> list[list[Any]]:
        return [[due, kind, payload] for due, _, kind, payload in sorted(self._heap)]

    def load(self, items: list[list[Any]]) -> None:
        self.clear()
        for due, kind, payload in items:
            self.at(due, kind, payload)
