"""Graphs: permutations of the nodes. Dense graphs take x (B, N, C) and an adjacency (B, N, N); sparse ones (with
edge features, or the `sparse` hint) take PyG's flat layout x (N, C), edge_index (2, M), edge_attr (M, E), batch (N,).
Each hook dispatches on `is_sparse`: dense specs reach the set-and-graph code (symc/ir/sets.py, ...) unchanged."""
from .base import Domain, count_text


def graph_clause(domain) -> str:
    text = "graph" + (f" with {count_text(domain.channels, 'feature')}"
                      if domain.channels != 1 or domain.edge_channels else "")
    if domain.edge_channels:
        text += f" and {count_text(domain.edge_channels, 'edge feature')}"
    return text if domain.shape is None else f"{text} {count_text(domain.shape[0], 'node')}"


def is_sparse(spec) -> bool:
    """Whether the graph spec asks for PyG's flat layout: edge features (`and E edge features`) or the `sparse`
    hint; forward(x (N, C), edge_index (2, M), edge_attr (M, E), batch (N,)) instead of (x (B, N, C), adj)."""
    return spec.domain.edge_channels > 0 or bool(spec.hints.sparse)


GRAPH = Domain(
    kind="graph",
    factors=frozenset({"permutation"}),
    instead="graphs use 'permutation'",
    outputs=frozenset({"invariant", "equivariant"}),
    positions=False,
    hints=frozenset({"sparse"}),
    clause_text=graph_clause,
    lowered=frozenset({"permutation"}),
    backbones=frozenset({"message passing"}),
    hooks={
        "symmetry": "symc.ir.graphs:analyze_any_graph",
        "architecture": "symc.plan.graphs:graph_architecture",
        "ir": "symc.ir.graphs:build_any_graph_ir",
        "emit": "symc.emit.graphs:emit_any_graph_source",
        "tester": "symc.testing.graphs:check_any_graph",
    },
)
