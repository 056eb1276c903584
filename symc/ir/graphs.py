"""IR for sparse graphs in PyG's flat layout: x (N, C), edge_index (2, M), edge_attr (M, E), batch (N,) ->
node embedding -> message passing along the edges (MLP messages of [h_i, h_j, e_ij], in chunks of edges) -> heads
pooled per graph or per node.

The graph plug-in's symmetry and IR hooks land here and dispatch: sparse specs (edge features or the `sparse` hint,
symc.domains.graph.is_sparse) are built below, dense ones (x (B, N, C), adj (B, N, N)) by symc/ir/sets.py unchanged.
"""
from __future__ import annotations

import networkx as nx

from ..domains.graph import is_sparse
from ..groups import TrivialGroup
from ..spec.model import Spec
from .graph import Architecture, GraphBuilder
from .sequence import add_token_head
from .sets import analyze_graph, build_graph_ir
from .symmetry import Symmetry, check_lowering

EDGES_PER_NODE = 10
"""Edges per node the costs assume (the plan states it): about what molecules and meshes (3-12) and citation or
product graphs (5-30) have."""


def analyze_any_graph(spec: Spec) -> Symmetry:
    """The graph plug-in's symmetry hook: sparse graphs here, dense ones by symc.ir.sets.analyze_graph."""
    return analyze_sparse_graph(spec) if is_sparse(spec) else analyze_graph(spec)


def build_any_graph_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """The graph plug-in's IR hook: sparse graphs here, dense ones by symc.ir.sets.build_graph_ir."""
    return build_sparse_graph_ir(spec, symmetry, arch) if is_sparse(spec) else build_graph_ir(spec, symmetry, arch)


def analyze_sparse_graph(spec: Spec) -> Symmetry:
    """Relabellings of the nodes, with the edges and the batch vector following them; orders of edges and graphs."""
    check_lowering(spec)
    return Symmetry(domain="graph", group=TrivialGroup(), translation=False, permutation=True,
                    summary="relabellings of the N nodes (x[p], edge_index through p's inverse, batch[p]), any "
                            "order of the edges and of the graphs in a batch",
                    exactness="exact for every relabelling and order: messages are summed into their target node "
                              "and nodes pooled per graph, sums no order changes beyond round-off")


def message_params(in_features: int, out_features: int, edge_features: int, norm: str) -> int:
    """Receiver A (with the hidden bias), sender B, edge map C, output map W, own map U (with bias), the norm's
    scale and shift, and a skip map when the width changes (symc.nn.graphs.SparseMessagePassing)."""
    a, w = in_features, out_features
    return (3 * a * w + 2 * w + edge_features * w + w * w + (2 * w if norm != "none" else 0)
            + (a * w if a != w else 0))


def message_flops(in_features: int, out_features: int, edge_features: int, nodes: int, edges: int) -> int:
    """Per node: A, B, U (a x w each) and W (w x w); per edge: the edge map (E x w), two adds, the activation and the
    scatter-add."""
    a, w = in_features, out_features
    return 2 * nodes * (3 * a * w + w * w) + edges * w * (2 * edge_features + 4)


def build_sparse_graph_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    b = GraphBuilder(symmetry)
    size = arch.input_size
    nodes = size[0]
    edges = nodes * EDGES_PER_NODE
    channels, edge_channels = spec.domain.channels, spec.domain.edge_channels
    node = b.add("input", None, b.scalars(channels, size), channels=channels, edge_channels=edge_channels)
    width = arch.widths[0]
    node = b.add("embed", node, b.scalars(width, size), in_features=channels, out_features=width,
                 params=channels * width + width, flops=2 * nodes * channels * width, algorithm="linear",
                 reason="the same map for every node")
    features = width
    chunk = arch.edge_chunk
    edge_text = (f"edge features through the layer's own {edge_channels} -> {width} map" if edge_channels else
                 "no edge features")
    for layer, width in enumerate(arch.widths):
        node = b.add("message_passing", node, b.scalars(width, size), in_features=features, out_features=width,
                     edge_features=edge_channels, chunk=chunk, norm=arch.norm, activation=arch.activation,
                     params=message_params(features, width, edge_channels, arch.norm),
                     flops=message_flops(features, width, edge_channels, nodes, edges), layer=layer,
                     algorithm=f"edges, {chunk:,} at a time",
                     reason=f"MLP messages of [h_i, h_j, e_ij] ({edge_text}) summed into the target i and scaled "
                            "by 1 / sqrt(its in-degree), then a residual update: relabelling nodes or reordering "
                            "edges reorders the sum only")
        features = width
    trunk = node
    for index, output in enumerate(spec.outputs):
        add_token_head(b, trunk, features, size, arch, index, output.kind, output.size, "set_pool")
    return b.graph
