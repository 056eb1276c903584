"""The cost model: FLOPs, bytes and roofline time of convolutions by algorithm, and training memory.

All counts are for a whole batch. Direct convolution costs 2·B·Cin·Cout·prod(K)·prod(S) FLOPs forward and twice that
backward (gradients of input and filters). FFT convolution costs a real FFT per input channel, per output channel and
per filter (the filters' FFT is cached in eval mode), each about 2.5·N·log2(N) FLOPs at the padded size N, plus a
complex matmul of 8·B·Cin·Cout FLOPs per frequency; backward repeats the transforms and does two more matmuls.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..sizes import fast_fft_size
from .hardware import Hardware

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
GPU_DIRECT_EFFICIENCY = 0.6   # cuDNN implicit-GEMM convs reach roughly this fraction of tensor-core peak
GPU_MATMUL_EFFICIENCY = 0.5   # complex products run as fp32 batched matmuls


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


@dataclass(frozen=True)
class ConvShape:
    batch: int
    cin: int
    cout: int
    kernel: tuple[int, ...]
    spatial: tuple[int, ...]

    @property
    def dims(self) -> int:
        return len(self.spatial)

    def key(self) -> str:
        k = "x".join(map(str, self.kernel))
        s = "x".join(map(str, self.spatial))
        return f"b{self.batch}-c{self.cin}-o{self.cout}-k{k}-s{s}"


def direct_flops(shape: ConvShape) -> float:
    return 2.0 * shape.batch * shape.cin * shape.cout * _prod(shape.kernel) * _prod(shape.spatial)


def fft_flops(shape: ConvShape, training: bool) -> tuple[float, float]:
    """(transform FLOPs, complex-product FLOPs) of one forward (and backward when training)."""
    sizes = [fast_fft_size(s + k - 1) for s, k in zip(shape.spatial, shape.kernel)]
    n = _prod(sizes)
    frequencies = n // sizes[-1] * (sizes[-1] // 2 + 1)
    transforms = shape.batch * (shape.cin + shape.cout) + shape.cin * shape.cout
    per_transform = 2.5 * n * math.log2(max(n, 2))
    product = 8.0 * shape.batch * shape.cin * shape.cout * frequencies
    if training:
        return 2 * transforms * per_transform, 3 * product
    return (transforms - shape.cin * shape.cout) * per_transform, product


def fft_bytes(shape: ConvShape, training: bool) -> float:
    sizes = [fast_fft_size(s + k - 1) for s, k in zip(shape.spatial, shape.kernel)]
    frequencies = _prod(sizes) // sizes[-1] * (sizes[-1] // 2 + 1)
    spectra = shape.batch * (shape.cin + shape.cout) + shape.cin * shape.cout
    passes = 6 if training else 3
    return passes * spectra * frequencies * 8.0


def direct_bytes(shape: ConvShape, dtype: str, training: bool) -> float:
    size = DTYPE_BYTES[dtype]
    moved = (shape.batch * (shape.cin + shape.cout) * _prod(shape.spatial) + shape.cin * shape.cout
             * _prod(shape.kernel)) * size
    return moved * (3 if training else 1)


def cpu_direct_rate(hardware: Hardware, shape: ConvShape) -> float:
    """Measured direct-conv rate at this kernel size: a power law through the small- and large-kernel probes."""
    (small_rate, small_taps), (large_rate, large_taps) = (
        hardware.direct_rate.get(shape.dims) or hardware.direct_rate[2])
    taps = _prod(shape.kernel)
    if taps <= small_taps or large_rate >= small_rate:
        return small_rate if taps <= small_taps else max(small_rate, large_rate)
    slope = math.log(small_rate / large_rate) / math.log(large_taps / small_taps)
    return small_rate * (small_taps / taps) ** slope


def conv_time(algorithm: str, shape: ConvShape, hardware: Hardware, dtype: str, training: bool = True) -> float:
    """Roofline estimate (seconds) of one forward, or forward plus backward when training."""
    if algorithm == "direct":
        flops = direct_flops(shape) * (3 if training else 1)
        if hardware.kind == "cpu" and hardware.direct_rate:
            rate = cpu_direct_rate(hardware, shape)
        else:
            rate = hardware.rate(dtype) * GPU_DIRECT_EFFICIENCY
        return max(flops / rate, direct_bytes(shape, dtype, training) / hardware.bandwidth)
    transforms, product = fft_flops(shape, training)
    if hardware.kind == "cpu":
        compute = (transforms + product) / hardware.fft_flops_rate()
    else:
        compute = transforms / hardware.fft_flops_rate() + product / (hardware.peak["fp32"] * GPU_MATMUL_EFFICIENCY)
    return max(compute, fft_bytes(shape, training) / hardware.bandwidth)


def choose_conv(shape: ConvShape, hardware: Hardware, dtype: str, training: bool = True) -> tuple[str, dict]:
    """The faster algorithm by the cost model, with both estimates."""
    times = {a: conv_time(a, shape, hardware, dtype, training) for a in ("direct", "fft")}
    return min(times, key=lambda a: (times[a], a != "direct")), times


@dataclass(frozen=True)
class TrainingMemory:
    parameters: float
    gradients: float
    optimizer: float
    activations_per_sample: float
    batch: int
    total: float
    largest_batch: int


def training_memory(params: int, activation_bytes_per_sample: float, hardware: Hardware, dtype: str,
                    batch: int) -> TrainingMemory:
    """Parameters, gradients and Adam's two moments in float32, plus activations kept for backward."""
    weights = params * 4.0
    gradients = params * 4.0
    optimizer = params * 8.0
    fixed = weights + gradients + optimizer
    total = fixed + activation_bytes_per_sample * batch
    usable = 0.9 * hardware.memory - fixed  # leave room for the allocator and workspaces
    largest = int(usable // activation_bytes_per_sample) if activation_bytes_per_sample > 0 and usable > 0 else 0
    return TrainingMemory(weights, gradients, optimizer, activation_bytes_per_sample, batch, total, largest)
