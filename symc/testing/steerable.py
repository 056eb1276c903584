"""The tester for images under SO(2) and O(2): rotations by right angles and mirrors exactly, other angles at random.

Right angles and mirrors map pixel grids onto themselves: white noise, moved by index operations, float32 round-off.
Every other angle is drawn at random (reported in degrees) and judged in float64 on smooth blob scenes drawn again
rotated (symc.testing.inputs), against the output moved by the group's representation: nothing for invariant
outputs, the rotated map for scalar maps (compared inside the inscribed disk), the frequency-1 representation for
orientation outputs. The group math comes from symc.groups.circle alone.
"""
from __future__ import annotations

import copy
import math

import torch

from symc.groups.actions import rotate_by_interpolation
from symc.groups.circle import CircleGroup, CircleIrrep, point_matrix

from .common import EXACT_TOLERANCE, ModelError, _eval_mode, _rms, _spec_text
from .image import _Model, _spread, check_image, image_sizes
from .inputs import BlobScene, comparison_mask, white_noise
from .report import Report, Row

ANGLE_TOLERANCE = {"invariant": 0.15, "equivariant": 0.3, "orientation": 0.6}
"""Rotations by random angles, per output kind. Worst rows of compiled 4-layer SO(2)/O(2) models (24x24 to 33x33,
batch 4, seeds 0-7): invariant 0.01-0.08 (the planner's default widths 0.01-0.05), against plain CNNs 0.2-0.9 and
C8/C16 models 0.05-0.10 (docs/benchmarks.md §12); scalar maps 0.04-0.13 (the expected map is itself resampled
bilinearly); orientation vectors 0.08-0.50 (a frequency-1 summary of a scene is small beside its local features;
shallower and narrower models scatter more). The last two are those of image.py's
approximate rows, whose populations they share; a vector turned the wrong way scores 1 to 2."""
RANDOM_ANGLES = 8
"""Random rotations per size (and as many mirrored ones for O(2))."""
OUTPUTS = ("invariant", "equivariant", "orientation")


def continuous_group(spec) -> CircleGroup | None:
    """SO(2) or O(2) when an image spec names one (without `discretized N`), else None."""
    kinds = {factor.kind for factor in spec.symmetry}
    if kinds & {"O", "E"}:
        return CircleGroup(mirrors=True)
    if kinds & {"SO", "SE"}:
        return CircleGroup(mirrors=False)
    return None


class _Element:
    """A rotation by `angle` radians after the mirror (when `mirrored`); `exact` when it maps pixels to pixels."""

    def __init__(self, angle: float, mirrored: bool, exact: bool):
        self.angle, self.mirrored, self.exact = angle, mirrored, exact
        self.quarter_turns = round(angle / (math.pi / 2)) % 4 if exact else None

    @property
    def name(self) -> str:
        degrees = math.degrees(self.angle) % 360
        text = f"rot {degrees:.0f}" if self.exact else f"rot {degrees:.1f}"
        return f"mirror, {text}" if self.mirrored else text

    def move_grid(self, x: torch.Tensor) -> torch.Tensor:
        """g on a map (..., H, W): mirror the columns, then turn (exactly for right angles, else bilinear)."""
        if self.mirrored:
            x = torch.flip(x, dims=(-1,))
        if self.exact:
            return torch.rot90(x, self.quarter_turns, dims=(-2, -1))
        return rotate_by_interpolation(x, self.angle)


class _ContinuousModel(_Model):
    def expected_shape(self, output, input_shape: torch.Size) -> tuple[int, ...]:
        batch, _, height, width = input_shape
        return {"invariant": (batch, output.size), "equivariant": (batch, output.size, height, width),
                "orientation": (batch, output.size, 2)}[output.kind]


def check_image_model(module: torch.nn.Module, spec, **options) -> Report:
    """The image domain's tester: these rows for SO(2) and O(2), symc.testing.image's for finite groups."""
    if continuous_group(spec) is not None:
        return check_steerable(module, spec, **options)
    return check_image(module, spec, **options)


