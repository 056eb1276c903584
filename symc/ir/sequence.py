"""IR for sequences (B, C, L): 1D regular group convolutions (conv backbone) or attention blocks over positions."""
from __future__ import annotations

import networkx as nx

from ..groups import sequence_group
from ..spec.model import Spec
from .graph import Architecture, GraphBuilder
from .image import build_image_ir
from .scale import ZOOMS_EXACTNESS, check_scale
from .symmetry import Symmetry, check_lowering


def build_sequence_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    if arch.backbone == "conv":
        return build_image_ir(spec, symmetry, arch)  # the grid network, on a 1D grid
    return build_attention_ir(spec, symmetry, arch)


def attention_flops(width: int, count: int) -> int:
    """Per sample: q, k, v and output projections, scores and weighted sums, and the 2x-wide MLP."""
    return 2 * count * (4 * width * width + 2 * count * width + 4 * width * width)


def attention_params(width: int) -> int:
    """Two layer norms (4w), q/k/v and output projections (4w^2 + 4w), the MLP w -> 2w -> w (4w^2 + 3w)."""
    return 8 * width * width + 11 * width


def build_attention_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """Tokens per position: embed, optional absolute positions, attention blocks, heads per output."""
    b = GraphBuilder(symmetry)
    size = arch.input_size
    count = size[0]
    channels = spec.domain.channels
    width = arch.widths[0]
    reasons = arch.reasons
    node = b.add("input", None, b.scalars(channels, size), channels=channels)
    node = b.add("embed", node, b.scalars(width, size), in_features=channels, out_features=width,
                 params=channels * width + width, flops=2 * count * channels * width, algorithm="linear",
                 reason="the same map at every position: commutes with shifts and reversal")
    if arch.position_encoding in ("learned", "sinusoidal"):
        node = b.add("position", node, b.scalars(width, size), kind=arch.position_encoding, width=width,
                     length=count, symmetric=symmetry.order == 2,
                     params=count * width if arch.position_encoding == "learned" else 0, flops=count * width,
                     algorithm=arch.position_encoding, reason=reasons["position encoding"])
    for layer in range(arch.depth):
        node = b.add("attention", node, b.scalars(width, size), width=width, heads=arch.heads,
                     rotary=arch.position_encoding == "rotary", circular=arch.boundary == "circular",
                     symmetric=symmetry.order == 2, activation=arch.activation, params=attention_params(width),
                     flops=attention_flops(width, count), layer=layer,
                     algorithm=f"{arch.heads} heads" + (", rotary" if arch.position_encoding == "rotary" else ""),
                     reason="scores depend on positions only through the chosen encoding")
    trunk = node
    for index, output in enumerate(spec.outputs):
        add_token_head(b, trunk, width, size, arch, index, output.kind, output.size, "global_pool")
    return b.graph


def add_token_head(b: GraphBuilder, trunk: str, width: int, size, arch: Architecture, index: int, kind: str, k: int,
                   pool_op: str) -> None:
    """Invariant: pool over positions/elements then an MLP; equivariant: one linear map per position/element."""
    b.stage = f"output{index}"
    count = size[0]
    if kind == "invariant":
        node = b.add(pool_op, trunk, b.scalars(width), mode=arch.pooling if pool_op == "set_pool" else "mean",
                     params=0, flops=count * width, algorithm=arch.pooling if pool_op == "set_pool" else "mean",
                     reason="symmetric in the order of positions/elements: invariant")
        hidden = arch.head_hidden
        node = b.add("head", node, b.scalars(k), in_features=width, hidden=hidden, out_features=k,
                     activation=arch.activation, params=width * hidden + hidden + hidden * k + k)
    else:
        node = b.add("element_linear", trunk, b.scalars(k, size), in_features=width, out_features=k,
                     params=width * k + k, flops=2 * count * width * k, algorithm="linear",
                     reason="the same map at every position/element: moves with the input")
    b.add("output", node, b.graph.nodes[node]["out"], index=index, kind=kind, params=0)


def analyze_sequence(spec: Spec) -> Symmetry:
    """Time reversal (D1 acting on the time axis) and shifts."""
    check_lowering(spec)
    group = sequence_group(spec.symmetry)
    reversal = group.order == 2
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
    exactness = ("equivariant to " + " and ".join(exact)) if exact else "positions may matter"
    scales = check_scale(spec)
    if scales > 1:
        _check_sequence_scale(spec, scales)
        parts.append(f"{scales} scales")
        exactness = f"{exactness}; {ZOOMS_EXACTNESS}"
    return Symmetry(domain="sequence", group=group, translation=spec.translation,
                    summary=" and ".join(parts) if spec.translation else "; ".join(parts),
                    exactness=exactness, scales=scales)


def _check_sequence_scale(spec: Spec, scales: int) -> None:
    """What `scale N` on sequences does not lower beyond the rules every grid shares (symc.ir.scale)."""
    if spec.hints.backbone == "attention":
        raise spec.error("hint.backbone", f"'backbone attention' with 'scale {scales}' is not supported: the scale "
                         "layers are convolutions; leave the hint out or use 'backbone conv'")
    if scales < 3:
        index = next(i for i, factor in enumerate(spec.symmetry) if factor.kind == "scale")
        raise spec.error(f"symmetry.{index}", f"'scale {scales}' on sequences is not supported: with two scales a "
                         "zoom moves half the scale axis past its ends (zoom errors measured up to 1.1); supported: "
                         "'scale 3' up to 'scale 8'")
    if spec.hints.boundary == "circular":
        raise spec.error("hint.boundary", f"'boundary circular' with 'scale {scales}' is not supported: a zoom about "
                         "the centre does not wrap around; leave the hint out")
