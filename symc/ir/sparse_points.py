"""IR for sparse point clouds (`cutoff R` or `neighbours K`) in PyG's flat layout: pos (N, D) [features (N, C)]
[batch (N,)] -> neighbour search -> embedding -> PaiNN-style interactions over the edges -> heads.

Features are invariant scalars h and equivariant vectors v per point; distances enter through a Bessel radial basis
scaled by the radial range with a smooth envelope (docs/spec-language.md §9.4).
"""
from __future__ import annotations

import networkx as nx

from ..domains.point_cloud import is_sparse
from ..groups.o3 import parse_irreps
from ..spec.model import Spec
from .graph import Architecture, GraphBuilder
from .points import IRREP_CHANNELS, build_point_ir, irreps_basis, irreps_parts
from .symmetry import Symmetry

RADIAL_BASIS = 8          # Bessel functions per distance (PaiNN's 20, NequIP's 8)
EXPECTED_NEIGHBOURS = 16  # within a cutoff: what costs assume and message sums are scaled by


def handed(symmetry: Symmetry) -> bool:
    """Rotation-only groups (SE(n), SO(n)): mirror images must stay apart, so layers get a turned vector term."""
    return symmetry.rigid[:1] == "S"


def expected_neighbours(arch: Architecture, count: int) -> int:
    """Neighbours per point the costs assume (and the message sums are scaled by): K, or 16 within a cutoff."""
    k = arch.neighbours or EXPECTED_NEIGHBOURS
    return max(1, min(k, count - 1))


def interaction_params(width: int, basis: int, extra: int, is_handed: bool) -> int:
    parts = (4 if is_handed else 3) * width
    context = width * width + width + width * parts + parts
    radial = (basis + extra) * parts  # no bias: messages vanish at the cutoff
    mix = width * 2 * width
    update = 2 * width * width + width + width * 3 * width + 3 * width
    return context + radial + mix + update + 2 * width


def embed_inputs(spec: Spec, symmetry: Symmetry) -> int:
    about_origin = not symmetry.translation
    return max(spec.domain.channels, 1) + ((1 if symmetry.rigid else spec.domain.dim) if about_origin else 0)


def build_point_cloud_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """The point-cloud IR: sparse with a cutoff or neighbour count, dense (all pairs) otherwise."""
    if not is_sparse(spec):
        return build_point_ir(spec, symmetry, arch)
    return build_sparse_point_ir(spec, symmetry, arch)


