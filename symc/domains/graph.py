"""Graphs (x (B, N, C), adjacency (B, N, N)): permutations of the nodes."""
from .base import Domain, count_text


def graph_clause(domain) -> str:
    text = "graph" + (f" with {count_text(domain.channels, 'feature')}"
                      if domain.channels != 1 or domain.edge_channels else "")
    if domain.edge_channels:
        text += f" and {count_text(domain.edge_channels, 'edge feature')}"
    return text if domain.shape is None else f"{text} {count_text(domain.shape[0], 'node')}"


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
        "symmetry": "symc.ir.sets:analyze_graph",
        "architecture": "symc.plan.domains:graph_architecture",
        "ir": "symc.ir.sets:build_graph_ir",
        "emit": "symc.emit.sets:emit_graph_source",
        "tester": "symc.testing.sets:check_graph",
    },
)
