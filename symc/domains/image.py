"""Images (B, C, H, W): translations, rotations and mirrors of the plane, hue rotations of RGB, and zooms."""
from .base import Domain

IMAGE = Domain(
    kind="image",
    factors=frozenset({"translation", "rotation", "dihedral", "flip", "hue", "scale"}),
    instead="images use 'rotation N' (or 'SE(2) discretized N'), 'D<N>', 'flip', 'hue N' and 'scale N'",
    outputs=frozenset({"invariant", "equivariant", "fields", "orientation"}),
    grid_dims=2,
    lowered=frozenset({"translation", "rotation", "dihedral", "flip", "hue", "scale"}),
    backbones=frozenset({"conv"}),
    size_layout="CxHxW",
    hooks={
        "symmetry": "symc.ir.image:analyze_image",
        "architecture": "symc.plan.sizing:choose_architecture",
        "ir": "symc.ir.image:build_image_ir",
        "emit": "symc.emit.image:emit_image_source",
        "tester": "symc.testing.image:check_image",
    },
)
