"""Dependency order, the parallelism bound and reproducible ordering."""

import threading
import time

import pytest

from reconciler.engine import EventKind, NodeStatus, execute
from reconciler.engine.outcome import changed, ok

from .conftest import Script, nodes

GRAPHS = {
    "chain": {"a": (), "b": "a", "c": "b", "d": "c"},
    "diamond": {"top": (), "left": "top", "right": "top", "bottom": ["left", "right"]},
    "forest": {"a1": (), "a2": "a1", "b1": (), "b2": "b1", "b3": ["b2", "a1"]},
    "wide": {f"n{i}": () for i in range(6)} | {"sink": [f"n{i}" for i in range(6)]},
}


@pytest.mark.parametrize("parallelism", [1, 2, 4])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_node_runs_after_all_its_dependencies(clock, name, parallelism):
    graph = GRAPHS[name]
    script = Script({}, default=changed())
    report = execute(nodes(graph), script, parallelism=parallelism, clock=clock.now, sleeper=clock.sleep)
    order = script.order()
    assert sorted(order) == sorted(graph), "every node is called exactly once"
    for node in nodes(graph):
        for dep in node.depends_on:
            assert order.index(dep) < order.index(node.id), f"{node.id} ran before its dependency {dep}"
    assert {r.status for r in report.results.values()} == {NodeStatus.CHANGED}
    assert report.complete and report.succeeded


@pytest.mark.parametrize("parallelism", [1, 2, 3, 5])
def test_the_parallelism_bound_is_never_exceeded(clock, parallelism):
    running, peak = 0, 0
    lock = threading.Lock()

    def action(node, ctx):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)  # real time, so that calls overlap if the executor lets them
        with lock:
            running -= 1
        return ok()

    # The executor's own count too: it must not hand the pool more than `parallelism` nodes (a queued one
    # would be reported as started while it is not, with a stale ctx.now).
    dispatched, dispatched_peak = 0, 0

    def sink(event):
        nonlocal dispatched, dispatched_peak
        dispatched += 1 if event.kind is EventKind.STARTED else -1
        dispatched_peak = max(dispatched_peak, dispatched)

    graph = {f"n{i:02d}": () for i in range(10)} | {"after": ["n00", "n01"], "last": "after"}
    report = execute(
        nodes(graph), action, parallelism=parallelism, clock=clock.now, sleeper=clock.sleep, on_event=sink
    )
    assert peak == parallelism
    assert dispatched_peak == parallelism
    assert len(report.with_status(NodeStatus.OK)) == len(graph)


def test_ready_nodes_start_in_id_order_so_runs_are_reproducible(clock):
    graph = {"c": (), "a": (), "b": (), "z": "a", "y": "a", "x": ["b", "c"]}
    orders = []
    for _ in range(3):
        script = Script({}, default=ok())
        execute(nodes(graph), script, parallelism=1, clock=clock.now, sleeper=clock.sleep)
        orders.append(script.order())
    # on a fake clock every node becomes ready at the same instant, so the order is simply by id among
    # what is ready: "x" (released by "c") overtakes "y" and "z" (released earlier by "a")
    assert orders[0] == ["a", "b", "c", "x", "y", "z"]
    assert orders[0] == orders[1] == orders[2]


def test_events_tell_the_story_of_a_run_on_the_calling_thread(clock):
    events = []
    caller = threading.get_ident()

    def sink(event):
        assert threading.get_ident() == caller
        events.append((event.kind, event.node_id))

    execute(
        nodes({"a": (), "b": "a"}),
        Script({}, default=ok()),
        clock=clock.now,
        sleeper=clock.sleep,
        on_event=sink,
    )
    assert events == [
        (EventKind.STARTED, "a"),
        (EventKind.DONE, "a"),
        (EventKind.STARTED, "b"),
        (EventKind.DONE, "b"),
    ]


def test_an_empty_graph_is_a_complete_run(clock):
    report = execute([], Script({}), clock=clock.now, sleeper=clock.sleep)
    assert report.results == {} and report.complete and report.succeeded


def test_parallelism_must_be_positive(clock):
    with pytest.raises(ValueError, match="parallelism"):
        execute([], Script({}), parallelism=0, clock=clock.now, sleeper=clock.sleep)
