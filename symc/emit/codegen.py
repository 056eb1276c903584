"""Plan -> text of a standalone PyTorch file (CONTRACT §4). Pure text work: no torch import, deterministic."""
from __future__ import annotations

from ..plan.plan import Plan


def emit_source(plan: Plan) -> str:
    """The generated file for the plan's domain (each domain has its own emitter module)."""
    from .image import emit_image_source
    from .points import emit_point_source
    from .sequence import emit_sequence_source
    from .sets import emit_graph_source, emit_set_source
    from .volume import emit_volume_source
    emitters = {"image": emit_image_source, "sequence": emit_sequence_source, "set": emit_set_source,
                "graph": emit_graph_source, "point cloud": emit_point_source, "volume": emit_volume_source}
    return emitters[plan.symmetry.domain](plan)
