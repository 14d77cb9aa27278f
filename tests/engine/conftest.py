"""Fakes for executor tests: a clock that only moves when the executor sleeps, and scripted actions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.engine import NodeView, Outcome, RunContext

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Starts at T0; ``sleep(s)`` advances it instantly and records the sleep."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, "the executor must never ask to sleep a negative time"
        with self._lock:
            self.sleeps.append(seconds)
            self._now += timedelta(seconds=seconds)


Step = Outcome | Callable[[RunContext], Outcome] | BaseException


class Script:
    """An action that answers from a per-node list of steps; the last step repeats forever.

    A step is an outcome, a function of the RunContext, or an exception to raise. Every call is recorded as
    (node id, ctx) in call order.
    """

    def __init__(self, steps: dict[str, Sequence[Step]], default: Step | None = None) -> None:
        self.steps = {k: list(v) for k, v in steps.items()}
        self.default = default
        self.calls: list[tuple[str, RunContext]] = []
        self._lock = threading.Lock()

    def __call__(self, node: NodeView, ctx: RunContext) -> Outcome:
        with self._lock:
            self.calls.append((node.id, ctx))
            steps = self.steps.get(node.id)
            if steps is None:
                assert self.default is not None, f"no script for {node.id}"
                step = self.default
            else:
                step = steps[min(ctx.call, len(steps)) - 1]
        if isinstance(step, BaseException):
            raise step
        return step(ctx) if callable(step) else step

    def call_times(self, node_id: str) -> list[datetime]:
        return [ctx.now for nid, ctx in self.calls if nid == node_id]

    def order(self) -> list[str]:
        return [nid for nid, _ in self.calls]


def nodes(spec: dict[str, str | Sequence[str]], kind: str = "thing") -> list[NodeView]:
    """``{"b": "a", "c": ["a", "b"], "a": ()}`` -> nodes with those dependencies."""
    out = []
    for node_id, deps in spec.items():
        dep_set = frozenset([deps]) if isinstance(deps, str) else frozenset(deps)
        out.append(NodeView(id=node_id, kind=kind, depends_on=dep_set))
    return out


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
