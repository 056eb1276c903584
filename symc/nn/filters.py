"""Every group element's copy of a bank of filters: the moves of symc.groups.moves applied to kernels.

A move `(source, flips, angle)` acts on a filter's last `len(source)` axes: first it steers the filter by `angle`
radians (images only, rotations by angles that are not multiples of 90 degrees), then output axis b reads input axis
source[b], reversed where flips[b] is 1. The permutation and flips are exact index moves of an odd kernel about its
centre. Steering rotates the filter inside a band-limited basis of smooth rings (as steerable CNNs do); once any
element steers, every copy is projected onto that basis, so copies a right angle apart differ by an exact index move.

A channel action (hue rotations turning RGB) mixes the first input channels of a filter whose inputs are plain
channels: the copy for g reads its input through g's inverse, W_g = g(W) A_g^-1, so that
conv(A_h x, W_g) = conv(x, W_(h^-1 g)).

A whole bank is built in one gather per kind of output (`FilterCopies`): each copy's entries are entries of a few
versions of the base filters (one per distinct steering angle and channel action, made by one small matmul each)
at fixed positions, so the bank costs one indexed copy and its gradient one indexed sum.
"""
import math

import torch


RING_WIDTH = 0.6      # Gaussian width of each radial ring, in pixels
MAX_FREQUENCY = 2     # highest angular frequency on any ring (and at most the ring's radius)


def ring_basis(size: int, angle: float) -> torch.Tensor:
    """(size*size, n) samples of smooth steerable functions, rotated by `angle`.

    Column b is ring(|p| - radius) * cos or sin(m * theta) at the pixel's source position: pixel (u, v) (centred)
    samples the rotated function at (cos a u + sin a v, -sin a u + cos a v), as rot90 does for a = 90 degrees.
    Rings sit at radii 0, 1, ..., (size-1)/2 and carry frequencies m <= min(radius, MAX_FREQUENCY): band-limited,
    so rotating them by any angle before sampling stays close to rotating the sampled filter.
    """
    c = (size - 1) / 2.0
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    offsets = torch.arange(size, dtype=torch.float64) - c
    u = offsets[:, None].expand(size, size).reshape(-1)
    v = offsets[None, :].expand(size, size).reshape(-1)
    su, sv = cos_a * u + sin_a * v, -sin_a * u + cos_a * v
    radius, theta = torch.sqrt(su * su + sv * sv), torch.atan2(sv, su)
    columns = []
    for ring in range(int(c) + 1):
        profile = torch.exp(-((radius - ring) ** 2) / (2 * RING_WIDTH ** 2))
        for m in range(min(ring, MAX_FREQUENCY) + 1):
            columns.append(profile * torch.cos(m * theta))
            if m > 0:
                columns.append(profile * torch.sin(m * theta))
    return torch.stack(columns, dim=1)


STEERING_CACHE = {}  # (size, angles) -> matrices: every layer with the same kernel shares them


def steering_matrices(size: int, angles):
    """(projection, rotations): the projection onto the ring basis, and for each angle the matrix that maps a
    projected filter to that filter rotated by the angle (both (size*size, size*size), float64)."""
    key = (size, tuple(angles))
    if key not in STEERING_CACHE:
        STEERING_CACHE[key] = _steering_matrices(size, angles)
    return STEERING_CACHE[key]


def _steering_matrices(size: int, angles):
    basis = ring_basis(size, 0.0)
    inverse = torch.linalg.pinv(basis)
    projection = basis @ inverse
    rotations = [ring_basis(size, a) @ inverse for a in angles]
    return projection, rotations


def move_filters(w: torch.Tensor, source, flips) -> torch.Tensor:
    """Filters (..., *kernel) moved by the exact part of a move, acting on their last len(source) axes."""
    lead = w.dim() - len(source)
    w = w.permute(list(range(lead)) + [lead + int(a) for a in source])
    dims = [lead + b for b in range(len(flips)) if flips[b]]
    return torch.flip(w, dims=dims) if dims else w


def distinct(keys):
    """(index of each key among the distinct keys, the distinct keys in order of first appearance)."""
    found = []
    for key in keys:
        if key not in found:
            found.append(key)
    return [found.index(key) for key in keys], found


