"""Convolution by FFT: the same cross-correlation as torch's direct conv with centred padding, for 1, 2 or 3 dims.

Inputs and filters are real-FFT'd at the smallest 5-smooth size that holds the linear result (powers of two are
slower), the channel sum is one batched matmul over frequencies on a frequency-major layout (complex einsum is far
slower), and the result is cropped back to the input's size. Large kernels make it much faster than direct conv.
"""
import torch

from ..sizes import fast_fft_size


def fft_allowed() -> bool:
    """False while exporting to ONNX, which has no complex matmul: FFT layers then export as the direct convolution
    they equal (the same cross-correlation, to round-off)."""
    if torch.jit.is_scripting():
        return True
    # ONNX's exporter runs under torch.export; asking torch.onnx only then spares every forward its import
    return not (torch.compiler.is_exporting() and torch.onnx.is_in_onnx_export())


def filter_spectrum(weight: torch.Tensor, sizes: list[int]) -> torch.Tensor:
    """(frequencies, in, out) spectrum of the flipped filters (correlation = convolution with the flipped filter)."""
    d = len(sizes)
    dims = list(range(-d, 0))
    spectrum = torch.fft.rfftn(torch.flip(weight, dims=dims), s=sizes, dim=dims)
    return spectrum.reshape(weight.shape[0], weight.shape[1], -1).permute(2, 1, 0).contiguous()


def fft_sizes(x: torch.Tensor, weight: torch.Tensor, circular: bool) -> list[int]:
    d = weight.dim() - 2
    if circular:
        return [int(s) for s in x.shape[-d:]]
    return [fast_fft_size(int(s) + int(k) - 1) for s, k in zip(x.shape[-d:], weight.shape[-d:])]


def fft_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, circular: bool = False,
             spectrum: torch.Tensor | None = None, crop: int = 0) -> torch.Tensor:
    """Cross-correlation of x (B, in, *size) with odd-sized weight (out, in, *kernel), output (B, out, *size), or
    `crop` fewer samples on each side of every axis (the convolution padded by kernel // 2 - crop).

    Zero boundary by default; `circular` wraps around (it needs kernel <= size in every dim). `spectrum` may hold
    `filter_spectrum(weight, fft_sizes(...))` computed earlier (the filters' FFT is cached in eval mode).
    """
    d = weight.dim() - 2
    dims = list(range(-d, 0))
    sizes = fft_sizes(x, weight, circular)
    if spectrum is None:
        spectrum = filter_spectrum(weight, sizes)
    batch, channels = x.shape[0], x.shape[1]
    signal = torch.fft.rfftn(x, s=sizes, dim=dims)
    frequency_shape = list(signal.shape[2:])
    signal = signal.reshape(batch, channels, -1).permute(2, 0, 1).contiguous()  # (F, B, in)
    product = torch.bmm(signal, spectrum)  # (F, B, out)
    product = product.permute(1, 2, 0).reshape([batch, spectrum.shape[-1]] + frequency_shape)
    full = torch.fft.irfftn(product, s=sizes, dim=dims)
    out = full
    for axis in range(d):
        dim = 2 + axis
        centre = int(weight.shape[dim]) // 2
        length = int(x.shape[dim])
        if circular:
            out = torch.roll(out, -centre, dims=dim)
        else:
            out = out.narrow(dim, centre + crop, length - 2 * crop)
    if bias is not None:
        out = out + bias.reshape([1, -1] + [1] * d)
    return out
