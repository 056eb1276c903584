"""Sequences (B, C, L): shifts along time, time reversal, and zooms of the time axis."""
from .base import Domain

SEQUENCE = Domain(
    kind="sequence",
    factors=frozenset({"translation", "time reversal", "scale"}),
    instead="sequences use 'translation', 'time reversal' and 'scale N'",
    outputs=frozenset({"invariant", "equivariant"}),
    grid_dims=1,
    lowered=frozenset({"translation", "time reversal", "scale"}),
    backbones=frozenset({"conv", "attention"}),
    size_layout="CxL",
    hints=frozenset({"padding"}),
    hooks={
        "symmetry": "symc.ir.sequence:analyze_sequence",
        "architecture": "symc.plan.domains:sequence_architecture",
        "ir": "symc.ir.sequence:build_sequence_ir",
        "emit": "symc.emit.sequence:emit_sequence_source",
        "tester": "symc.testing.sequence:check_sequence",
    },
)
