"""The IR graph for images: typed operations, and field types on every edge."""
import subprocess
import sys

import networkx as nx

import symc
from symc.groups.fields import FieldType


def graph_of(text):
    return symc.compile(text).plan.graph


def ops_in_order(graph):
    return [graph.nodes[n]["op"] for n in nx.topological_sort(graph)]


def test_invariant_image_model_is_a_typed_chain():
    graph = graph_of("image 1x28x28; p4; invariant output 10")
    assert nx.is_directed_acyclic_graph(graph)
    assert ops_in_order(graph) == [
        "input", "lift", "norm", "activation",
        "group_conv", "norm", "activation", "downsample",
        "group_conv", "norm", "activation", "downsample",
        "group_conv", "norm", "activation",
        "global_pool", "group_pool", "head", "output"]
    for a, b, data in graph.edges(data=True):
        field = data["field"]
        assert isinstance(field, FieldType)
        assert field.group == "C4" and field.order == 4
    lift = next(n for n in graph if graph.nodes[n]["op"] == "lift")
    (_, _, into_lift), = graph.in_edges(lift, data=True)
    (_, _, out_of_lift), = graph.out_edges(lift, data=True)
    assert into_lift["field"] == FieldType.of("C4", 4, trivial=1, spatial=(28, 28))
    assert out_of_lift["field"] == FieldType.of("C4", 4, regular_fields=16, spatial=(28, 28))
    # Positions are pooled first, keeping the group axis; the spectrum keeps 3 lengths per field (C4 has 3 real
    # classes: the identity, the quarter turns, the half turn).
    pooled = [d["field"] for _, b, d in graph.edges(data=True) if graph.nodes[b]["op"] == "global_pool"]
    assert pooled == [FieldType.of("C4", 4, regular_fields=64, spatial=(7, 7))]
    spectrum = [d["field"] for a, _, d in graph.edges(data=True) if graph.nodes[a]["op"] == "group_pool"]
    assert spectrum == [FieldType.of("C4", 4, trivial=192, spatial=())]


def test_several_outputs_branch_from_one_trunk():
    graph = graph_of("image 3x21x21; D4; equivariant output 2; equivariant output 3 fields; orientation output 1; "
                     "depth 2")
    outputs = [n for n in graph if graph.nodes[n]["op"] == "output"]
    assert len(outputs) == 3
    branch_points = [n for n in graph if graph.out_degree(n) > 1]
    assert len(branch_points) == 1 and graph.nodes[branch_points[0]]["stage"] == "trunk"
    kinds = {graph.nodes[n]["kind"]: graph.nodes[n]["out"] for n in outputs}
    assert kinds["equivariant"] == FieldType.of("D4", 8, trivial=2, spatial=(21, 21))
    assert kinds["fields"] == FieldType.of("D4", 8, regular_fields=3, spatial=(21, 21))
    assert kinds["orientation"].shape() == (1, 8)
    assert "downsample" not in ops_in_order(graph), "full-resolution outputs keep every layer at input size"


def test_translation_only_is_the_trivial_group():
    graph = graph_of("image; translation; invariant output 3")
    assert {d["field"].order for _, _, d in graph.edges(data=True)} == {1}


def test_planning_does_not_import_torch():
    code = ("import sys, symc; symc.compile('image 1x28x28; p4m; invariant output 10').source; "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
