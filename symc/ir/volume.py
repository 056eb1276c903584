"""IR for volumes (B, C, D, H, W): the grid network of symc.ir.image on a 3D grid with a cube group."""
from __future__ import annotations

import networkx as nx

from ..spec.model import Spec
from .graph import Architecture
from .image import build_image_ir
from .symmetry import Symmetry


def build_volume_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    return build_image_ir(spec, symmetry, arch)
