"""Dense expanded filters against a convolution through symc's ring basis, at the escnn tutorial's shapes.

    python benchmarks/basis_conv.py

An 8-rotation filter bank lies in the span of the band-limited ring basis (symc.nn.filters.ring_basis: 9 functions
for a 5x5 kernel), so conv(x, C @ basis) equals a depthwise convolution of every input channel with the 9 basis
functions followed by a 1x1 mix with the coefficients C. For each group convolution of `twin.TUTORIAL_SPEC`
(batch 8, 2 threads, the sizes and paddings each layer meets) it prints the median forward + backward (input and
filter gradients) of both, and their largest relative difference.
"""
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from twin import TUTORIAL_SPEC, ConvolutionsAlone  # noqa: E402

import symc  # noqa: E402
from symc.nn.filters import ring_basis  # noqa: E402


def median_seconds(run, repeats: int = 5) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = symc.compile(TUTORIAL_SPEC).new_module()
    layers = ConvolutionsAlone(model, (torch.randn(8, 1, 29, 29),))
    totals = {"dense": 0.0, "basis": 0.0}
    # The lifting (1 input channel) is left out: the five group convolutions carry the cost.
    for conv, x in zip(layers.convs[1:], layers.inputs[1:]):
        out_channels, in_channels, k, _ = conv.weight.shape
        padding = conv.padding[0]
        basis = ring_basis(k, 0.0).to(torch.float32)                             # (k * k, functions)
        functions = basis.shape[1]
        x = x.detach().requires_grad_()
        coefficients = (0.01 * torch.randn(out_channels, in_channels, functions)).requires_grad_()
        dense_filters = (coefficients @ basis.t()).reshape(out_channels, in_channels, k, k).detach().requires_grad_()
        depthwise = basis.t().reshape(functions, 1, k, k).repeat(in_channels, 1, 1, 1)   # (in * functions, 1, k, k)
        mix = coefficients.reshape(out_channels, in_channels * functions, 1, 1)

        def dense():
            y = F.conv2d(x, dense_filters, padding=padding)
            y.backward(torch.ones_like(y))

        def through_basis():
            y = F.conv2d(F.conv2d(x, depthwise, padding=padding, groups=in_channels), mix)
            y.backward(torch.ones_like(y))

        with torch.no_grad():
            a = F.conv2d(x, dense_filters, padding=padding)
            b = F.conv2d(F.conv2d(x, depthwise, padding=padding, groups=in_channels), mix)
        error = float((a - b).abs().max() / a.abs().max())
        times = {"dense": median_seconds(dense), "basis": median_seconds(through_basis)}
        for name, seconds in times.items():
            totals[name] += seconds
        print(f"{in_channels}->{out_channels} at {x.shape[-1]}x{x.shape[-1]}, {functions} basis functions: dense "
              f"{times['dense'] * 1e3:.0f} ms, basis {times['basis'] * 1e3:.0f} ms, relative difference {error:.1e}")
    print(f"total: dense {totals['dense'] * 1e3:.0f} ms, basis {totals['basis'] * 1e3:.0f} ms "
          f"({totals['basis'] / totals['dense']:.2f})")


if __name__ == "__main__":
    main()
