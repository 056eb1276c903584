"""Volumes (B, C, D, H, W): shifts, the symmetries of the cube, the mirror of the last axis, and zooms."""
from .base import Domain

VOLUME = Domain(
    kind="volume",
    factors=frozenset({"translation", "octahedral", "full octahedral", "flip", "scale"}),
    instead=("volumes use 'octahedral' (the 24 cube rotations), 'full octahedral' (48 with mirrors), 'flip' (the "
             "mirror of the last axis) and 'scale N'"),
    outputs=frozenset({"invariant", "equivariant"}),
    grid_dims=3,
    lowered=frozenset({"translation", "octahedral", "full octahedral", "flip"}),
    backbones=frozenset({"conv"}),
    size_layout="CxDxHxW",
    hints=frozenset({"padding", "downsample"}),
    hooks={
        "symmetry": "symc.ir.volume:analyze_volume",
        "architecture": "symc.plan.domains:volume_architecture",
        "ir": "symc.ir.volume:build_volume_ir",
        "emit": "symc.emit.volume:emit_volume_source",
        "tester": "symc.testing.volume:check_volume",
    },
)
