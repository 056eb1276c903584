"""Plan -> text of a standalone PyTorch file (docs/spec-language.md §4). Pure text work: no torch, deterministic."""
from __future__ import annotations

from ..domains import hook
from ..plan.canonicalize import CanonicalizedPlan
from ..plan.plan import Plan
from .canonicalize import emit_canonicalized_source


def emit_source(plan: Plan) -> str:
    """The generated file, written by the emitter the plan's domain registers (symc.domains)."""
    if isinstance(plan, CanonicalizedPlan):   # the `canonicalize` hint: two networks and the wrapper
        return emit_canonicalized_source(plan)
    return hook(plan.symmetry.domain, "emit")(plan)
