"""Approximate symmetries (residual pathway priors): which layers get a free path beside the equivariant one, its
parameter count, and the weight of the penalty that pulls it back (docs/spec-language.md §1.2, §1.4).

Grid convolutions get a free filter bank of the whole bank's shape (approximate rotations or mirrors) and a map of
smooth functions of position (approximate translation), both averaged over the strict elements; point-cloud layers
get a free linear path that sees the raw coordinates, and each head a free readout of features times coordinates.
"""
from __future__ import annotations

import networkx as nx

from ..groups.planar import strict_elements
from ..spec.model import Spec
from ..spec.normalize import factor_text

# Measured on the modified-inertia task (examples/approximate/penalty.md, 6 epochs): test MSE 0.1535, 0.1536, 0.1551
# and 0.1676 at weights 1e-4, 1e-3, 1e-2 and 1e-1. The default is the strongest prior that cost no accuracy there.
DEFAULT_PENALTY = 1e-3
DEFAULT_REASON = ("default 0.001: the strongest weight that cost no accuracy on the modified-inertia task, test MSE "
                  "0.1536 against 0.1535 at 1e-4, 0.1551 at 1e-2 and 0.1676 at 1e-1 (examples/approximate)")
POSITION_FEATURES = {1: 2, 2: 5, 3: 9}   # coordinates and their pairwise products (symc.nn.approximate)


def penalty_weight(spec: Spec) -> tuple[float, str]:
    """(weight, reason) of `symmetry_penalty()`: the `penalty W` hint, the planner's default otherwise."""
    if spec.hints.penalty is not None:
        return spec.hints.penalty, f"penalty {spec.hints.penalty:g} hint"
    return DEFAULT_PENALTY, DEFAULT_REASON


def approximate_text(spec: Spec) -> str:
    """'C4 (exact at initialization; a free path may break it, held back by symmetry_penalty())'."""
    names = (["translation"] if spec.approximate_translation else []) + \
        [factor_text(f.model_copy(update={"approximate": False})) for f in spec.symmetry if f.approximate]
    return (f"{', '.join(names)} (exact at initialization; a free path may break "
            f"{'them' if len(names) > 1 else 'it'}, held back by symmetry_penalty())")


def add_free_paths(spec: Spec, symmetry, graph: nx.DiGraph) -> None:
    """Mark each layer that gets a free path, with what the emitter needs and its `free_params`."""
    kinds = spec.approximate_kinds()
    if not kinds:
        return
    if spec.domain.kind == "point cloud":
        _point_free_paths(spec, graph)
        return
    rotations = any(k in ("rotation", "dihedral") for k in kinds)
    mirrors = any(k in ("flip", "dihedral") for k in kinds)
    strict = strict_elements(symmetry.group, rotations, mirrors)
    for name, data in graph.nodes(data=True):
        if data["op"] not in ("lift", "group_conv"):
            continue
        inp = graph.nodes[next(iter(graph.predecessors(name)))]["out"]
        out = data["out"]
        dims = len(out.spatial)
        data["strict"] = strict
        data["free"] = rotations or mirrors
        data["free_position"] = spec.approximate_translation
        data["free_params"] = (out.channels * inp.channels * data["kernel"] ** dims if data["free"] else 0) + \
            (out.channels * POSITION_FEATURES[dims] if data["free_position"] else 0)


def _point_free_paths(spec: Spec, graph: nx.DiGraph) -> None:
    dim = spec.domain.dim
    width = 0
    for name in nx.topological_sort(graph):
        data = graph.nodes[name]
        if data["op"] == "egnn":
            width = data["width"]
            data["free_inputs"] = dim
            data["free_params"] = (width + dim) * width
        elif data["op"] == "output":
            kind = data["kind"]
            size = dim if kind == "vector" else data["out"].channels
            per_cloud = kind in ("invariant", "cloud irreps")
            data["free_readout"] = (width, dim, size, per_cloud)
            data["free_params"] = size * width * (dim + 1)
