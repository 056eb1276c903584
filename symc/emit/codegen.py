"""Plan -> text of a standalone PyTorch file (CONTRACT §4). Pure text work: no torch import, deterministic."""
from __future__ import annotations

from ..plan.plan import Plan


def emit_source(plan: Plan) -> str:
    """The generated file for the plan's domain (each domain has its own emitter module)."""
    from .image import emit_image_source
    emitters = {"image": emit_image_source}
    return emitters[plan.symmetry.domain](plan)
