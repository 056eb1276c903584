"""Scale rows of the image tester: does f(zoom(x)) equal f(x) for zooms by the scale step?

Zooming cannot be done exactly on a grid either, so, as for rotations by other angles, the inputs are smooth blob
scenes drawn again magnified (or shrunk) about the image centre, keeping the canvas size. Only invariant outputs are
compared: a zoom moves features along the scale axis, which an output without one cannot show.
"""
from __future__ import annotations

import torch

from .inputs import BlobScene
from .report import Row

SCALE_STEP = 2.0 ** 0.5
"""q: the tester zooms in and out by this factor, the step between the scales symc's scale layers sample."""

SCALE_TOLERANCE = 0.5
"""Zoom rows. Measured (28x28, batch 4, seeds 0-4, fresh initializations): symc-compiled `scale 3` models 0.17 - 0.32
(mean 0.26); plain CNNs of the same widths and kernels 0.47 - 1.36 (mean 0.85). As for 45-degree rows, the populations
come close: zoom rows catch gross errors, the exact rows stay the sharp test."""


def scale_count(spec) -> int:
    """N of the spec's `scale N` factor, 1 without one."""
    return next((factor.n for factor in spec.symmetry if factor.kind == "scale"), 1)


def check_zooms(model, size: tuple[int, int], batch: int, generator: torch.Generator, spread, rms) -> list[Row]:
    """One row per zoom (in and out by SCALE_STEP) and output, on a blob scene small enough to stay in the frame."""
    scene = BlobScene.random(batch, model.channels, *size, generator, zoom=SCALE_STEP ** 2)

    def row(element: str, output: int | None, error: float, note: str = "") -> Row:
        return Row(size, element, output, error, SCALE_TOLERANCE, False, error <= SCALE_TOLERANCE, note)

    try:
        y = model(scene.render(*size))
    except Exception as error:  # the tester's ModelError: a failing row, never a crash
        return [row("(forward)", None, float("nan"), f"on blob-scene inputs: {error}")]
    scales = [spread(y_k, "invariant", None) for y_k in y]
    rows = []
    for name, factor in ((f"zoom in x{SCALE_STEP:.3g}", SCALE_STEP), (f"zoom out x{SCALE_STEP:.3g}", 1 / SCALE_STEP)):
        try:
            y_g = model(scene.zoomed(factor).render(*size))
        except Exception as error:
            rows.append(row(name, None, float("nan"), str(error)))
            continue
        for k in range(len(y)):
            if scales[k] is None:
                rows.append(row(name, k, float("nan"), "output does not vary with the input: nothing to compare"))
                continue
            rows.append(row(name, k, float(rms(y_g[k] - y[k]) / scales[k])))
    return rows
