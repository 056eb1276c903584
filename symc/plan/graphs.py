"""Architecture choices for sparse graphs (edge features or the `sparse` hint, PyG's flat layout): messages,
degree normalization, norm, pooling, widths and the edge chunk sized to the target's memory, each with its reason.

The graph plug-in's architecture hook lands here; dense graphs go to symc.plan.domains.graph_architecture unchanged.
"""
from __future__ import annotations

from ..domains.graph import is_sparse
from ..ir.graph import Architecture
from ..ir.graphs import EDGES_PER_NODE
from ..ir.symmetry import Symmetry
from ..spec.model import Spec
from .domains import DEFAULT_ELEMENTS, DEFAULT_TOKEN_WIDTH, _depth, _finish, _unordered_encoding
from .domains import graph_architecture as dense_graph_architecture
from .hardware import Hardware
from .sizing import _replace

DEFAULT_DEPTH = 3
CHUNK_MEMORY_SHARE = 1 / 64   # of the target's memory, for the per-edge rows of one chunk of edges
CPU_CHUNK_BYTES = 16 * 2 ** 20  # on CPUs the chunk's rows stay within the caches as well
MIN_CHUNK, MAX_CHUNK = 1024, 1 << 20
DEFAULT_MEMORY = 16e9
ROWS_PER_EDGE = 5             # two gathered node rows, the edge term, their sum and its activation


def graph_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                       dtype: str = "float32") -> Architecture:
    """The graph plug-in's architecture hook: sparse graphs here, dense ones as symc.plan.domains chooses them."""
    if not is_sparse(spec):
        return dense_graph_architecture(spec, symmetry, hardware, dtype)
    return sparse_graph_architecture(spec, symmetry, hardware, dtype)


def edge_bytes(width: int, dtype: str = "float32") -> int:
    """Bytes one edge's rows take while its chunk is computed: ROWS_PER_EDGE rows of `width` values."""
    return ROWS_PER_EDGE * width * (2 if dtype in ("bfloat16", "float16") else 4)


def edge_chunk(per_edge: int, memory: float, cpu: bool) -> int:
    """Edges per chunk: CHUNK_MEMORY_SHARE of the memory (on CPUs at most CPU_CHUNK_BYTES), a power of two within
    MIN_CHUNK..MAX_CHUNK."""
    budget = int(memory * CHUNK_MEMORY_SHARE)
    if cpu:
        budget = min(budget, CPU_CHUNK_BYTES)
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, budget // per_edge))
    return 1 << (chunk.bit_length() - 1)


def sparse_graph_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                              dtype: str = "float32") -> Architecture:
    hints = spec.hints
    reasons: dict[str, str] = {}
    size = spec.domain.shape or (DEFAULT_ELEMENTS,)
    channels, edge_channels = spec.domain.channels, spec.domain.edge_channels
    reasons["input"] = ("PyG's flat layout: the N nodes of G graphs, edge_index (2, M) from source j (row 0) to "
                        "target i (row 1), batch (N,) naming each node's graph; any N and M work, costs assume "
                        f"one graph of {size[0]} nodes and {EDGES_PER_NODE} edges per node")
    reasons["backbone"] = (
        "message passing along the edges j -> i, m_ij = W act(A h_i + B h_j + C e_ij + b): an MLP of [h_i, h_j, "
        "e_ij] (the edge-network form, richer than GINE's h_j + e_ij, which ignores the receiver) at GINE's cost "
        "per edge, because A h and B h are computed per node and gathered and W, being linear, is applied once per "
        "node after the sum; "
        + (f"each layer reads the {edge_channels} edge features through its own {edge_channels} -> W map (a shared "
           "edge embedding followed by the MLP's first layer would be the same linear map at W x W more FLOPs per "
           "edge); edges are not updated: edge states would have to be kept as (M, W) between layers, which "
           "chunking cannot bound; " if edge_channels else "no edge features (the 'sparse' hint); ")
        + "sums divided by sqrt(in-degree of i), a function of the target alone, so the scale is invariant and "
        "stays bounded while degree still shows; then h_i + act(norm(U h_i + messages))")
    _unordered_encoding(spec, "graph", reasons)
    norm = hints.norm or "layer"
    if norm == "group":
        raise spec.error("hint.norm", "'norm group' is not available for sparse graphs: use 'norm layer' (over each "
                         "node's features, the default), 'norm batch' (over all nodes of the batch) or 'norm none'")
    reasons["norm"] = {"layer": "layer norm over each node's features" + ("" if hints.norm else " (default)"),
                       "batch": "batch norm over the batch's nodes (hint): invariant to their order; in training "
                                "the graphs of a batch share its statistics",
                       "none": "none (hint)"}[norm]
    pooling = {"max": "max", "avg": "mean", None: "mean"}[hints.pooling]
    reasons["pooling"] = (f"{pooling} over each graph's nodes for graph-level outputs" +
                          (" (hint)" if hints.pooling else " ('pooling max' for the largest response)"))
    depth = _depth(spec, DEFAULT_DEPTH, reasons)
    arch = Architecture(widths=(), kernels=(), downsample_after=(), input_size=size, norm=norm,
                        activation=hints.activation or "relu", pooling=pooling, backbone="message passing",
                        position_encoding="none", layout=layout_text(channels, edge_channels), reasons=reasons)
    arch = _finish(spec, symmetry, arch, (DEFAULT_TOKEN_WIDTH,) * depth, f"{DEFAULT_TOKEN_WIDTH} features per node",
                   "features per node")
    memory = hardware.memory if hardware is not None else DEFAULT_MEMORY
    cpu = hardware is None or hardware.kind == "cpu"
    width = max(arch.widths)
    per_edge = edge_bytes(width, dtype)
    chunk = edge_chunk(per_edge, memory, cpu)
    target = hardware.name if hardware is not None else "the default target"
    share = f"1/{round(1 / CHUNK_MEMORY_SHARE)} of {target}'s {memory / 1e9:.3g} GB"
    why = (f"at most {CPU_CHUNK_BYTES // 2 ** 20} MiB on a CPU (and {share}), so the chunk's rows stay in its "
           "caches: 100k nodes and 1M edges take about 0.9 s at 8,192 edges per chunk against 2.0 s at 131,072 on "
           "one thread" if cpu else share)
    reasons["edge chunk"] = (
        f"{chunk:,} edges at a time: {per_edge:,} B per edge ({ROWS_PER_EDGE} rows of {width} values: two gathered "
        f"node rows, the edge term, their sum, its activation), {chunk * per_edge / 2 ** 20:.3g} MiB per chunk, "
        f"{why}; besides, the edges sorted by target take {16 + 4 * edge_channels} B each for the whole forward. "
        "With gradients on and more than one chunk each chunk is checkpointed (recomputed in the backward pass), so "
        "the per-edge rows are not kept for it either and gradients are exact; a single chunk (small graphs) runs "
        "without recomputation")
    return _replace(arch, edge_chunk=chunk)


def layout_text(channels: int, edge_channels: int) -> str:
    edges = f", edge_attr (M, {edge_channels})" if edge_channels else ""
    return f"x (N, {channels}), edge_index (2, M){edges}, batch (N,)"
