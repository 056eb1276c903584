"""Architecture choices for sparse point clouds (`cutoff R`, `neighbours K`): the radial range, the neighbourhood,
widths and the edge chunk sized to the target's memory, each with its reason."""
from __future__ import annotations

from ..domains.point_cloud import is_sparse
from ..ir.graph import Architecture
from ..ir.symmetry import Symmetry
from ..spec.model import Spec
from .domains import DEFAULT_ELEMENTS, _depth, _finish, _point_encoding, point_cloud_architecture as dense_architecture
from ..ir.sparse_points import EXPECTED_NEIGHBOURS
from .hardware import Hardware

DEFAULT_WIDTH = 64            # PaiNN and SchNet use 128; 64 keeps 100k points within seconds on a CPU
RANGE_PER_LENGTH = 5.0        # without a cutoff the radial basis spans 5 length scales
DEFAULT_LENGTH_SCALE = 1.0
CHUNK_MEMORY_SHARE = 1 / 64   # of the target's memory, for the messages of one chunk of edges
MIN_CHUNK, MAX_CHUNK = 4096, 1 << 20
DEFAULT_MEMORY = 16 * 2 ** 30



def point_cloud_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                             dtype: str = "float32") -> Architecture:
    """Point clouds: sparse with a cutoff or neighbour count, dense (all pairs) otherwise."""
    if not is_sparse(spec):
        if spec.hints.length_scale is not None:
            raise spec.error("hint.length_scale", f"'length scale {spec.hints.length_scale:g}' scales the radial "
                             "basis of sparse models: add 'cutoff R' or 'neighbours K' (dense models see all pairs)")
        if spec.hints.pooling == "sum":
            raise spec.error("hint.pooling", "'pooling sum' is for sparse point clouds: add 'cutoff R' or "
                             "'neighbours K'")
        return dense_architecture(spec, symmetry, hardware, dtype)
    return sparse_point_architecture(spec, symmetry, hardware, dtype)


def message_bytes(width: int, dim: int, handed: bool, dtype: str = "float32") -> int:
    """Bytes one edge's messages take while its chunk is computed: filter, context and message rows, the
    neighbour's vectors and their messages."""
    parts = (4 if handed else 3) * width
    return (3 * parts + 3 * width * dim + 2 * dim + 4) * (2 if dtype in ("bfloat16", "float16") else 4)


def point_bytes(width: int, dim: int, neighbours: int) -> int:
    """Bytes each point holds in an inference forward outside the chunk: features, vectors, their updates and
    context rows, and its edges (two indices, direction, distance and radial basis)."""
    return 4 * (4 * width * (1 + dim) + 4 * width) + neighbours * (16 + 4 * (dim + 1 + 8))


def sparse_point_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                              dtype: str = "float32") -> Architecture:
    hints = spec.hints
    reasons: dict[str, str] = {}
    size = spec.domain.shape or (DEFAULT_ELEMENTS,)
    reasons["input"] = ("PyG's flat layout: N points of G clouds, batch (N,) naming each point's cloud; costs assume "
                        f"one cloud of {size[0]} points")
    if hints.cutoff is not None and hints.length_scale is not None:
        raise spec.error("hint.length_scale", f"'length scale {hints.length_scale:g}' sets the radial range when no "
                         f"cutoff does, but 'cutoff {hints.cutoff:g}' already sets it: give one")
    if hints.backbone not in (None, "message passing"):
        raise spec.error("hint.backbone", f"'backbone {hints.backbone}' is not available for sparse point clouds: "
                         "they pass messages along the edges of the neighbourhood ('backbone message passing')")
    if hints.norm not in (None, "layer"):
        raise spec.error("hint.norm", f"'norm {hints.norm}' is not available for sparse point clouds: each point's "
                         "scalars are layer-normed ('norm layer'), which commutes with the group")
    if hints.cutoff is not None:
        radial_range = hints.cutoff
        reasons["neighbourhood"] = (f"cutoff {hints.cutoff:g}: points within it" +
                                    (f", at most the {hints.neighbours} nearest" if hints.neighbours else "") +
                                    "; contributions fade to zero, with their slope and curvature, at the cutoff")
        reasons["radial range"] = f"{radial_range:g}, the cutoff"
    else:
        scale = hints.length_scale if hints.length_scale is not None else DEFAULT_LENGTH_SCALE
        radial_range = RANGE_PER_LENGTH * scale
        reasons["neighbourhood"] = (f"the {hints.neighbours} nearest points of each point's cloud; nearer or "
                                    "farther, they change only where the nearest set changes")
        reasons["radial range"] = (f"{radial_range:g} = {RANGE_PER_LENGTH:g} x the length scale " +
                                   (f"{scale:g} (hint)" if hints.length_scale is not None else
                                    f"{scale:g} (default: give 'length scale L' in the positions' unit, or a "
                                    "cutoff)") + "; neighbours beyond it contribute nothing")
    handed = symmetry.rigid[:1] == "S"
    reasons["backbone"] = ("message passing over the neighbourhood, PaiNN-style: invariant scalars and equivariant "
                           "vectors per point" + ("; turned vectors keep mirror images apart (rotation-only group)"
                                                  if handed else ""))
    _point_encoding(spec, reasons)
    pooling = {"max": "max", "avg": "mean", "sum": "sum", None: "mean"}[hints.pooling]
    reasons["pooling"] = (f"{pooling} over each cloud's points for invariant outputs" +
                          ("" if hints.pooling else " ('pooling sum' for extensive targets such as energies)"))
    depth = _depth(spec, 3, reasons)
    width = (hints.widths[0] if hints.widths else hints.width) or DEFAULT_WIDTH
    memory = hardware.memory if hardware is not None else DEFAULT_MEMORY
    per_edge = message_bytes(width, spec.domain.dim, handed, dtype)
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, int(memory * CHUNK_MEMORY_SHARE) // per_edge))
    chunk = 1 << (chunk.bit_length() - 1)  # a power of two
    target = hardware.name if hardware is not None else "the default target"
    k = hints.neighbours or EXPECTED_NEIGHBOURS
    reasons["edge chunk"] = (f"{chunk:,} edges at a time: {per_edge:,} B of messages per edge, "
                             f"{chunk * per_edge / 2 ** 20:.0f} MiB per chunk, 1/{round(1 / CHUNK_MEMORY_SHARE)} of "
                             f"{target}'s memory; besides, about {point_bytes(width, spec.domain.dim, k):,} B per "
                             f"point in inference ({k} neighbours{' assumed' if not hints.neighbours else ''})")
    channels = spec.domain.channels
    features = f", features (N, {channels})" if channels else ""
    arch = Architecture(widths=(), kernels=(), downsample_after=(), input_size=size, norm="layer",
                        activation=hints.activation or "silu", pooling=pooling, backbone="message passing",
                        position_encoding="radial", layout=f"pos (N, {spec.domain.dim}){features}, batch (N,)",
                        cutoff=hints.cutoff or 0.0, neighbours=hints.neighbours or 0, radial_range=radial_range,
                        edge_chunk=chunk, reasons=reasons)
    return _finish(spec, symmetry, arch, (DEFAULT_WIDTH,) * depth,
                   f"{DEFAULT_WIDTH} scalars and {DEFAULT_WIDTH} vectors per point", "channels per point")
