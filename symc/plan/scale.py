"""Planner facts for the scale axis of grids (images, sequences): kernel choice, reasons, and the cost of one layer at every scale."""
from __future__ import annotations

from ..sizes import HERMITE_ORDER, SCALE_STEP, SCALE_WINDOW, TRUNCATE, hermite_orders, scale_kernel_sizes
from .cost import ConvShape, conv_time, direct_flops

SCALE_DOWNSAMPLE_REASON = ("none: strided pooling samples each scale on a grid that a zoom does not map onto "
                           "itself, which measured 1.7 times the zoom error")
SCALE_KERNEL = 5  # grid at the smallest scale: sigma_0 = 2 / 3 pixel (3 is worse, see scale_kernel_reason)


def scale_kernel_reason(kernel: int, scales: int) -> str:
    sizes = ", ".join(str(k) for k in scale_kernel_sizes(kernel, scales))
    return (f"{kernel} at the smallest scale (grids {sizes} for scales 0..{scales - 1}, sigma_0 = "
            f"{max(kernel // 2, 1) / TRUNCATE:.3g} pixel): 3 samples Hermite-Gaussian filters too coarsely, and 7 "
            "measured worse on zooms")


def scale_reason(scales: int, dims: int = 2) -> str:
    degrees = "n, m" if dims == 2 else ("n" if dims == 1 else "per axis")
    return (f"{scales} scales, step q = {SCALE_STEP:.4g}: every conv keeps one copy of its fields per scale, filters "
            f"from {len(hermite_orders(dims))} Hermite-Gaussian functions (orders {degrees} <= {HERMITE_ORDER}) at "
            "sigma_0 q^s, "
            f"a window of {SCALE_WINDOW} input scale(s) per output scale; max over positions and scales for "
            "invariant outputs")


def scale_conv_shapes(data, inp, out, batch: int) -> list[ConvShape]:
    """The direct convolutions one scale layer runs: one per output scale, over the input scales in its window."""
    scales = data["scales"]
    shapes = []
    for s, k in enumerate(data["kernels"]):
        count = 1 if data["op"] == "scale_lift" else min(data["window"], scales - s)
        shapes.append(ConvShape(batch, count * inp.channels, out.channels, (k,) * len(out.spatial),
                                tuple(out.spatial)))
    return shapes


def scale_conv_cost(data, inp, out, batch: int, hardware, dtype: str) -> tuple[int, float, str]:
    """(FLOPs per sample, seconds of a training step at `batch`, reason) of a scale layer."""
    shapes = scale_conv_shapes(data, inp, out, batch)
    flops = int(sum(direct_flops(shape) for shape in shapes) // batch)
    time = sum(conv_time("direct", shape, hardware, dtype) for shape in shapes)
    dims = len(out.spatial)
    grids = ", ".join("x".join([str(k)] * dims) for k in data["kernels"])
    window = "" if data["op"] == "scale_lift" else f", each over up to {data['window']} input scales"
    reason = (f"direct: one convolution per scale ({grids}{window}); filters from {data['params']:,} "
              "basis coefficients")
    return flops, time, reason
