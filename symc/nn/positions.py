"""Position channels for image models that may use absolute position (`no translation`).

Each channel is a function of the pixel's place relative to the image centre ((H-1)/2, (W-1)/2) that the declared
rotations and mirrors leave unchanged, computed from the input's own size in forward (any size works). They are
appended to the input as extra invariant channels, so the lifting layer sees them and nothing else changes.
"""

import torch


def image_positions(kind: str, n: int, height: int, width: int, device: torch.device) -> torch.Tensor:
    """(channels, H, W) position channels of `kind` (see ImagePositions), in float32.

    y = row - (H-1)/2, x = col - (W-1)/2; the mirror maps x to -x, a quarter turn maps (y, x) to (x, -y) or
    (-x, y), so y*y + x*x is unchanged exactly. theta = atan2(y, x); phi = atan2(x, y) is measured from the
    vertical, the mirror's axis, so the mirror maps phi to -phi and every mirror of D_N keeps cos(N phi).
    """
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    y = (torch.arange(height, dtype=torch.float32, device=device) - cy)[:, None].expand(height, width)
    x = (torch.arange(width, dtype=torch.float32, device=device) - cx)[None, :].expand(height, width)
    if kind == "coordinates":
        return torch.stack([x / (cx if cx > 0 else 1.0), y / (cy if cy > 0 else 1.0)])
    squared = y * y + x * x
    # The half-diagonal as a tensor, not a Python float, so an exported graph does not freeze it at the export size;
    # in float64 as before. It is 0 only on a 1x1 image, whose channels are all 0, and otherwise at least 0.5.
    scale = torch.sqrt(squared[0, 0].double()).clamp_min(0.5)
    channels = [torch.sqrt(squared) / scale]  # 1 at the corners
    if kind == "cyclic":
        theta = torch.atan2(y, x)
        channels += [torch.cos(n * theta), torch.sin(n * theta)]
    elif kind == "dihedral":
        channels.append(torch.cos(n * torch.atan2(x, y)))
    elif kind == "flip":
        channels.append(y / scale)
    return torch.stack(channels)


class ImagePositions(torch.nn.Module):
    """(B, C, H, W) -> (B, C + P, H, W): the input with P position channels appended.

    `kind` 'cyclic' (C_N, N = `n`): radius, cos(N theta), sin(N theta); 'dihedral' (D_N): radius, cos(N phi);
    'flip': radius, y; 'trivial': radius; 'coordinates': x, y in [-1, 1] (CoordConv, no point symmetry).
    The radius is divided by the half-diagonal. All are unchanged by the group's rotations about the centre.
    """

    def __init__(self, kind: str, n: int = 1):
        super().__init__()
        self.kind = kind
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        positions = image_positions(self.kind, self.n, x.shape[-2], x.shape[-1], x.device).to(x.dtype)
        return torch.cat([x, positions.unsqueeze(0).expand(x.shape[0], -1, -1, -1)], dim=1)