def build_sparse_point_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    b = GraphBuilder(symmetry)
    size = arch.input_size
    count = size[0]
    dim, channels = spec.domain.dim, spec.domain.channels
    if len(set(arch.widths)) != 1:
        raise spec.error("hint.widths", "interaction layers are residual: give one width for every layer")
    width = arch.widths[0]
    k = expected_neighbours(arch, count)
    edges = count * k
    is_handed = handed(symmetry)
    extra = 0 if symmetry.rigid else dim  # no rotation group: edge directions are features too
    node = b.add("input", None, b.scalars(channels + dim, size), channels=channels, dim=dim)
    if arch.cutoff:
        search = (f"points within {arch.cutoff:g}" + (f", the {arch.neighbours} nearest of them" if arch.neighbours
                                                      else ""))
    else:
        search = f"the {arch.neighbours} nearest points"
    node = b.add("neighbour_search", node, b.scalars(channels + dim, size), cutoff=arch.cutoff, neighbours=arch.neighbours,
                 params=0, flops=edges * 27 * dim, algorithm="cell lists",
                 reason=f"{search} in the same cloud, found on a grid of cells in O(N k): edges (2, M) as PyG "
                        f"orders them (about {k} per point assumed)")
    inputs = embed_inputs(spec, symmetry)
    gates = (not symmetry.translation) and bool(symmetry.rigid)
    node = b.add("point_embed", node, b.scalars(width, size), in_features=inputs, out_features=width,
                 rotations=bool(symmetry.rigid), about_origin=not symmetry.translation,
                 params=inputs * width + width + ((width * width + width) if gates else 0),
                 flops=2 * count * inputs * width, algorithm="linear",
                 reason=("features" if channels else "a constant (no features)") +
                        ("" if symmetry.translation else
                         " and the distance to the origin (no translations in the group)" if symmetry.rigid else
                         " and the coordinates (no rotation group declared)"))
    parts = (4 if is_handed else 3) * width
    per_layer = (2 * count * (width * width + width * parts + 2 * width * width + 4 * width * width) +
                 2 * edges * ((RADIAL_BASIS + extra) * parts + parts + 4 * width * dim))
    for layer in range(arch.depth):
        node = b.add("interaction", node, b.scalars(width, size), width=width, basis=RADIAL_BASIS, extra=extra,
                     handed=is_handed, neighbours=k, chunk=arch.edge_chunk, activation=arch.activation,
                     params=interaction_params(width, RADIAL_BASIS, extra, is_handed), flops=per_layer, layer=layer,
                     algorithm=f"edges, {arch.edge_chunk:,} at a time",
                     reason=(f"{width} scalars and {width} vectors per point; messages from a {RADIAL_BASIS}-term "
                             f"Bessel basis of distances over {arch.radial_range:g} with a smooth envelope" +
                             (" and edge directions (no rotation group)" if extra else "") +
                             ("; turned vectors (v x u) keep mirror images apart" if is_handed else "") +
                             ": exact for the group"))
    trunk = node
    for index, output in enumerate(spec.outputs):
        b.stage = f"output{index}"
        if output.kind == "invariant":
            hidden = arch.head_hidden
            head = b.add("head", trunk, b.scalars(output.size, size), in_features=width, hidden=hidden,
                         out_features=output.size, activation=arch.activation,
                         params=width * hidden + hidden + hidden * output.size + output.size,
                         flops=2 * count * (width * hidden + hidden * output.size), algorithm="per point",
                         reason="an MLP of each point's invariants")
            head = b.add("cloud_pool", head, b.scalars(output.size), mode=arch.pooling, params=0,
                         flops=count * output.size, algorithm=arch.pooling,
                         reason=f"{arch.pooling} over the points of each cloud: invariant to their order")
        elif output.kind == "equivariant":
            head = b.add("element_linear", trunk, b.scalars(output.size, size), in_features=width,
                         out_features=output.size, params=width * output.size + output.size,
                         flops=2 * count * width * output.size, algorithm="linear",
                         reason="the same map at every point: moves with the points")
        elif output.kind == "vector":
            head = b.add("gated_vectors", trunk, b.scalars(dim, size), in_features=width, count=1,
                         params=width * width + width, flops=2 * count * width * (width + dim),
                         algorithm="gated sum of vector channels",
                         reason="the vector channels weighted by invariant gates: turns with the points, "
                                "ignores translations")
        else:
            head = add_sparse_irreps_head(b, trunk, width, size, arch, output, dim)
        b.add("output", head, b.graph.nodes[head]["out"], index=index, kind=output.kind, params=0)
    return b.graph


def add_sparse_irreps_head(b: GraphBuilder, trunk: str, width: int, size, arch: Architecture, output,
                           dim: int = 3) -> str:
    """Irreps of O(3) (O(2) on 2-D points) from 3 x IRREP_CHANNELS gated vectors per point (symc.ir.points.
    add_irreps_head's blocks)."""
    irreps = parse_irreps(output.irreps)
    per_cloud = output.kind == "cloud irreps"
    count = size[0]
    channels = IRREP_CHANNELS
    gates = width * 3 * channels * width + 3 * channels * width
    blocks = sum(width * mul * channels + mul * channels for mul, _, _ in irreps)
    parts = irreps_parts(irreps, dim)
    harmonics = "circular harmonics" if dim == 2 else "spherical harmonics"
    return b.add("sparse_irreps_head", trunk, b.scalars(output.size) if per_cloud else b.scalars(output.size, size),
                 in_features=width, channels=channels, irreps=irreps, per_cloud=per_cloud, params=gates + blocks,
                 flops=2 * count * (gates + blocks), algorithm=harmonics + (", mean per cloud" if per_cloud else ""),
                 reason=f"{output.irreps} in {irreps_basis(dim)} from {channels} x 3 gated vectors per point "
                        f"({'; '.join(parts)})" + ("; the mean over each cloud's points" if per_cloud else
                                                   ": moves with the points"))