def check_steerable(module: torch.nn.Module, spec, *, sizes, batch: int, seed: int, dtype: torch.dtype) -> Report:
    group = continuous_group(spec)
    if not spec.outputs:
        raise ValueError("symc check: the spec lists no outputs")
    for output in spec.outputs:
        if output.kind not in OUTPUTS:
            raise ValueError(f"symc check: {output.kind} outputs are not defined for {group.name}")
    sizes = image_sizes(spec, sizes)
    model = _ContinuousModel(module, spec, group, dtype)
    try:
        precise = copy.deepcopy(module).to(torch.float64)  # other angles are judged in float64
    except Exception:  # a module that cannot be copied or cast (TorchScript, say) runs as it is
        precise = module
    fine = _ContinuousModel(precise, spec, group, torch.float64)
    rows = []
    with _eval_mode(module), _eval_mode(precise), torch.no_grad():
        for index, size in enumerate(sizes):
            generator = torch.Generator().manual_seed(seed + index)
            exact = [_Element(q * math.pi / 2, mirrored, True) for mirrored in (False, True)[:1 + group.mirrors]
                     for q in range(4)]
            noise = white_noise(batch, spec.domain.channels, *size, generator)
            rows += _rows(model, group, noise, exact, lambda g: g.move_grid(noise), size)
            angles = 2 * math.pi * torch.rand(RANDOM_ANGLES * (1 + group.mirrors), generator=generator,
                                              dtype=torch.float64)
            others = [_Element(float(a), i >= RANDOM_ANGLES, False) for i, a in enumerate(angles)]
            scene = BlobScene.random(batch, spec.domain.channels, *size, generator)
            rows += _rows(fine, group, scene.render(*size), others,
                          lambda g: scene.transformed(point_matrix(g.angle, g.mirrored)).render(*size), size)
    return Report(rows, header=_header(spec, group, sizes, batch, seed, dtype))


def transform_output(group: CircleGroup, element: _Element, kind: str, y: torch.Tensor) -> torch.Tensor:
    """g.y for an output of the given kind (docs/spec-language.md §5)."""
    if kind == "invariant":
        return y
    if kind == "equivariant":
        return element.move_grid(y)
    matrix = torch.tensor(group.matrix(CircleIrrep(1), element.angle, element.mirrored), dtype=y.dtype)
    return y @ matrix.T  # orientation: frequency-1 vectors (..., 2)


def _rows(model: _ContinuousModel, group: CircleGroup, x: torch.Tensor, elements, moved, size) -> list[Row]:
    exact = elements[0].exact

    def row(name: str, output: int | None, error: float, note: str = "") -> Row:
        kind = model.outputs[output].kind if output is not None else "invariant"
        tolerance = EXACT_TOLERANCE if exact else ANGLE_TOLERANCE[kind]
        return Row(size, name, output, error, tolerance, exact, error <= tolerance, note)

    def masked(t: torch.Tensor, kind: str) -> torch.Tensor:
        # inside the disk of the output's own grid (shrinking convolutions crop it)
        return t[..., comparison_mask(t.shape[-2], t.shape[-1])] if kind == "equivariant" and not exact else t

    try:
        y = model(x)
    except ModelError as error:
        return [row("(forward)", None, float("nan"), f"on {'white-noise' if exact else 'blob-scene'} inputs: {error}")]
    scales = [_spread(masked(y_k, output.kind), "invariant", None) for y_k, output in zip(y, model.outputs)]
    rows = []
    for element in elements:
        try:
            y_g = model(moved(element))
        except ModelError as error:
            rows.append(row(element.name, None, float("nan"), str(error)))
            continue
        for k, output in enumerate(model.outputs):
            if scales[k] is None:
                rows.append(row(element.name, k, float("nan"), "output does not vary with the input: nothing to "
                                                               "compare"))
                continue
            expected = transform_output(group, element, output.kind, y[k])
            difference = masked(y_g[k] - expected, output.kind)
            rows.append(row(element.name, k, float(_rms(difference) / scales[k])))
    return rows


def _header(spec, group: CircleGroup, sizes, batch: int, seed: int, dtype: torch.dtype) -> list[str]:
    size_text = ", ".join(f"{h}x{w}" for h, w in sizes)
    outputs = ", ".join(f"{k}: {output.kind} {output.size}" for k, output in enumerate(spec.outputs))
    mirrors = " and mirrors" if group.mirrors else ""
    lines = [
        f"symc check: {_spec_text(spec)}",
        f"group {group.name} (continuous); sizes {size_text}; batch {batch}; seed {seed}; "
        f"{str(dtype).replace('torch.', '')} for right angles{mirrors}, float64 for other angles; eval mode",
        f"outputs {outputs}",
        "error = RMS(f(g.x) - g.f(x)) / RMS(f(x) - its mean over the batch)",
        f"exact elements (multiples of 90 degrees{mirrors}): white-noise inputs, tolerance {EXACT_TOLERANCE:g}",
        f"random angles ({RANDOM_ANGLES} per size{', as many mirrored' if group.mirrors else ''}): smooth blob "
        "scenes inside the inscribed disk, redrawn rotated; scalar maps compared inside the disk, orientation "
        "outputs turned by the frequency-1 representation; tolerance "
        + ", ".join(f"{value:g} {kind}" for kind, value in ANGLE_TOLERANCE.items()),
    ]
    if spec.translation:
        lines.append("not tested: translations (rotations and mirrors are about the image centre)")
    return lines + [""]
