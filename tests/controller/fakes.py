"""A recording cycle for loop tests (the loop's contract is a callable; the real one is tested end to end)."""

from __future__ import annotations

import threading

from reconciler.controller.cycle import CycleInput, CycleResult


class RecordingCycle:
    def __init__(self, results: list[CycleResult] | None = None) -> None:
        self.inputs: list[CycleInput] = []
        self.results = list(results or [])
        self.called = threading.Event()

    def __call__(self, inp: CycleInput) -> CycleResult:
        self.inputs.append(inp)
        self.called.set()
        if self.results:
            return self.results.pop(0)
        return CycleResult(
            ok=True,
            drift={"host-pool": 1},
            actions={("host-pool", "changed"): 1},
            arm_requests={("GET", "200"): 3},
            hosts={("hp-a", "1.0.0"): 2},
        )

    @property
    def commits(self) -> list[str]:
        return [i.commit for i in self.inputs]


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
