"""Measures this CPU for `target cpu` and prints the figures as JSON (run as `python -m symc.plan.probe`).

It times, forward plus backward, torch's direct convolution in 1, 2 and 3 dims (each at a small and a large kernel)
and symc's FFT convolution, then converts the times into rates with the cost model's own FLOP counts, so the model's
crossovers land where this machine's are. A few seconds; the planner caches the result.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from ..nn.fft import fft_conv
from .cost import ConvShape, direct_flops, fft_flops

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
# Direct convolution slows down per FLOP as kernels grow, so each dimension is measured at a small and a large kernel.
DIRECT_SHAPES = {1: (ConvShape(8, 32, 32, (15,), (1024,)), ConvShape(8, 32, 32, (63,), (1024,))),
                 2: (ConvShape(8, 32, 32, (5, 5), (32, 32)), ConvShape(8, 32, 32, (15, 15), (32, 32))),
                 3: (ConvShape(2, 8, 8, (3, 3, 3), (12, 12, 12)), ConvShape(2, 8, 8, (5, 5, 5), (12, 12, 12)))}
FFT_SHAPES = (ConvShape(8, 32, 32, (15, 15), (48, 48)), ConvShape(8, 32, 32, (63,), (1024,)))


def time_training_step(run, repeats: int = 3, long_run: float = 1.0) -> float:
    """Fastest of a few forward-plus-backward runs after a warm-up (the minimum resists interference from other
    work on the machine better than the median); a run longer than `long_run` seconds is its own measurement
    (warm-up costs are negligible beside it, and repeating it would only make the user wait)."""
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    if first > long_run:
        return first
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def conv_step(shape: ConvShape, algorithm: str, channels_last: bool = False):
    x = torch.randn(shape.batch, shape.cin, *shape.spatial, requires_grad=True)
    w = torch.randn(shape.cout, shape.cin, *shape.kernel, requires_grad=True)
    if channels_last and shape.dims == 2:
        x = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
    padding = tuple(k // 2 for k in shape.kernel)

    def run():
        y = fft_conv(x, w) if algorithm == "fft" else CONV[shape.dims](x, w, padding=padding)
        y.sum().backward()
    return run


def _taps(shape: ConvShape) -> int:
    taps = 1
    for k in shape.kernel:
        taps *= k
    return taps


def measure() -> dict:
    direct = {d: [[3 * direct_flops(s) / time_training_step(conv_step(s, "direct")), _taps(s)] for s in pair]
              for d, pair in DIRECT_SHAPES.items()}
    # A 2D and a 1D shape; one rate for transforms and products keeps the fit stable.
    rates = []
    for shape in FFT_SHAPES:
        seconds = time_training_step(conv_step(shape, "fft"))
        transforms, product = fft_flops(shape, training=True)
        rates.append((transforms + product) / seconds)
    a = torch.randn(512, 512)
    seconds = time_training_step(lambda: a @ a)
    big = torch.empty(16 * 1024 * 1024 // 4)
    copy_seconds = time_training_step(lambda: big.clone())
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 8e9
    return {
        "direct_flops": {str(d): r for d, r in direct.items()},
        "fft_flops": statistics.median(rates),
        "matmul_flops": 2 * 512 ** 3 / seconds,
        "bandwidth": 2 * big.numel() * 4 / copy_seconds,
        "memory": float(memory),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