class FilterCopies(torch.nn.Module):
    """Builds a conv's whole filter bank from its base filters: every group element's copy, for mixed field types.

    Input and output field types are (trivial, regular) counts: a map has `trivial + regular * order` channels,
    trivial channels first (moved spatially only), then regular fields, field-major (channel f * order + h is field
    f at element h), moved as out[h] = g(in[table[g][h]]) with table[g][h] the index of g^-1 h. The four blocks:
    trivial -> regular: copy g of a base filter for output slot g (a lifting); regular -> regular: copy g with its
    input group axis read through row g of the table (a group convolution); regular -> trivial: input slot h uses
    copy h; trivial -> trivial: the group average of the copies (a filter every element leaves unchanged). Channel
    actions, when given, turn the first channels of trivial inputs only.

    `forward(tt, tr, rt, rr)` takes the blocks with the kernel flattened ((to, ti, taps), (ro, ti, taps),
    (to, ri, taps), (ro, ri, order, taps); None for an empty block) and returns the bank
    (to + ro * order, ti + ri * order, *kernel).
    """

    def __init__(self, moves, table, kernel_size: int, in_type, out_type, actions=None):
        super().__init__()
        order = len(moves)
        dims = len(moves[0][0])
        taps = kernel_size ** dims
        ti, ri = int(in_type[0]), int(in_type[1])
        to, ro = int(out_type[0]), int(out_type[1])
        self.order, self.taps = order, taps
        self.in_trivial, self.in_regular, self.out_trivial, self.out_regular = ti, ri, to, ro
        self.kernel_shape = [kernel_size] * dims
        # Exact part: copy g's entry p sits at position pixels[g][p] of the (steered) base filter.
        grid = torch.arange(taps).reshape(self.kernel_shape)
        pixels = torch.stack([move_filters(grid, m[0], m[1]).reshape(-1) for m in moves])        # (order, taps)
        # Steering: one version of the base filters per distinct angle, all projected onto the ring basis.
        angles = [float(m[2]) if len(m) > 2 else 0.0 for m in moves]
        steer, angle_keys = distinct([round(a, 12) for a in angles])
        self.steered = any(a != 0.0 for a in angle_keys)
        if self.steered:
            if dims != 2:
                raise ValueError(f"steering by an angle turns the plane of a 2D kernel, not a {dims}D one")
            projection, rotations = steering_matrices(kernel_size, angle_keys)
            steering = torch.cat([r @ projection for r in rotations]).to(torch.float32)   # (versions * taps, taps)
        else:
            steer, steering = [0] * order, torch.zeros(0, taps)
        self.register_buffer("steering", steering, persistent=False)
        versions = len(angle_keys) if self.steered else 1
        # Channel actions: one version per distinct matrix, each the inverse action on the first channels of the
        # trivial inputs, laid side by side as (ti, channel versions * ti). A plain float64 attribute, not a buffer:
        # `.to(dtype)` on the model must not round it (a bfloat16 copy of a 60-degree hue turn would break the
        # symmetry that float32 and float64 copies of the weights keep exactly).
        self.acting = actions is not None and ti > 0
        if self.acting:
            matrices = torch.as_tensor(actions, dtype=torch.float64)
            size = matrices.shape[-1]
            if ti < size:
                raise ValueError(f"the channel action turns the first {size} input channels (RGB for hue "
                                 f"rotations), got {ti} input channels")
            chan, keys = distinct([tuple(round(v, 12) for v in m.flatten().tolist()) for m in matrices])
            blocks = []
            for version in range(len(keys)):
                block = torch.eye(ti, dtype=torch.float64)
                block[:size, :size] = torch.linalg.inv(matrices[chan.index(version)])
                blocks.append(block)
            self.channels = torch.cat(blocks, dim=1)
        else:
            chan, keys = [0] * order, [()]
            self.channels = torch.zeros(0, 0, dtype=torch.float64)
        self.channel_versions = len(keys)
        # Positions of each entry of every copy in one output row of base filters. A row concatenates the trivial
        # inputs' part (channel version, channel, steering version, tap) and the regular inputs' part.
        steer_t, chan_t = torch.tensor(steer), torch.tensor(chan)
        lifted = ((chan_t[:, None] * ti + torch.arange(ti)[None, :]) * versions + steer_t[:, None])      # (g, i)
        lifted = lifted[:, :, None] * taps + pixels[:, None, :]                                         # (g, i, p)
        lifted_length = self.channel_versions * ti * versions * taps
        index = torch.as_tensor(table, dtype=torch.long).reshape(order, order)
        fields = torch.arange(ri)[None, :, None]
        grouped = ((fields * order + index[:, None, :]) * versions + steer_t[:, None, None])         # (g, i, h)
        grouped = grouped[..., None] * taps + pixels[:, None, None, :] + lifted_length               # (g, i, h, p)
        # Regular outputs: slot g of every output field reads copy g, over all input channels.
        regular = torch.cat([lifted.reshape(order, -1), grouped.reshape(order, -1)], dim=1)
        # Trivial outputs: every copy of the trivial inputs' part (averaged in forward), then input slot h of the
        # regular inputs reads copy h of one base filter.
        slots = (fields * versions + steer_t[None, None, :]) * taps                                        # (1, i, h)
        slots = slots[..., None] + pixels[None, None, :, :]                                              # (1, i, h, p)
        trivial = torch.cat([lifted.reshape(-1), slots.reshape(-1) + lifted_length])
        empty = torch.zeros(0, dtype=torch.long)   # no outputs of that kind: no index to keep
        self.register_buffer("regular_index", regular.reshape(-1) if ro else empty, persistent=False)
        self.register_buffer("trivial_index", trivial if to else empty, persistent=False)

    def lifted_part(self, w: torch.Tensor) -> torch.Tensor:
        """Base filters on trivial inputs (rows, ti, taps) -> every version of them, (rows, versions * ti * taps)."""
        rows, ti, taps = w.shape[0], w.shape[1], w.shape[2]
        if self.acting:
            # W_v[:, c] = sum_d W[:, d] A_v^-1[d, c]: one matmul for all channel versions
            channels = self.channels.to(device=w.device, dtype=w.dtype)
            w = (w.transpose(1, 2).reshape(rows * taps, ti) @ channels).reshape(rows, taps, -1).transpose(1, 2)
        if self.steered:
            w = w.reshape(-1, taps) @ self.steering.t()
        return w.reshape(rows, -1)

    def grouped_part(self, w: torch.Tensor) -> torch.Tensor:
        """Base filters on regular inputs (rows, ..., taps) -> every steering version, flattened per row."""
        rows = w.shape[0]
        if self.steered:
            w = w.reshape(-1, self.taps) @ self.steering.t()
        return w.reshape(rows, -1)

    def forward(self, tt: torch.Tensor | None, tr: torch.Tensor | None, rt: torch.Tensor | None,
                rr: torch.Tensor | None) -> torch.Tensor:
        ti, ri, order, taps = self.in_trivial, self.in_regular, self.order, self.taps
        columns = ti + ri * order
        banks: list[torch.Tensor] = []
        if self.out_trivial > 0:
            parts: list[torch.Tensor] = []
            if tt is not None:
                parts.append(self.lifted_part(tt))
            if rt is not None:
                parts.append(self.grouped_part(rt))
            base = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
            copies = base.index_select(1, self.trivial_index)
            if ti > 0:
                symmetric, slots = copies.split([order * ti * taps, ri * order * taps], dim=1)
                symmetric = symmetric.reshape(self.out_trivial, order, ti * taps).mean(dim=1)
                copies = torch.cat([symmetric, slots], dim=1) if ri > 0 else symmetric
            banks.append(copies.reshape([self.out_trivial, columns] + self.kernel_shape))
        if self.out_regular > 0:
            pieces: list[torch.Tensor] = []
            if tr is not None:
                pieces.append(self.lifted_part(tr))
            if rr is not None:
                pieces.append(self.grouped_part(rr))
            base = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=1)
            copies = base.index_select(1, self.regular_index)
            banks.append(copies.reshape([self.out_regular * order, columns] + self.kernel_shape))
        return banks[0] if len(banks) == 1 else torch.cat(banks, dim=0)
