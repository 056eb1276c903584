"""The scale-space lifting of RGB images under a group with hue rotations (`hue N x scale M`, with or without
rotations and mirrors).

Element g = (spatial part s, hue step k) has index s * K + k (symc.groups.hue). As in HueLift2d, the copy of a filter
for g is the copy for s with its three input channels mixed by g's inverse hue rotation, W_g = s(W) R_k^-1. Mixing a
filter's input channels is mixing the input: conv(x, s(W) R_k^-1) = conv(R_k^-1 x, s(W)). So the lifting runs
ScaleLift2d over the rotation/mirror part alone on the K turned copies of the input, stacked along the batch, and
interleaves the results into the product's group axis: no other layer changes, and the same FLOPs as mixing every
filter copy. Turning the input's hue by R_j turns copy k into copy k - j: the group axis moves exactly, at every scale.
"""
import torch

from .hue import hue_rotations
from .scale import ScaleLift2d


class HueScaleLift2d(torch.nn.Module):
    """RGB (B, 3, H, W) in, regular fields at every scale (scales * B, out_fields * order, H, W) out, as ScaleLift2d."""

    def __init__(self, in_channels: int, out_fields: int, kernel_size: int, spatial, hue, scales: int):
        super().__init__()
        if in_channels != 3:
            raise ValueError(f"hue rotations act on 3 (RGB) channels, got {in_channels}")
        hues = hue[0][1]
        order = len(spatial)
        if any(tuple(hue[i]) != (i % hues, hues) or tuple(spatial[i]) != tuple(spatial[i - i % hues])
               for i in range(order)):
            raise ValueError("expected the elements of a hue product numbered spatial index * K + hue step")
        self.hues = hues
        self.order = order
        self.out_fields = out_fields
        self.scales = scales
        self.planar = ScaleLift2d(in_channels, out_fields, kernel_size, spatial[::hues], scales)
        # Row k holds R_k^-1 = R_k^T, float64 and not a buffer, as in HueLift2d (a bfloat16 copy would not be exact).
        self.hue_inverse = hue_rotations(hue[:hues]).transpose(1, 2).contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, height, width = x.shape[0], x.shape[-2], x.shape[-1]
        inverse = self.hue_inverse.to(device=x.device, dtype=x.dtype)
        turned = torch.einsum("kcd,bdhw->kbchw", inverse, x).reshape(self.hues * batch, 3, height, width)
        y = self.planar(turned)  # row (s * K + k) * B + b: scale s, hue copy k, sample b
        y = y.reshape(self.scales, self.hues, batch, self.out_fields, self.order // self.hues, height, width)
        y = y.permute(0, 2, 3, 4, 1, 5, 6)  # group axis spatial-major, hue step last
        return y.reshape(self.scales * batch, self.out_fields * self.order, height, width)
