"""IR for sets (B, N, C) and graphs (x (B, N, C), adj (B, N, N)): permutation-equivariant blocks, then heads."""
from __future__ import annotations

import networkx as nx

from ..groups import TrivialGroup
from ..spec.model import Spec
from .graph import Architecture, GraphBuilder
from .sequence import add_token_head, attention_flops, attention_params
from .symmetry import Symmetry, check_lowering


def build_set_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    b = GraphBuilder(symmetry)
    size = arch.input_size
    count = size[0]
    channels = spec.domain.channels
    node = b.add("input", None, b.scalars(channels, size), channels=channels)
    features = channels
    if arch.backbone == "attention":
        width = arch.widths[0]
        node = b.add("embed", node, b.scalars(width, size), in_features=channels, out_features=width,
                     params=channels * width + width, flops=2 * count * channels * width, algorithm="linear",
                     reason="the same map for every element")
        for layer in range(arch.depth):
            node = b.add("attention", node, b.scalars(width, size), width=width, heads=arch.heads, rotary=False,
                         circular=False, symmetric=False, activation=arch.activation, params=attention_params(width),
                         flops=attention_flops(width, count), layer=layer, algorithm=f"{arch.heads} heads",
                         reason="no positions: attention commutes with reordering; padded elements masked out")
        features = width
    else:
        for layer, width in enumerate(arch.widths):
            node = b.add("deepsets", node, b.scalars(width, size), in_features=features, out_features=width,
                         mode=arch.pooling, norm=arch.norm != "none", activation=arch.activation,
                         params=2 * features * width + width + (2 * width if arch.norm != "none" else 0),
                         flops=2 * count * 2 * features * width, layer=layer, algorithm=f"{arch.pooling} pool",
                         reason="own map plus a map of the pooled set: commutes with reordering")
            features = width
    trunk = node
    for index, output in enumerate(spec.outputs):
        add_token_head(b, trunk, features, size, arch, index, output.kind, output.size, "set_pool")
    return b.graph


def build_graph_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    b = GraphBuilder(symmetry)
    size = arch.input_size
    count = size[0]
    channels = spec.domain.channels
    node = b.add("input", None, b.scalars(channels, size), channels=channels)
    features = channels
    for layer, width in enumerate(arch.widths):
        node = b.add("message_passing", node, b.scalars(width, size), in_features=features, out_features=width,
                     norm=arch.norm != "none", activation=arch.activation,
                     params=2 * features * width + width + (2 * width if arch.norm != "none" else 0),
                     flops=2 * count * 2 * features * width + 2 * count * count * width, layer=layer,
                     algorithm="dense adj @ messages",
                     reason="a permutation moves adjacency rows and columns with the nodes: messages follow")
        features = width
    trunk = node
    for index, output in enumerate(spec.outputs):
        add_token_head(b, trunk, features, size, arch, index, output.kind, output.size, "set_pool")
    return b.graph


def analyze_set(spec: Spec) -> Symmetry:
    """Permutations of the elements."""
    check_lowering(spec)
    return Symmetry(domain="set", group=TrivialGroup(), translation=False, permutation=True,
                    summary="permutations of the N elements",
                    exactness="exact for every permutation: elements only meet through symmetric pooling")


def analyze_graph(spec: Spec) -> Symmetry:
    """Permutations of the nodes."""
    check_lowering(spec)
    return Symmetry(domain="graph", group=TrivialGroup(), translation=False, permutation=True,
                    summary="permutations of the N nodes (x[:, p], adj[:, p][:, :, p])",
                    exactness="exact for every node permutation: messages travel through the adjacency, which "
                              "permutes with the nodes")
