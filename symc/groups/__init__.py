"""The group library: the single source of group math in symc.

Importing this package does not import torch (planning code relies on that); the tensor actions live in
`symc.groups.actions`, which imports torch.
"""
from .cube import CubeGroup
from .finite import (
    CyclicGroup,
    DihedralGroup,
    DirectProduct,
    FiniteGroup,
    PlanarGroup,
    Translation,
    TrivialGroup,
)
from .planar import PLANAR_KINDS, is_exact, point_group, position_matrix
from .hue import HueGroup, HueProduct, has_hue, hue_matrix, hue_of, image_group

__all__ = [
    "FiniteGroup", "PlanarGroup", "CyclicGroup", "DihedralGroup", "DirectProduct", "TrivialGroup",
    "Translation", "CubeGroup", "point_group", "is_exact", "position_matrix", "PLANAR_KINDS",
    "HueGroup", "HueProduct", "image_group", "hue_matrix", "hue_of", "has_hue",
]