import pytest

from reconciler.engine.graph import GraphError, NodeView, build_graph

from .conftest import nodes


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        ({"a": "b"}, "node 'a' depends on unknown node 'b'"),
        ({"a": "a"}, "node 'a' depends on itself"),
        ({"a": "c", "b": "a", "c": "b"}, "dependency cycle: a -> c -> b -> a"),
    ],
)
def test_unrunnable_graphs_are_refused_with_the_reason(graph, message):
    with pytest.raises(GraphError) as info:
        build_graph(nodes(graph))
    assert message in str(info.value)


def test_duplicate_ids_are_refused():
    with pytest.raises(GraphError, match="duplicate node id 'a'"):
        build_graph([NodeView("a", "k"), NodeView("a", "k")])


def test_dependents_and_roots_are_sorted():
    graph = build_graph(nodes({"z": (), "c": "z", "b": "z", "a": ()}))
    assert graph.roots() == ["a", "z"]
    assert graph.dependents["z"] == ("b", "c")


def test_a_long_chain_does_not_hit_the_recursion_limit():
    chain = {f"n{i:05d}": (f"n{i - 1:05d}" if i else ()) for i in range(5000)}
    assert len(build_graph(nodes(chain)).nodes) == 5000


def test_plan_changes_adapt_to_nodes_keyed_by_change_key():
    from reconciler.engine import nodes_from_changes
    from reconciler.model.plan import Action, Change

    gallery = Change(action=Action.CREATE, kind="gallery", resource_id="/x/galleries/g", reason="missing")
    image = Change(
        action=Action.CREATE,
        kind="image_definition",
        resource_id="/x/galleries/g/images/i",
        reason="missing",
        depends_on=(gallery.key,),
    )
    graph = build_graph(nodes_from_changes([image, gallery]))
    assert graph.roots() == [gallery.key]
    assert graph.dependents[gallery.key] == (image.key,)
    assert graph.nodes[image.key].payload is image
    assert graph.nodes[image.key].kind == "image_definition"
