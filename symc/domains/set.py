"""Sets (B, N, C): permutations of the elements."""
from .base import Domain


def set_clause(domain) -> str:
    return "set" if domain.shape is None else f"set {domain.shape[0]}x{domain.channels}"


SET = Domain(
    kind="set",
    factors=frozenset({"permutation"}),
    instead="sets use 'permutation'",
    outputs=frozenset({"invariant", "equivariant"}),
    positions=False,
    clause_text=set_clause,
    lowered=frozenset({"permutation"}),
    backbones=frozenset({"deepsets", "attention"}),
    size_layout="NxC",
    hooks={
        "symmetry": "symc.ir.sets:analyze_set",
        "architecture": "symc.plan.domains:set_architecture",
        "ir": "symc.ir.sets:build_set_ir",
        "emit": "symc.emit.sets:emit_set_source",
        "tester": "symc.testing.sets:check_set",
    },
)
