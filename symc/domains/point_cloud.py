"""Point clouds (positions (B, N, D), features (B, N, C); or, with a cutoff or neighbour count, PyG's flat layout
pos (N, D), features (N, C), batch (N,)): permutations, rotations, mirrors and translations."""
from .base import Domain, count_text


def point_cloud_clause(domain) -> str:
    text = "point cloud" if domain.shape is None else f"point cloud {domain.shape[0]}x{domain.dim}"
    return text + (f" with {count_text(domain.channels, 'feature')}" if domain.channels else "")


def is_sparse(spec) -> bool:
    """Whether the spec asks for neighbourhoods (`cutoff R` or `neighbours K`): sparse models in PyG's flat layout
    forward(pos (N, D), features (N, C), batch (N,)); without them every pair of points meets (B, N, D)."""
    return spec.hints.cutoff is not None or spec.hints.neighbours is not None


POINT_CLOUD = Domain(
    kind="point cloud",
    factors=frozenset({"translation", "permutation", "E", "SE", "O", "SO"}),
    instead="point clouds use 'permutation' and 'E(n)', 'SE(n)', 'O(n)' or 'SO(n)' with n their dimension",
    outputs=frozenset({"invariant", "equivariant", "vector", "irreps", "cloud irreps"}),
    lowered=frozenset({"permutation", "translation", "E", "SE", "O", "SO"}),
    backbones=frozenset({"message passing"}),
    approximate=frozenset({"E", "SE", "O", "SO"}),
    clause_text=point_cloud_clause,
    point_dims=(2, 3),
    hints=frozenset({"cutoff", "neighbours", "length_scale", "pooling sum"}),
    size_layout="NxD",
    hooks={
        "symmetry": "symc.ir.points:analyze_point_cloud",
        "architecture": "symc.plan.sparse_points:point_cloud_architecture",
        "ir": "symc.ir.sparse_points:build_point_cloud_ir",
        "emit": "symc.emit.sparse_points:emit_point_cloud_source",
        "tester": "symc.testing.sparse_points:check_any_point_cloud",
    },
)
