"""Point clouds (positions (B, N, D), features (B, N, C)): permutations, rotations, mirrors and translations."""
from .base import Domain, count_text


def point_cloud_clause(domain) -> str:
    text = "point cloud" if domain.shape is None else f"point cloud {domain.shape[0]}x{domain.dim}"
    return text + (f" with {count_text(domain.channels, 'feature')}" if domain.channels else "")


POINT_CLOUD = Domain(
    kind="point cloud",
    factors=frozenset({"translation", "permutation", "E", "SE", "O", "SO"}),
    instead="point clouds use 'permutation' and 'E(n)', 'SE(n)', 'O(n)' or 'SO(n)' with n their dimension",
    outputs=frozenset({"invariant", "equivariant", "vector", "irreps", "cloud irreps"}),
    lowered=frozenset({"permutation", "translation", "E", "SE", "O", "SO"}),
    backbones=frozenset({"message passing"}),
    clause_text=point_cloud_clause,
    point_dims=(2, 3),
    hints=frozenset({"cutoff", "neighbours", "length_scale"}),
    size_layout="NxD",
    hooks={
        "symmetry": "symc.ir.points:analyze_point_cloud",
        "architecture": "symc.plan.domains:point_cloud_architecture",
        "ir": "symc.ir.points:build_point_ir",
        "emit": "symc.emit.points:emit_point_source",
        "tester": "symc.testing.points:check_point_cloud",
    },
)
