"""IR for images: lift, regular group-conv blocks, then one head branch per declared output."""
from __future__ import annotations

import networkx as nx

from ..domains import domain as domain_plugin
from ..groups import has_hue, image_group, is_exact, point_group
from ..spec.model import Spec
from ..spec.normalize import factor_text
from .fields import conv_size, halve, layer_padding, mixed_conv_params, split_width
from .graph import Architecture, GraphBuilder
from .mixed import add_mixed_head, add_positions
from .scale import add_scale_conv, add_scale_pool, check_scale, scale_exactness
from .steerable import analyze_steerable, build_steerable_ir, is_continuous
from .symmetry import Symmetry


def build_image_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """The image network: lift, regular group-conv blocks, then one head branch per declared output.

    Nothing here is two-dimensional but the planning size: sequences and volumes reuse it on their grids.
    SO(2) and O(2) have their own, steerable network (symc.ir.steerable).
    """
    if symmetry.rigid:
        return build_steerable_ir(spec, symmetry, arch)
    b = GraphBuilder(symmetry)
    order = symmetry.order
    size = arch.input_size
    channels = spec.domain.channels
    node = b.add("input", None, b.scalars(channels, size), channels=channels)
    if arch.position_encoding != "none":  # position channels: only images without translation choose them
        node, channels = add_positions(b, node, channels, size, arch)
    in_fields = channels
    in_trivial = 0
    for layer, (width, kernel) in enumerate(zip(arch.widths, arch.kernels)):
        trivial, regular = split_width(width, arch.invariant_fraction)
        padding = layer_padding(arch.kernels, arch.paddings, layer)
        # only a padding other than 'same' is written on the node (and into the generated file)
        border = {"padding": padding} if padding != kernel // 2 else {}
        size = tuple(conv_size(s, kernel, padding) for s in size)
        if symmetry.scales > 1:  # the same layer kept at every scale (symc.ir.scale)
            node = add_scale_conv(b, node, layer, channels if layer == 0 else in_fields, width, kernel, size)
        elif trivial or (layer > 0 and in_trivial):  # trivial fields on either side: the four blocks of a mixed conv
            in_t, in_r = (channels, 0) if layer == 0 else (in_trivial, in_fields)
            node = b.add("lift" if layer == 0 else "group_conv", node, b.mixed(trivial, regular, size),
                         in_trivial=in_t, in_fields=in_r, out_trivial=trivial, out_fields=regular, kernel=kernel,
                         params=mixed_conv_params(in_t, in_r, trivial, regular, order, kernel ** len(size)),
                         layer=layer, **border)
        elif layer == 0:
            node = b.add("lift", node, b.regular(width, size), in_channels=channels, out_fields=width,
                         kernel=kernel, params=width * channels * kernel ** len(size), layer=layer, **border)
        else:
            node = b.add("group_conv", node, b.regular(width, size), in_fields=in_fields, out_fields=width,
                         kernel=kernel, params=width * in_fields * order * kernel ** len(size),
                         layer=layer, **border)
        out = b.graph.nodes[node]["out"]
        if arch.norm != "none":
            node = b.add("norm", node, out, kind=arch.norm, fields=regular, params=2 * width,
                         **({"trivial": trivial} if trivial else {}))
        node = b.add("activation", node, out, kind=arch.activation, params=0)
        if layer in arch.downsample_after:
            size = tuple(halve(s) for s in size)
            node = b.add("downsample", node, b.mixed(trivial, regular, size), mode=arch.pooling, params=0)
        in_fields, in_trivial = regular, trivial
    trunk = node
    for index, output in enumerate(spec.outputs):
        if in_trivial:
            add_mixed_head(b, trunk, in_trivial, in_fields, size, arch, index, output.kind, output.size)
        else:
            _add_head(b, trunk, in_fields, size, arch, index, output.kind, output.size)
    return b.graph


