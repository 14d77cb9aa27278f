"""The dependency graph the executor runs: what a node must offer, and the checks done before running.

The executor does not know plans or changes. Anything with a string ``id``, a ``kind`` (for the recap) and
the ids it ``depends_on`` can be executed; a plan's changes are adapted with :class:`NodeView` (or any
object that satisfies :class:`ExecNode`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ExecNode(Protocol):
    """One unit of work. ``id`` must be unique in the graph; ``depends_on`` names other nodes' ids."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def depends_on(self) -> Collection[str]: ...


@dataclass(frozen=True)
class NodeView:
    """A thin adapter: wraps any payload (e.g. a planner ``Change``) as an :class:`ExecNode`.

    ``payload`` is handed back to ``run_action`` untouched, so the action sees the original object.
    """

    id: str
    kind: str
    depends_on: frozenset[str] = frozenset()
    payload: Any = field(default=None, compare=False)


def nodes_from_changes(changes: Iterable[Any]) -> list[NodeView]:
    """Adapt a plan's changes: each change's ``key`` is its id and ``depends_on`` lists other changes' keys.

    Duck-typed on purpose (``key``, ``kind``, ``depends_on``), so the executor stays independent of the
    plan's other fields; the action gets the change back as ``node.payload``.
    """
    return [NodeView(id=c.key, kind=c.kind, depends_on=frozenset(c.depends_on), payload=c) for c in changes]


class GraphError(ValueError):
    """The graph cannot be executed: duplicate ids, unknown dependencies or a cycle."""


@dataclass(frozen=True)
class Graph:
    """A validated graph: nodes by id, each node's dependencies and its dependents (sorted, for
    deterministic order)."""

    nodes: Mapping[str, ExecNode]
    deps: Mapping[str, frozenset[str]]
    dependents: Mapping[str, tuple[str, ...]]

    def roots(self) -> list[str]:
        return sorted(node_id for node_id, deps in self.deps.items() if not deps)


def build_graph(nodes: Iterable[ExecNode]) -> Graph:
    """Index and validate ``nodes``; raise :class:`GraphError` naming every problem found."""
    by_id: dict[str, ExecNode] = {}
    problems: list[str] = []
    for node in nodes:
        if node.id in by_id:
            problems.append(f"duplicate node id {node.id!r}")
        by_id[node.id] = node
    deps: dict[str, frozenset[str]] = {}
    dependents: dict[str, list[str]] = {node_id: [] for node_id in by_id}
    for node_id, node in by_id.items():
        wanted = frozenset(node.depends_on)
        if node_id in wanted:
            problems.append(f"node {node_id!r} depends on itself")
        for missing in sorted(wanted - by_id.keys()):
            problems.append(f"node {node_id!r} depends on unknown node {missing!r}")
        deps[node_id] = frozenset(d for d in wanted if d in by_id and d != node_id)
        for dep in deps[node_id]:
            dependents[dep].append(node_id)
    if not problems:
        cycle = _find_cycle(deps)
        if cycle:
            problems.append("dependency cycle: " + " -> ".join(cycle))
    if problems:
        raise GraphError("; ".join(problems))
    return Graph(
        nodes=dict(sorted(by_id.items())),
        deps=deps,
        dependents={node_id: tuple(sorted(ds)) for node_id, ds in dependents.items()},
    )


def _find_cycle(deps: Mapping[str, frozenset[str]]) -> list[str]:
    """Return one cycle as a path (first node repeated at the end), or [] when the graph is acyclic.

    Iterative depth-first search, so a long chain of thousands of changes does not hit the recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(deps, white)
    for start in sorted(deps):
        if colour[start] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(deps[start]))]
        colour[start] = grey
        while stack:
            node, pending = stack[-1]
            if not pending:
                colour[node] = black
                stack.pop()
                continue
            nxt = pending.pop(0)
            if colour[nxt] == grey:
                path = [n for n, _ in stack]
                return path[path.index(nxt) :] + [nxt]
            if colour[nxt] == white:
                colour[nxt] = grey
                stack.append((nxt, sorted(deps[nxt])))
    return []
