"""Sequences (B, C, L): circular shifts `torch.roll(x, s, dims=-1)` and time reversal `torch.flip(x, dims=(-1,))`."""
from __future__ import annotations

import torch

from .domains import tester_check, DomainTester, Move, identity_move, parse_sizes
from .inputs import BumpTrain
from .scale import SCALE_STEP, scale_count

DEFAULT_LENGTHS = [(32,), (33,)]

ZOOM_TOLERANCE = 0.65
"""Zoom rows of sequences. Measured (the spec's length or 64, batch 4, seeds 0-7, fresh initializations):
symc-compiled `scale 3` and `scale 4` models 0.04 - 0.58 (medians 0.14 - 0.24); plain 1D CNNs (kernels 3-7, depth
2-4, max or mean over positions) 0.17 - 2.9 (mean 0.89). As on images, the populations overlap: zoom rows catch gross
errors, and the exact rows (identity, shifts, reversal) stay the sharp test."""


def shift_moves(length: int) -> list[int]:
    return sorted({1, 2, length // 2, length - 1} - {0, length})


class SequenceTester(DomainTester):
    def __init__(self, spec):
        self.spec = spec
        self.reversal = any(f.kind == "time reversal" for f in spec.symmetry)
        self.circular = spec.translation and spec.hints.boundary == "circular"
        self.scales = scale_count(spec)
        if self.scales > 1 and any(output.kind != "invariant" for output in spec.outputs):
            raise ValueError("symc check: scale symmetry is tested on invariant outputs only (a zoom moves features "
                             "along the scale axis and out of the frame)")

    def sizes(self, sizes):
        default = [tuple(self.spec.domain.shape)] if self.spec.domain.shape else DEFAULT_LENGTHS
        return parse_sizes(sizes, default, 1, "lengths L")

    def inputs(self, size, batch, generator):
        return (torch.randn(batch, self.spec.domain.channels, size[0], generator=generator, dtype=torch.float64),)

    def moves(self, size, generator):
        def on_output(act):
            return lambda kind, y: act(y) if kind == "equivariant" else y

        def move(name, act):
            return Move(name, lambda x: (act(x[0]),), on_output(act))

        moves = [identity_move()]
        shifts = shift_moves(size[0]) if self.circular else []
        for s in shifts:
            moves.append(move(f"shift {s}", lambda t, s=s: torch.roll(t, s, dims=-1)))
        if self.reversal:
            moves.append(move("reversal", lambda t: torch.flip(t, dims=(-1,))))
            for s in shifts[:1]:
                moves.append(move(f"reversal, shift {s}", lambda t, s=s: torch.roll(torch.flip(t, dims=(-1,)), s, -1)))
        return moves

    zoom_tolerance = ZOOM_TOLERANCE

    def zooms(self, size, batch, generator):
        if self.scales == 1:
            return []
        train = BumpTrain.random(batch, self.spec.domain.channels, size[0], generator, zoom=SCALE_STEP ** 2)
        x = (train.render(size[0]),)
        return [(f"zoom in x{SCALE_STEP:.3g}", x, (train.zoomed(SCALE_STEP).render(size[0]),)),
                (f"zoom out x{SCALE_STEP:.3g}", x, (train.zoomed(1 / SCALE_STEP).render(size[0]),))]

    def expected_shape(self, kind, k, inputs):
        batch, _, length = inputs[0].shape
        return (batch, k) if kind == "invariant" else (batch, k, length)

    def header(self):
        actions = ", ".join(filter(None, ["circular shifts torch.roll(x, s, dims=-1)" if self.circular else "",
                                          "time reversal torch.flip(x, dims=(-1,))" if self.reversal else ""]))
        lines = [f"actions: {actions or 'the identity only (the model must be deterministic)'}"]
        if self.scales > 1:
            lines.append(f"zooms (in and out by {SCALE_STEP:.4g} about the centre): smooth bump trains redrawn "
                         f"zoomed, invariant outputs compared; tolerance {ZOOM_TOLERANCE:g}")
        if self.spec.translation and not self.circular:
            lines.append("not tested: translations (zero boundary: a shift moves content off the ends; with "
                         "'boundary circular' the tester checks circular shifts)")
        return lines


check_sequence = tester_check(SequenceTester)
