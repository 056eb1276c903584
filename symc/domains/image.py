"""Images (B, C, H, W): translations, rotations and mirrors of the plane (finite, or all of SO(2) and O(2)), hue
rotations of RGB, and zooms."""
from .base import Domain

IMAGE = Domain(
    kind="image",
    factors=frozenset({"translation", "rotation", "dihedral", "flip", "hue", "scale", "SO", "O", "SE", "E"}),
    instead="images use 'rotation N' (or 'SE(2) discretized N'), 'D<N>', 'SO(2)', 'O(2)', 'flip', 'hue N' and "
            "'scale N'",
    outputs=frozenset({"invariant", "equivariant", "fields", "orientation"}),
    grid_dims=2,
    lowered=frozenset({"translation", "rotation", "dihedral", "flip", "hue", "scale", "SO", "O", "SE", "E"}),
    backbones=frozenset({"conv"}),
    approximate=frozenset({"translation", "rotation", "dihedral", "flip"}),
    size_layout="CxHxW",
    hints=frozenset({"padding", "downsample", "canonicalize"}),
    hooks={
        "symmetry": "symc.ir.image:analyze_image",
        "architecture": "symc.plan.domains:image_architecture",
        "ir": "symc.ir.image:build_image_ir",
        "emit": "symc.emit.image:emit_image_source",
        "tester": "symc.testing.steerable:check_image_model",
    },
)
