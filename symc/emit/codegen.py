"""Plan -> text of a standalone PyTorch file (docs/spec-language.md §4). Pure text work: no torch, deterministic."""
from __future__ import annotations

from ..domains import hook
from ..plan.plan import Plan


def emit_source(plan: Plan) -> str:
    """The generated file, written by the emitter the plan's domain registers (symc.domains)."""
    return hook(plan.symmetry.domain, "emit")(plan)
