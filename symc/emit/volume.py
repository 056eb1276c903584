"""Source for volume models (B, C, D, H, W): the grid network with a cube group (symc/emit/grid.py)."""
from __future__ import annotations

from ..plan.plan import Plan
from .grid import emit_grid_source


def emit_volume_source(plan: Plan) -> str:
    return emit_grid_source(plan)
