"""Borders and halvings of grid models: the `padding` and `downsample` hints, and the sizes they leave.

By default every convolution is padded by kernel // 2 on each side ("same"), so each layer keeps its size. A
smaller padding crops the map by the same amount on every side, so it stays centred on the input's centre: a
rotation or mirror about that centre still maps every layer's grid onto itself, and the model stays as exact as
with "same" padding (docs/spec-language.md §8.1).
"""
from __future__ import annotations

import dataclasses

from ..ir.fields import conv_size, halve, layer_padding
from ..ir.graph import Architecture
from ..spec.model import Spec
from ..spec.normalize import hint_text


def _written(spec: Spec, name: str) -> str:
    return hint_text(name, getattr(spec.hints, name))


def grid_paddings(spec: Spec, kernels, reasons: dict[str, str], scales: int = 1) -> tuple[int, ...]:
    """Each layer's padding from the `padding` hint; () when every layer keeps its size."""
    hint = spec.hints.padding
    if hint is None or hint == "same":
        if hint == "same":
            reasons["padding"] = "same (hint): kernel // 2 on each side, every layer keeps its size"
        return ()
    if scales > 1:
        raise spec.error("hint.padding", f"'{_written(spec, 'padding')}' shrinks the grid, but scale groups keep "
                                         "every layer at the input's size (a zoom moves features across it): leave "
                                         "it out")
    depth = len(kernels)
    if hint == "valid":
        paddings = (0,) * depth
    else:
        paddings = tuple(hint) * depth if len(hint) == 1 else tuple(hint)
    for layer, (kernel, padding) in enumerate(zip(kernels, paddings)):
        if padding > kernel // 2:
            raise spec.error("hint.padding", f"layer {layer + 1} pads {padding} on each side with a {kernel}-wide "
                                             f"kernel, which would grow the grid: pad at most {kernel // 2} "
                                             f"(kernel // 2 keeps the size)")
    if all(padding == kernel // 2 for kernel, padding in zip(kernels, paddings)):
        reasons["padding"] = "padding hint: kernel // 2 on each side, every layer keeps its size"
        return ()
    shrink = ", ".join(str(kernel - 1 - 2 * padding) for kernel, padding in zip(kernels, paddings))
    reasons["padding"] = (f"padding hint: {', '.join(map(str, paddings))} on each side, so the layers shrink each "
                          f"side by {shrink}; cropped evenly about the centre, so rotations and mirrors about it "
                          "stay as exact as with 'same' padding")
    return paddings


def hinted_downsampling(spec: Spec, depth: int, default: tuple[int, ...], reasons: dict[str, str],
                        keeps_size: str = "") -> tuple[int, ...]:
    """The layers (0-based) after which the grid halves: the `downsample` hint's, else `default`.

    `keeps_size` says why this model must not halve (an equivariant output, scales), refusing a hint that does.
    """
    layers = spec.hints.downsample
    if layers is None:
        return default
    if layers and keeps_size:
        raise spec.error("hint.downsample", f"'{_written(spec, 'downsample')}' halves the grid, but {keeps_size}: "
                                            "leave it out")
    if layers and layers[-1] > depth:
        raise spec.error("hint.downsample", f"'{_written(spec, 'downsample')}' names layer {layers[-1]}, but the "
                                            f"model has {depth} layers")
    reasons["downsample"] = ("downsample hint: none" if not layers else
                             f"downsample hint: halve after layer{'s' if len(layers) > 1 else ''} "
                             f"{', '.join(map(str, layers))}, windows symmetric about the centre")
    return tuple(layer - 1 for layer in layers)


def layer_sides(arch: Architecture, side: int) -> list[int]:
    """The side of the grid after each layer (after its halving, if any), for an input of `side`."""
    sides = []
    for layer, kernel in enumerate(arch.kernels):
        side = conv_size(side, kernel, layer_padding(arch.kernels, arch.paddings, layer))
        if side < 1:
            sides.append(side)
            break
        if layer in arch.downsample_after:
            side = halve(side)
        sides.append(side)
    return sides


def fit_sizes(spec: Spec, arch: Architecture) -> Architecture:
    """Refuse a spec whose shrinking layers leave no grid; plan a spec without a size at one they fit."""
    if not arch.paddings:
        return arch
    need = arch.min_size
    if not spec.domain.shape:
        size = tuple(max(s, need) for s in arch.input_size)
        if size != arch.input_size:
            arch.reasons["input"] = (f"any size of at least {need} works (the shrinking layers need it); costs "
                                     f"assume {'x'.join(map(str, size))}")
        return dataclasses.replace(arch, input_size=size)
    side = min(arch.input_size)
    if side < need:
        sides = layer_sides(arch, side)
        raise spec.error("hint.padding", f"'{_written(spec, 'padding')}' shrinks the grid of side {side} to nothing "
                                         f"by layer {len(sides)} (sides {', '.join(map(str, [side] + sides))}): "
                                         f"inputs need a side of at least {need}; pad more, or use smaller kernels "
                                         "or fewer layers")
    return arch
