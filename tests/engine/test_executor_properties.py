"""Properties on random DAGs: one terminal state per node, and nothing runs before its dependencies."""

import threading
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.engine import Failed, NodeStatus, RetryPolicy, WaitUntil, execute
from reconciler.engine.outcome import changed, ok, retry_in

from .conftest import FakeClock, nodes

STEP = st.sampled_from(["ok", "changed", "fail", "raise", "wait", "retry"])


@st.composite
def dags(draw):
    """A DAG whose node i may depend only on nodes before it (so it is acyclic by construction), with a
    script of 1-3 steps per node."""
    count = draw(st.integers(min_value=1, max_value=12))
    graph, scripts = {}, {}
    for i in range(count):
        deps = draw(st.sets(st.integers(min_value=0, max_value=i - 1), max_size=3)) if i else set()
        graph[f"n{i:02d}"] = [f"n{d:02d}" for d in sorted(deps)]
        scripts[f"n{i:02d}"] = draw(st.lists(STEP, min_size=1, max_size=3))
    return graph, scripts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dag=dags(),
    parallelism=st.integers(min_value=1, max_value=4),
    max_wait_minutes=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
    budget_minutes=st.one_of(st.none(), st.integers(min_value=0, max_value=30)),
)
def test_random_dags_end_every_node_in_exactly_one_consistent_state(
    dag, parallelism, max_wait_minutes, budget_minutes
):
    graph, scripts = dag
    if max_wait_minutes is None and (budget_minutes is None or budget_minutes >= 15):
        # the last step repeats forever: a node that always waits would, rightly, never end without a deadline
        scripts = {k: v + ["ok"] if v[-1] == "wait" else v for k, v in scripts.items()}
    clock = FakeClock()
    done: set[str] = set()
    called: set[str] = set()
    violations: list[str] = []
    lock = threading.Lock()

    def action(node, ctx):
        with lock:
            called.add(node.id)
            missing = sorted(set(node.depends_on) - done)
            if missing:
                violations.append(f"{node.id} called before {missing} were done")
        steps = scripts[node.id]
        step = steps[min(ctx.call, len(steps)) - 1]
        if step == "raise":
            raise RuntimeError("boom")
        outcome = {
            "ok": ok(),
            "changed": changed(),
            "fail": Failed("nope"),
            "wait": WaitUntil(ctx.now + timedelta(minutes=15), "waiting"),
            "retry": retry_in(1, "again"),
        }[step]
        if step in ("ok", "changed"):
            with lock:
                done.add(node.id)
        return outcome

    max_wait = None if max_wait_minutes is None else timedelta(minutes=max_wait_minutes)
    report = execute(
        nodes(graph),
        action,
        parallelism=parallelism,
        clock=clock.now,
        sleeper=clock.sleep,
        retry=RetryPolicy(max_attempts=3),
        max_wait=max_wait,
        wait_budget=None if budget_minutes is None else timedelta(minutes=budget_minutes),
    )

    assert violations == []
    assert list(report.results) == sorted(graph), "exactly one result per node, in id order"
    status = {node_id: r.status for node_id, r in report.results.items()}
    for node_id, deps in graph.items():
        s = status[node_id]
        if s in (NodeStatus.OK, NodeStatus.CHANGED):
            assert node_id in done
            assert all(status[d] in (NodeStatus.OK, NodeStatus.CHANGED) for d in deps)
        if s is NodeStatus.SKIPPED:
            assert node_id not in called
            assert any(status[d] in (NodeStatus.FAILED, NodeStatus.SKIPPED) for d in deps)
        if s is NodeStatus.PENDING:
            assert node_id not in called
        if s in (NodeStatus.WAITING, NodeStatus.FAILED):
            assert node_id in called
        if s is NodeStatus.WAITING and report.results[node_id].handed_back:
            assert (budget_minutes is not None and budget_minutes < 15) or report.deadline is not None
        elif s is NodeStatus.WAITING:
            assert report.results[node_id].resume_at >= report.deadline
    assert report.outcome.ok == (not report.timed_out and report.succeeded)
    if max_wait is None and (budget_minutes is None or budget_minutes >= 15):
        assert report.complete, "without a deadline every node reaches done, failed or skipped"
    elif max_wait is not None:
        assert report.finished_at <= report.deadline