def _add_head(b: GraphBuilder, trunk: str, fields: int, size, arch: Architecture, index: int, kind: str, k: int):
    order = b.symmetry.order
    b.stage = f"output{index}"
    if kind == "invariant" and arch.group_pooling == "spectrum":
        # Pool positions first, keeping each field's response at every group element, then keep the lengths of its
        # isotypic components (one per real class of the group): invariant, and richer than one max per field.
        components = b.symmetry.group.real_class_count()
        node = b.add("global_pool", trunk, b.regular(fields, ()), mode=arch.global_pooling, params=0)
        node = b.add("group_pool", node, b.scalars(fields * components), mode="spectrum", fields=fields,
                     components=components, params=0)
        # The hidden layer is as wide as its input, as a plain CNN's head is (its input is the last layer's width).
        node = _add_mlp_head(b, node, fields * components, fields * components, arch.activation, k)
    elif kind == "invariant":
        scales = b.symmetry.scales  # kept until pooled over
        node = b.add("group_pool", trunk, b.scalars(fields, size, scales), mode=arch.group_pooling, fields=fields,
                     params=0)
        node = b.add("global_pool", node, b.scalars(fields, (), scales), mode=arch.global_pooling, params=0)
        if scales > 1:
            node = add_scale_pool(b, node, fields)
        node = _add_mlp_head(b, node, fields, arch.head_hidden, arch.activation, k)
    elif kind == "equivariant":
        node = b.add("group_conv", trunk, b.regular(k, size), in_fields=fields, out_fields=k, kernel=1,
                     params=k * fields * order + k, bias=True)
        node = b.add("group_pool", node, b.scalars(k, size), mode="mean", fields=k, params=0)
    elif kind == "fields":
        node = b.add("group_conv", trunk, b.regular(k, size), in_fields=fields, out_fields=k, kernel=1,
                     params=k * fields * order + k, bias=True)
    elif kind == "orientation":
        node = b.add("global_pool", trunk, b.regular(fields, ()), mode="mean", params=0)
        node = b.add("field_linear", node, b.regular(k, ()), in_fields=fields, out_fields=k, params=fields * k + k)
    else:  # pragma: no cover - symmetry analysis refuses other kinds first
        raise ValueError(kind)
    b.add("output", node, b.graph.nodes[node]["out"], index=index, kind=kind, params=0)


def _add_mlp_head(b: GraphBuilder, node: str, features: int, hidden: int, activation: str, k: int) -> str:
    return b.add("head", node, b.scalars(k), in_features=features, hidden=hidden, out_features=k,
                 activation=activation, params=(features * hidden + hidden + hidden * k + k) if hidden
                 else features * k + k)


# ---------------------------------------------------------------- the image symmetry (Spec -> Symmetry)

# What the image lowering handles today; everything else in the language parses but is refused with a clear message.
IMAGE_FACTORS = domain_plugin("image").lowered
IMAGE_OUTPUTS = {"invariant", "equivariant", "fields", "orientation"}
SUPPORTED_HINT_VALUES = {
    "backbone": {"conv"},
    "position_encoding": {"auto", "none", "radial"},
    "conv": {"auto", "direct", "fft"},
    "boundary": {"zero"},
}
UNSUPPORTED_HINTS: dict[str, str] = {}
# Every layer keeps one channel per group element and the generated file holds an order x order table, so very large
# orders would only give huge, slow files; escnn-style models use up to C16/D16.
MAX_GROUP_ORDER = 128



