"""IR for point clouds: pos (B, N, D) [features (B, N, C)] -> embedded invariants -> EGNN layers -> heads."""
from __future__ import annotations

import networkx as nx

from ..groups import TrivialGroup
from ..groups.o3 import natural, parse_irreps
from ..groups.rigid import irreps_math, rigid_motions
from ..spec.model import Spec
from .graph import Architecture, GraphBuilder
from .sequence import add_token_head
from .symmetry import Symmetry, check_lowering


def egnn_params(width: int, pseudo: bool, coords: bool, about_origin: bool) -> int:
    extra = 2 if pseudo else 1
    edge = (2 * width + extra) * width + width + width * width + width
    node = 2 * width * width + width + width * width + width
    coord = (width * width + width + width + 1) if coords else 0
    radial = (width + 1) if coords and about_origin else 0
    return edge + node + 2 * width + coord + radial


def node_invariants(symmetry: Symmetry, channels: int, dim: int) -> int:
    """Per-point inputs of the embedding: features, then the squared distance to the centre, or (with no rotation
    group) the coordinates relative to it; rotation-only groups add the cloud's handedness."""
    handed = 1 if symmetry.rigid[:1] == "S" else 0
    return channels + (1 + handed if symmetry.rigid else dim)


def build_point_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    b = GraphBuilder(symmetry)
    size = arch.input_size
    count = size[0]
    dim = spec.domain.dim
    channels = spec.domain.channels
    pseudo = symmetry.rigid[:1] == "S"  # SE(n), SO(n): orientation-sensitive invariants
    coords = any(o.kind == "vector" for o in spec.outputs)
    about_origin = not symmetry.translation
    node = b.add("input", None, b.scalars(channels + dim, size), channels=channels, dim=dim)
    width = arch.widths[0]
    inputs = node_invariants(symmetry, channels, dim)
    centre = "centroid" if symmetry.translation else "origin"
    node = b.add("embed", node, b.scalars(width, size), in_features=inputs, out_features=width,
                 params=inputs * width + width, flops=2 * count * inputs * width, algorithm="linear",
                 reason=(f"features and squared distance to the {centre}: invariant" +
                         ("; the cloud's handedness (a pseudo-scalar)" if pseudo else "") if symmetry.rigid else
                         f"features and coordinates relative to the {centre}: no rotation symmetry declared"))
    if len(set(arch.widths)) != 1:
        raise spec.error("hint.widths", "EGNN layers are residual: give one width for every layer")
    for layer in range(arch.depth):
        node = b.add("egnn", node, b.scalars(width, size), width=width, pseudo=pseudo, update_coords=coords,
                     about_origin=about_origin, activation=arch.activation,
                     params=egnn_params(width, pseudo, coords, about_origin),
                     flops=2 * count * count * (2 * width + 2) * width * 2 + 2 * count * 3 * width * width,
                     layer=layer, algorithm="all pairs" + (", signed volumes" if pseudo else ""),
                     reason=("distances" + (" and pseudo-scalars" if pseudo else "") +
                             (": coordinates move along x_i - x_j" if coords else "") + ": exact for the group"))
    trunk = node
    for index, output in enumerate(spec.outputs):
        if output.kind == "vector":
            b.stage = f"output{index}"
            head = b.add("vector_head", trunk, b.scalars(dim, size), params=0, flops=count * dim,
                         algorithm="displacement",
                         reason="updated minus input coordinates: turns with the points, ignores translations")
            b.add("output", head, b.graph.nodes[head]["out"], index=index, kind="vector", params=0)
        elif output.kind in ("irreps", "cloud irreps"):
            add_irreps_head(b, trunk, width, size, arch, index, output, dim)
        else:
            add_token_head(b, trunk, width, size, arch, index, output.kind, output.size, "set_pool")
    return b.graph


IRREP_CHANNELS = 8  # equivariant vectors per point and set in an irreps head


def irreps_head_params(width: int, irreps, channels: int = IRREP_CHANNELS) -> int:
    vectors = (2 * width + 1) * width + width + 2 * (width * 3 * channels + 3 * channels)
    return vectors + sum(width * mul * channels + mul * channels for mul, _, _ in irreps)


def irreps_parts(irreps, dim: int) -> list[str]:
    """How each irrep of a head is built, for the plan's reasons."""
    parts = []
    for _, l, p in irreps:
        name = f"{l}{'e' if p == 1 else 'o'}"
        if dim == 2:
            how = ("invariant" if (l, p) == (0, 1) else "cross products" if l == 0 else
                   "powers z^l" if natural(l, p) else "cross products times powers z^l")
        else:
            how = ("invariant" if (l, p) == (0, 1) else "triple products" if l == 0 else
                   "spherical harmonics" if natural(l, p) else "cross products" if l == 1 else
                   f"{l} x 1 -> {l} couplings")
        parts.append(f"{name}: {how}")
    return parts


def irreps_basis(dim: int) -> str:
    return "symc's O(2) basis (cos l phi, sin l phi)" if dim == 2 else "e3nn's basis"


def add_irreps_head(b: GraphBuilder, trunk: str, width: int, size, arch: Architecture, index: int, output,
                    dim: int = 3) -> None:
    """Irreps of O(3) from the trunk's invariants and the coordinates: spherical harmonics of equivariant vectors
    (natural parity) and their Clebsch-Gordan couplings with a second vector (unnatural parity). On 2-D points,
    irreps of O(2): powers z^l of equivariant vectors, times pseudoscalars (cross products) for unnatural parity."""
    b.stage = f"output{index}"
    irreps = parse_irreps(output.irreps)
    per_cloud = output.kind == "cloud irreps"
    count = size[0]
    parts = irreps_parts(irreps, dim)
    degree_dim = irreps_math(dim).degree_dim
    flops = 2 * count * count * ((2 * width + 1) * width + width * 3 * IRREP_CHANNELS) + \
        2 * count * sum(width * mul * IRREP_CHANNELS + mul * IRREP_CHANNELS * degree_dim(l) ** 2 for mul, l, _ in irreps)
    head = b.add("irreps_head", trunk, b.scalars(output.size) if per_cloud else b.scalars(output.size, size),
                 in_features=width, channels=IRREP_CHANNELS, irreps=irreps, per_cloud=per_cloud,
                 activation=arch.activation, params=irreps_head_params(width, irreps), flops=flops,
                 algorithm=("circular harmonics" if dim == 2 else "spherical harmonics") +
                 (", mean over points" if per_cloud else ""),
                 reason=f"{output.irreps} in {irreps_basis(dim)} from {IRREP_CHANNELS} x 3 equivariant vectors per point "
                        f"({'; '.join(parts)})" + ("; the mean over points: invariant to their order" if per_cloud
                                                   else ": moves with the points"))
    b.add("output", head, b.graph.nodes[head]["out"], index=index, kind=output.kind, params=0)


def analyze_point_cloud(spec: Spec) -> Symmetry:
    """Permutations, and the rigid motions the spec names."""
    check_lowering(spec)
    dim = spec.domain.dim
    motions = rigid_motions(spec.symmetry, dim)
    rigid, translation, name = motions.kind, motions.translations, motions.name
    if motions.reflections:
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
