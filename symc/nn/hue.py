"""Lifting RGB images over a group with hue rotations.

A hue rotation by t turns each pixel's RGB vector by t about (1, 1, 1)/sqrt(3) (right-handed: 120 degrees sends red
to green). Element g = (spatial part, hue step) has `spatial[g] = (mirror, r, n)` and `hue[g] = (step, k)`.
The copy of a filter for element g is the base filter moved spatially by g with its three input channels mixed by g's
inverse hue rotation: conv(R_g x, W R_h^-1) = conv(x, W R_(g^-1 h)^-1), so moving the input by g permutes the group
axis exactly as for rotations. Hue elements move nothing spatially, so the regular group convolutions that follow
need no change.
"""
import math

import torch

from .conv import GroupLift2d


def hue_rotations(hue) -> torch.Tensor:
    """(len(hue), 3, 3) float64 rotations about the grey axis, rgb -> M @ rgb, for each (step, k) in `hue`."""
    matrices = []
    for step, k in hue:
        t = 2.0 * math.pi * step / k
        c, s = math.cos(t), math.sin(t)
        a, b = (1.0 - c) / 3.0, s / math.sqrt(3.0)
        matrices.append([[c + a, a - b, a + b], [a + b, c + a, a - b], [a - b, a + b, c + a]])
    m = torch.tensor(matrices, dtype=torch.float64)
    # Turns by multiples of 120 degrees are channel permutations: make them exactly so.
    return torch.where((m - m.round()).abs() < 1e-12, m.round(), m)


class HueLift2d(GroupLift2d):
    """RGB channels in, regular fields out: one spatially moved, colour-mixed copy of each filter per element."""

    def __init__(self, in_channels: int, out_fields: int, kernel_size: int, spatial, hue, bias: bool = False,
                 algorithm: str = "direct", channels_last: bool = False):
        super().__init__(in_channels, out_fields, kernel_size, spatial, bias, algorithm, channels_last)
        if in_channels != 3:
            raise ValueError(f"hue rotations act on 3 (RGB) channels, got {in_channels}")
        # Row g holds R_g^-1 = R_g^T; filters mix their input channels by it: W_g[:, c] = sum_d W[:, d] R_g^-1[d, c].
        # A plain float64 attribute, not a buffer: `.to(dtype)` on the model must not round it (a bfloat16 copy of
        # a 60-degree turn would break the symmetry that float32 and float64 copies of the weights keep exactly).
        self.hue_inverse = hue_rotations(hue).transpose(1, 2).contiguous()

    def expand_weight(self) -> torch.Tensor:
        base = self.transforms.prepare(self.weight).permute(0, 2, 3, 1)  # (out, k, k, in): channels last for matmul
        inverse = self.hue_inverse.to(device=base.device, dtype=base.dtype)
        copies = [self.transforms(torch.matmul(base, inverse[g]).permute(0, 3, 1, 2), g) for g in range(self.order)]
        bank = torch.stack(copies, dim=1)  # (out, order, in, k, k)
        k = self.kernel_size
        return bank.reshape(self.out_fields * self.order, self.in_channels, k, k)
