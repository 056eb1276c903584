"""Symmetry analysis for sequences, sets, graphs, point clouds and volumes (images: symc.ir.symmetry).

Each domain lists the symmetries, outputs and hints it lowers; anything else in the spec is a SpecError at its clause.
"""
from __future__ import annotations

from ..groups import CubeGroup, DihedralGroup, TrivialGroup
from ..spec.model import Spec
from .symmetry import Symmetry

RIGID = ("E", "SE", "O", "SO")
FACTORS = {
    "sequence": {"translation", "time reversal"},
    "set": {"permutation"},
    "graph": {"permutation"},
    "point cloud": {"permutation", "translation", *RIGID},
    "volume": {"translation", "octahedral", "full octahedral"},
}
OUTPUTS = {"sequence": {"invariant", "equivariant"}, "set": {"invariant", "equivariant"},
           "graph": {"invariant", "equivariant"}, "point cloud": {"invariant", "equivariant", "vector"},
           "volume": {"invariant", "equivariant"}}
BACKBONES = {"sequence": {"conv", "attention"}, "set": {"deepsets", "attention"}, "graph": {"message passing"},
             "point cloud": {"message passing"}, "volume": {"conv"}}
GRID_DOMAINS = ("sequence", "volume")  # only grids have kernels, conv algorithms and boundaries


def analyze_domain(spec: Spec) -> Symmetry:
    domain = spec.domain.kind
    for index, factor in enumerate(spec.symmetry):
        if factor.kind not in FACTORS[domain]:
            raise spec.error(f"symmetry.{index}", f"'{factor.kind}' symmetry on {domain}s is not supported yet; "
                             f"supported: {', '.join(sorted(FACTORS[domain]))}")
    for index, output in enumerate(spec.outputs):
        if output.kind not in OUTPUTS[domain]:
            raise spec.error(f"output.{index}", f"'{output.kind}' output is not supported on {domain}s")
    _check_hints(spec, domain)
    return {"sequence": _sequence, "set": _set, "graph": _graph, "point cloud": _point_cloud,
            "volume": _volume}[domain](spec)


def _check_hints(spec: Spec, domain: str) -> None:
    hints = spec.hints
    if hints.invariant_fraction is not None:
        raise spec.error("hint.invariant_fraction", "the 'invariant fraction' hint is not supported yet")
    if hints.backbone is not None and hints.backbone not in BACKBONES[domain]:
        raise spec.error("hint.backbone", f"backbone '{hints.backbone}' does not fit {domain}s; "
                         f"supported: {', '.join(sorted(BACKBONES[domain]))}")
    if domain not in GRID_DOMAINS:
        for name in ("kernel", "conv", "boundary"):
            if getattr(hints, name) is not None:
                raise spec.error(f"hint.{name}", f"the '{name}' hint is for grids (images, volumes, sequences); "
                                 f"{domain}s have no grid to convolve over")


def _sequence(spec: Spec) -> Symmetry:
    reversal = any(f.kind == "time reversal" for f in spec.symmetry)
    group = DihedralGroup(1) if reversal else TrivialGroup()
    circular = spec.hints.boundary == "circular"
    parts = ["time reversal"] if reversal else []
    if spec.translation:
        parts.append("circular shifts" if circular else "translations")
    else:
        parts.append("positions matter (no translation)")
    exact = ["reversal exactly (filters and attention scores symmetric under it)"] if reversal else []
    if spec.translation:
        exact.append("circular shifts exactly (stride 1 everywhere)" if circular else
                     "shifts away from the ends exactly; 'boundary circular' makes every circular shift exact")
    return Symmetry(domain="sequence", group=group, translation=spec.translation,
                    summary=" and ".join(parts) if spec.translation else "; ".join(parts),
                    exactness=("equivariant to " + " and ".join(exact)) if exact else "positions may matter")


def _set(spec: Spec) -> Symmetry:
    return Symmetry(domain="set", group=TrivialGroup(), translation=False, permutation=True,
                    summary="permutations of the N elements",
                    exactness="exact for every permutation: elements only meet through symmetric pooling")


def _graph(spec: Spec) -> Symmetry:
    return Symmetry(domain="graph", group=TrivialGroup(), translation=False, permutation=True,
                    summary="permutations of the N nodes (x[:, p], adj[:, p][:, :, p])",
                    exactness="exact for every node permutation: messages travel through the adjacency, which "
                              "permutes with the nodes")


def _point_cloud(spec: Spec) -> Symmetry:
    dim = spec.domain.dim
    rigid = next((f.kind for f in spec.symmetry if f.kind in RIGID), "")
    translation = rigid in ("E", "SE") or any(f.kind == "translation" for f in spec.symmetry)
    name = f"{rigid}({dim})" if rigid else ""
    if rigid in ("E", "O"):
        moves = f"{name}: rotations and reflections" + (" and translations" if translation else " about the origin")
    elif rigid:
        moves = f"{name}: rotations only" + (" and translations" if translation else " about the origin") + \
                f"; mirror images stay distinguishable ({'signed volumes' if dim == 3 else 'signed areas'})"
    else:
        moves = "no rotations" + (", translations" if translation else "")
    return Symmetry(domain="point cloud", group=TrivialGroup(), translation=translation, permutation=True,
                    rigid=name, summary=f"permutations of the N points; {moves}",
                    exactness="exact: layers see only invariant distances" +
                              (" and signed volumes/areas" if rigid in ("SE", "SO") else "") +
                              ", and move vectors along differences of points")


def _volume(spec: Spec) -> Symmetry:
    if not spec.translation:
        raise spec.error("no translation", "'no translation' on volumes is not supported yet; leave it out")
    shape = spec.domain.shape
    kinds = {f.kind for f in spec.symmetry}
    if kinds & {"octahedral", "full octahedral"} and shape and len(set(shape)) != 1:
        key = next(f"symmetry.{i}" for i, f in enumerate(spec.symmetry) if f.kind in ("octahedral", "full octahedral"))
        raise spec.error(key, f"cube symmetries turn the volume by 90 degrees, but a {'x'.join(map(str, shape))} "
                         "volume is not a cube: give equal D, H and W")
    if "full octahedral" in kinds:
        group = CubeGroup(mirrors=True)
    elif "octahedral" in kinds:
        group = CubeGroup(mirrors=False)
    else:
        group = TrivialGroup()
    words = {24: "the 24 rotations of the cube", 48: "the 48 symmetries of the cube"}.get(group.order,
                                                                                          "no point symmetry")
    return Symmetry(domain="volume", group=group, translation=True, summary=f"{words} with translations",
                    exactness="exact for every cube symmetry at every size (90-degree turns and mirrors map "
                              "voxel grids and the symmetric pooling windows onto themselves)")
