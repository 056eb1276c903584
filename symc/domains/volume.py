"""Volumes (B, C, D, H, W): shifts, the symmetries of the cube, and zooms."""
from .base import Domain

VOLUME = Domain(
    kind="volume",
    factors=frozenset({"translation", "octahedral", "full octahedral", "scale"}),
    instead="volumes use 'octahedral' (the 24 cube rotations), 'full octahedral' (48 with mirrors) and 'scale N'",
    outputs=frozenset({"invariant", "equivariant"}),
    grid_dims=3,
    lowered=frozenset({"translation", "octahedral", "full octahedral"}),
    backbones=frozenset({"conv"}),
    size_layout="CxDxHxW",
    hooks={
        "symmetry": "symc.ir.volume:analyze_volume",
        "architecture": "symc.plan.domains:volume_architecture",
        "ir": "symc.ir.volume:build_volume_ir",
        "emit": "symc.emit.volume:emit_volume_source",
        "tester": "symc.testing.volume:check_volume",
    },
)
