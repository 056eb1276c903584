"""IR for volumes (B, C, D, H, W): the grid network of symc.ir.image on a 3D grid with a cube group."""
from __future__ import annotations

import networkx as nx

from ..groups import volume_group
from ..spec.model import Spec
from .graph import Architecture
from .image import build_image_ir
from .symmetry import Symmetry, check_lowering


def build_volume_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    return build_image_ir(spec, symmetry, arch)


def analyze_volume(spec: Spec) -> Symmetry:
    """The cube group the spec names, with translations."""
    check_lowering(spec)
    if not spec.translation:
        raise spec.error("no translation", "'no translation' on volumes is not supported yet; leave it out")
    shape = spec.domain.shape
    kinds = {f.kind for f in spec.symmetry}
    if kinds & {"octahedral", "full octahedral"} and shape and len(set(shape)) != 1:
        key = next(f"symmetry.{i}" for i, f in enumerate(spec.symmetry) if f.kind in ("octahedral", "full octahedral"))
        raise spec.error(key, f"cube symmetries turn the volume by 90 degrees, but a {'x'.join(map(str, shape))} "
                         "volume is not a cube: give equal D, H and W")
    group = volume_group(spec.symmetry)
    words = {24: "the 24 rotations of the cube", 48: "the 48 symmetries of the cube",
             2: "the mirror of the last axis (W)"}.get(group.order, "no point symmetry")
    if group.order == 2:
        exactness = ("exact for the mirror at every size (it maps voxel grids and the symmetric pooling windows onto "
                     "themselves)")
    else:
        exactness = ("exact for every cube symmetry at every size (90-degree turns and mirrors map voxel grids and "
                     "the symmetric pooling windows onto themselves)")
    return Symmetry(domain="volume", group=group, translation=True, summary=f"{words} with translations",
                    exactness=exactness)