def analyze_image(spec: Spec) -> Symmetry:
    """The image symmetry: the planar point group (times hue rotations), translations and scales; or SO(2) or
    O(2) (symc.ir.steerable)."""
    if is_continuous(spec):
        return analyze_steerable(spec)
    domain = spec.domain.kind
    for index, factor in enumerate(spec.symmetry):
        if factor.kind not in IMAGE_FACTORS:
            raise spec.error(f"symmetry.{index}", f"'{factor.kind}' symmetry on images is not supported yet; "
                             "supported: translation, rotation N, D<N>/E(2) discretized N, p4, p4m, flip, hue N, scale N")
    for index, output in enumerate(spec.outputs):
        if output.kind not in IMAGE_OUTPUTS:
            raise spec.error(f"output.{index}", f"'{output.kind}' output is not supported on images; supported: "
                             "invariant, equivariant, equivariant K fields and orientation outputs")
    for name, allowed in SUPPORTED_HINT_VALUES.items():
        value = getattr(spec.hints, name)
        if value is not None and value not in allowed:
            raise spec.error(f"hint.{name}", f"{name.replace('_', ' ')} '{value}' is not supported yet for images; "
                             f"supported: {', '.join(sorted(allowed))}")
    for name, words in UNSUPPORTED_HINTS.items():
        if getattr(spec.hints, name) is not None:
            raise spec.error(f"hint.{name}", f"the '{words}' hint is not supported yet for images; leave it out "
                             "(every layer holds regular fields)")
    _check_group_order(spec)
    group = image_group(spec.symmetry)
    for index, output in enumerate(spec.outputs):
        if output.kind == "orientation" and group.order == 1:
            raise spec.error(f"output.{index}", "orientation output needs a rotation, mirror or hue group with "
                             "more than one element, but this spec's group is trivial; supported with 'rotation N' "
                             "(N at least 2), 'D<N>', 'flip' or 'hue N' (N at least 2)")
    scales = _scales(spec)
    right_angles = all(is_exact(group, i) for i in group.elements())
    if scales > 1:  # before the hue wording: zooms stay approximate with hue too
        exactness = scale_exactness(group, right_angles)
    elif has_hue(group):
        exactness = HUE_EXACTNESS[right_angles]
    else:
        exactness = PLANAR_EXACTNESS[right_angles]
    return Symmetry(domain=domain, group=group, translation=spec.translation, exactness=exactness, scales=scales)


PLANAR_EXACTNESS = {
    True: "exact for every group element (rotations by multiples of 90 degrees and mirrors) at every size",
    False: "exact for the right-angle subgroup; other rotations steer band-limited filters and are approximate",
}
HUE_EXACTNESS = {
    True: "exact for every group element (rotations by multiples of 90 degrees, mirrors and hue rotations) "
          "at every size",
    False: "exact for the right-angle subgroup and hue rotations; other rotations steer band-limited filters "
           "and are approximate",
}


def _scales(spec: Spec) -> int:
    """N of the spec's `scale N` (1 without one), after refusing what the scale layers do not lower."""
    return check_scale(spec)


def _check_group_order(spec: Spec) -> None:
    """Refuse rotation groups above MAX_GROUP_ORDER elements, at the clause that asks for one."""
    mirrored = any(factor.kind in ("flip", "dihedral") for factor in spec.symmetry)
    for index, factor in enumerate(spec.symmetry):
        if factor.kind in ("rotation", "dihedral"):
            order = factor.n * (2 if mirrored else 1)
            if order > MAX_GROUP_ORDER:
                with_mirror = " with the mirror" if mirrored and factor.kind == "rotation" else ""
                raise spec.error(f"symmetry.{index}", f"'{factor_text(factor)}'{with_mirror} is a group of {order:,} "
                                 f"elements, which is not supported; supported: up to {MAX_GROUP_ORDER} elements "
                                 f"('C{MAX_GROUP_ORDER}', 'D{MAX_GROUP_ORDER // 2}'), since every layer keeps one "
                                 "channel per element")
    _check_hue_order(spec)


def _check_hue_order(spec: Spec) -> None:
    """Refuse a hue group that takes the whole group above MAX_GROUP_ORDER elements, at the hue clause."""
    hues = [(index, factor) for index, factor in enumerate(spec.symmetry) if factor.kind == "hue"]
    if not hues:
        return
    index, hue = hues[0]
    planar = point_group(spec.symmetry)
    order = planar.order * hue.n
    if order > MAX_GROUP_ORDER:
        times = f" times the {planar.order} elements of '{planar.name}'" if planar.order > 1 else ""
        raise spec.error(f"symmetry.{index}", f"'{factor_text(hue)}'{times} is a group of {order:,} elements, "
                         f"which is not supported; supported: up to {MAX_GROUP_ORDER} elements (such as "
                         "'D4 x hue 16' or 'C8 x hue 16'), since every layer keeps one channel per element")
