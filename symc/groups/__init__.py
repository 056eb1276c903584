"""The group library: the single source of group math in symc.

One module per factor: planar.py (rotations and mirrors of the plane), hue.py (hue rotations of RGB), cube.py (the
symmetries of the cube), translation.py; finite.py holds what every finite group derives from its product (tables,
inverses, real classes) and the one direct-product construction; moves.py the one encoding of how an element moves
a grid; build.py the group a spec's factors generate. Importing this package does not import torch (planning code
relies on that); the tensor actions live in `symc.groups.actions`, which imports torch.
"""
from .build import image_group, sequence_group, volume_group
from .cube import CubeGroup
from .finite import DirectProduct, FiniteGroup
from .hue import HueGroup, has_hue, hue_matrix, hue_of
from .moves import GridMove, channel_actions, grid_moves
from .planar import (
    PLANAR_KINDS, CyclicGroup, DihedralGroup, PlanarGroup, TrivialGroup, is_exact, point_group, position_matrix,
)
from .translation import Translation

__all__ = [
    "FiniteGroup", "PlanarGroup", "CyclicGroup", "DihedralGroup", "DirectProduct", "TrivialGroup",
    "Translation", "CubeGroup", "point_group", "is_exact", "position_matrix", "PLANAR_KINDS",
    "HueGroup", "image_group", "volume_group", "sequence_group", "hue_matrix", "hue_of", "has_hue",
    "GridMove", "grid_moves", "channel_actions",
]
