"""The tester can fail: hand-written models (never symc.nn) that break a claimed symmetry are caught, correct
ones pass, and broken models become failing rows rather than crashes."""
from __future__ import annotations

import math
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from symc.groups import DihedralGroup, is_exact
from symc.groups.actions import act_image
from symc.spec import parse
from symc.testing.inputs import BlobScene
from symc.testing import (
    APPROX_TOLERANCE, EXACT_TOLERANCE, Report, assert_equivariant, check, load_model_file,
)


def seeded(seed: int = 0) -> None:
    torch.manual_seed(seed)


# ---------------------------------------------------------------- hand-written models

class PlainCNN(nn.Module):
    """conv 3x3 'same' + ReLU, twice, global mean pool, linear: translation-equivariant features, nothing more."""

    def __init__(self, channels=3, classes=10, width=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(-2, -1)))


class RotationAveraged(nn.Module):
    """Exactly C4-invariant: the mean of a CNN's outputs over the four rot90 turns of the input."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return sum(self.inner(torch.rot90(x, k, dims=(-2, -1))) for k in range(4)) / 4


class PositionBias(nn.Module):
    """Adds a fixed, non-symmetric H x W map to the input of a symmetric model: positions leak in."""

    def __init__(self, inner: nn.Module, size=32):
        super().__init__()
        self.inner = inner
        self.bias = nn.Parameter(torch.linspace(0, 1, size * size).reshape(size, size))

    def forward(self, x):
        return self.inner(x + self.bias)


def c4_symmetric(weight: torch.Tensor) -> torch.Tensor:
    """A filter unchanged by rot90: the mean of its four turns."""
    return sum(torch.rot90(weight, k, dims=(-2, -1)) for k in range(4)) / 4


class SymmetricConv(nn.Module):
    """Equivariant output: conv with rot90-symmetric filters, ReLU, another such conv (zero 'same' padding)."""

    def __init__(self, channels=3, out=2, width=8):
        super().__init__()
        self.first = nn.Parameter(torch.randn(width, channels, 5, 5) / 5)
        self.second = nn.Parameter(torch.randn(out, width, 3, 3) / 5)
        self.bias = nn.Parameter(torch.randn(width))

    def forward(self, x):
        y = F.relu(F.conv2d(x, c4_symmetric(self.first), self.bias, padding=2))
        return F.conv2d(y, c4_symmetric(self.second), padding=1)


class C4Lifting(nn.Module):
    """Regular fields for C4: channel h of field k is the correlation with the filter turned h times."""

    def __init__(self, channels=3, fields=2, orientation_scores=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fields, channels, 5, 5) / 5)
        self.orientation_scores = orientation_scores

    def forward(self, x):
        turned = torch.stack([torch.rot90(self.weight, h, dims=(-2, -1)) for h in range(4)], dim=1)
        y = F.conv2d(x, turned.flatten(0, 1), padding=2)  # channel k*4 + h
        y = F.relu(y).unflatten(1, (-1, 4))  # (B, K, 4, H, W)
        return y.mean(dim=(-2, -1)) if self.orientation_scores else y


def turn_filters(weight: torch.Tensor, angle: float) -> torch.Tensor:
    """Filters (..., k, k) turned by `angle` in the direction of rot90, bilinear (grid_sample), zero outside."""
    k = weight.shape[-1]
    cos, sin = math.cos(angle), math.sin(angle)
    flat = weight.reshape(-1, 1, k, k)
    theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=weight.dtype).expand(flat.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(flat.shape), align_corners=True)
    return F.grid_sample(flat, grid, align_corners=True).reshape(weight.shape)


class C8Lifting(nn.Module):
    """Approximately C8-invariant: eight turned copies of each filter, ReLU, pool over space and turns."""

    def __init__(self, channels=3, classes=10, width=8, k=5):
        super().__init__()
        radius = torch.arange(k) - (k - 1) / 2
        self.register_buffer("disk", ((radius[:, None] ** 2 + radius[None, :] ** 2) <= (k / 2) ** 2).float())
        self.weight = nn.Parameter(torch.randn(width, channels, k, k) / k)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        weight = self.weight * self.disk
        copies = torch.cat([turn_filters(weight, 2 * math.pi * j / 8) for j in range(8)])
        y = F.relu(F.conv2d(x, copies, padding=self.weight.shape[-1] // 2))
        return self.head(y.unflatten(1, (8, -1)).mean(dim=(1, 3, 4)))


class ConstantPlusNoise(nn.Module):
    """A fake: a constant output with fresh tiny noise, which would look 'invariant' to a metric scaled by |y|."""

    def __init__(self, classes=10, noise=1e-3):
        super().__init__()
        self.classes, self.noise = classes, noise

    def forward(self, x):
        return 1.0 + self.noise * torch.randn(x.shape[0], self.classes, dtype=x.dtype)


class Raises(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


class WrongShape(nn.Module):
    def forward(self, x):
        return torch.zeros(x.shape[0], 7)


class ProducesNaN(nn.Module):
    def forward(self, x):
        return torch.full((x.shape[0], 10), float("nan"))


def failing_elements(report: Report) -> set[str]:
    return {row.element for row in report.rows if not row.ok}


# ---------------------------------------------------------------- (a)-(c): invariant outputs

def test_plain_cnn_fails_p4_on_rotations():
    seeded()
    report = check(PlainCNN(), "image; p4; invariant output 10 classes")
    assert not report.ok
    assert failing_elements(report) == {"rot 90", "rot 180", "rot 270"}
    assert all(row.error > 100 * EXACT_TOLERANCE for row in report.rows if row.element != "identity")
    assert str(report).splitlines()[-1] == "FAIL: 6 of 8 rows above tolerance"


def test_rotation_averaged_cnn_passes_p4():
    seeded()
    report = check(RotationAveraged(PlainCNN()), "image; p4; invariant output 10 classes")
    assert report.ok, str(report)
    assert report.max_error < EXACT_TOLERANCE
    assert {row.size for row in report.rows} == {(32, 32), (33, 33)}
    assert str(report).splitlines()[-1] == "PASS"


def test_rotation_averaged_cnn_fails_p4m_on_mirrors():
    seeded()
    report = check(RotationAveraged(PlainCNN()), "image; p4m; invariant output 10 classes")
    assert not report.ok
    assert failing_elements(report) == {"flip", "flip then rot 90", "flip then rot 180", "flip then rot 270"}


def test_position_bias_breaks_p4():
    seeded()
    model = PositionBias(RotationAveraged(PlainCNN()))
    report = check(model, "image 3x32x32; p4; no translation; invariant output 10")
    assert not report.ok
    assert failing_elements(report) == {"rot 90", "rot 180", "rot 270"}


# ---------------------------------------------------------------- (d): broken models are rows, not crashes

@pytest.mark.parametrize("model, message", [
    (Raises(), "forward raised RuntimeError: boom"),
    (WrongShape(), "has shape (4, 7), expected (4, 10)"),
    (ProducesNaN(), "contains NaN or inf"),
])
def test_broken_models_fail_without_raising(model, message):
    report = check(model, "image; p4; invariant output 10")
    assert not report.ok
    assert all(message in row.note for row in report.rows)
    assert message in str(report)
    assert report.max_error == math.inf


def test_wrong_number_of_outputs():
    seeded()
    report = check(RotationAveraged(PlainCNN()), "image; p4; invariant output 10; equivariant output 1")
    assert not report.ok
    assert "forward returned 1 outputs, the spec lists 2" in str(report)


def test_forward_failures_are_reported_per_element():
    class LandscapeOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = RotationAveraged(PlainCNN())

        def forward(self, x):
            if x.shape[-2] > x.shape[-1]:
                raise ValueError("expected a landscape image")
            return self.inner(x)

    seeded()
    report = check(LandscapeOnly(), "image; p4; invariant output 10", sizes=[(16, 20)])
    notes = {row.element: row.note for row in report.rows}
    assert notes["rot 90"] == notes["rot 270"] == "forward raised ValueError: expected a landscape image"
    assert notes["identity"] == notes["rot 180"] == ""
    failing = check(LandscapeOnly(), "image; p4; invariant output 10", sizes=[(20, 16)])
    assert [(row.element, row.note) for row in failing.rows] == [
        ("(forward)", "on white-noise inputs: forward raised ValueError: expected a landscape image")]


# ---------------------------------------------------------------- (e): outputs that move with the input

def test_equivariant_output_passes():
    seeded()
    report = check(SymmetricConv(), "image; p4; equivariant output 2 channels")
    assert report.ok, str(report)


def test_equivariant_output_of_plain_conv_fails():
    seeded()
    model = nn.Conv2d(3, 2, 3, padding=1)
    report = check(model, "image; p4; equivariant output 2 channels")
    assert failing_elements(report) == {"rot 90", "rot 180", "rot 270"}


def test_regular_fields_and_orientation_scores_pass():
    seeded()
    assert check(C4Lifting(), "image; p4; equivariant output 2 fields").ok
    assert check(C4Lifting(orientation_scores=True), "image; p4; orientation output 2").ok


def test_fields_with_the_group_axis_turning_the_wrong_way_fail():
    class Reversed(C4Lifting):
        def forward(self, x):
            return super().forward(x).flip(2)  # orientation h stored at -h: the group axis turns backwards

    seeded()
    report = check(Reversed(), "image; p4; equivariant output 2 fields")
    assert failing_elements(report) == {"rot 90", "rot 270"}  # rot 180 is its own inverse


def test_fields_claimed_under_the_wrong_group_have_the_wrong_shape():
    seeded()
    report = check(C4Lifting(), "image; p4m; equivariant output 2 fields")
    assert not report.ok and "expected (4, 2, 8, 32, 32)" in str(report)


# ---------------------------------------------------------------- (f): approximate rotations

def test_c8_lifting_model_passes_c8():
    seeded()
    report = check(C8Lifting(), "image; C8; invariant output 10")
    assert report.ok, str(report)
    approx = [row for row in report.rows if not row.exact]
    assert {row.element for row in approx} == {"rot 45", "rot 135", "rot 225", "rot 315"}
    assert max(row.error for row in approx) < APPROX_TOLERANCE / 2


def test_plain_cnn_fails_approximate_rotations():
    # C3 has no exact element besides the identity: only the approximate rows can catch the plain CNN.
    seeded()
    report = check(PlainCNN(), "image; rotation 3; invariant output 10")
    assert not report.ok
    assert failing_elements(report) & {"rot 120", "rot 240"}


def test_constant_plus_noise_cannot_pass_approximate_rows():
    report = check(ConstantPlusNoise(), "image; C8; invariant output 10")
    approx = [row for row in report.rows if not row.exact]
    assert approx and not any(row.ok for row in approx)
    assert min(row.error for row in approx) > 1


@pytest.mark.parametrize("size", [(32, 32), (33, 33), (20, 27)])
def test_scenes_moved_by_exact_elements_match_the_tensor_action(size):
    # The approximate rows redraw the scene moved by g instead of resampling pixels; for right angles and mirrors
    # the redrawn scene must be exactly the rot90/flip of the drawn one, or the two kinds of rows disagree.
    group = DihedralGroup(8) if size[0] == size[1] else DihedralGroup(2)
    scene = BlobScene.random(2, 3, *size, torch.Generator().manual_seed(0))
    image = scene.render(*size)
    assert image.abs().max() > 0.5
    for g in group.elements():
        if is_exact(group, g):
            assert torch.allclose(scene.moved(group, g).render(*act_image(group, g, image).shape[-2:]),
                                  act_image(group, g, image), atol=1e-12)


def test_constant_output_is_a_failure():
    class Constant(nn.Module):
        def forward(self, x):
            return torch.ones(x.shape[0], 10)

    report = check(Constant(), "image; C8; invariant output 10")
    assert not report.ok
    assert all("does not vary with the input" in row.note for row in report.rows)


# ---------------------------------------------------------------- the API around check

def test_spec_forms(tmp_path):
    seeded()
    model = RotationAveraged(PlainCNN())
    text = "image; p4; invariant output 10"
    path = tmp_path / "model.sym"
    path.write_text(text + "\n")
    for spec in (text, parse(text), path):
        assert check(model, spec, sizes=[9]).ok
    with pytest.raises(ValueError, match="spec file not found"):
        check(model, tmp_path / "missing.sym")


def test_unsupported_specs_raise_value_error():
    with pytest.raises(ValueError, match="scale symmetry is tested on invariant outputs only"):
        check(nn.Identity(), "image 3x16x16; scale 2; equivariant output")
    with pytest.raises(ValueError, match="batch must be >= 2"):
        check(nn.Identity(), "image; p4; invariant output", batch=1)


def test_options_sizes_dtype_and_modes():
    seeded()
    model = RotationAveraged(nn.Sequential(PlainCNN(), nn.Dropout(0.5))).double()
    model.train()
    report = check(model, "image; p4; invariant output 10", sizes=[(12, 12), 13], batch=3, dtype=torch.float64)
    assert report.ok  # eval mode: dropout off, so the identity row is deterministic
    assert report.max_error < 1e-12  # float64 forward: round-off far below float32's
    assert {row.size for row in report.rows} == {(12, 12), (13, 13)}
    assert model.training and model.inner[1].training  # modes restored


def test_spec_shape_is_the_default_size():
    seeded()
    report = check(RotationAveraged(PlainCNN()), "image 3x20x20; p4; invariant output 10")
    assert {row.size for row in report.rows} == {(20, 20)}


def test_report_table_is_aligned():
    seeded()
    text = str(check(RotationAveraged(PlainCNN()), "image; p4m; invariant output 10", sizes=[8]))
    lines = text.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("size"))):-1]
    assert len(table) == 1 + 8
    column = table[0].index("error")
    assert all(line[column - 2:column] == "  " for line in table)


def test_assert_equivariant():
    seeded()
    report = assert_equivariant(RotationAveraged(PlainCNN()), "image; p4; invariant output 10")
    assert report.ok
    with pytest.raises(AssertionError, match="FAIL: 6 of 8 rows above tolerance"):
        assert_equivariant(PlainCNN(), "image; p4; invariant output 10")


# ---------------------------------------------------------------- load_model_file

def write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


def test_load_generated_file(tmp_path):
    path = write(tmp_path / "model.py", """
        import torch
        SPEC = "image 1x8x8; C4; invariant output 1"
        class Model(torch.nn.Module):
            def forward(self, x):
                return x.mean(dim=(1, 2, 3))[:, None]
    """)
    module, spec_text = load_model_file(path)
    assert isinstance(module, torch.nn.Module) and spec_text == "image 1x8x8; C4; invariant output 1"
    assert check(module, spec_text).ok
    other, _ = load_model_file(path)
    assert type(other) is not type(module)  # a fresh import each time


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="model file not found"):
        load_model_file(tmp_path / "nope.py")
    broken = write(tmp_path / "broken.py", "def f(:\n")
    with pytest.raises(ValueError, match="syntax error in .*broken.py, line 1"):
        load_model_file(broken)
    failing = write(tmp_path / "failing.py", "raise RuntimeError('no')\n")
    with pytest.raises(ValueError, match="importing .* raised RuntimeError: no"):
        load_model_file(failing)
    classes = write(tmp_path / "classes.py", """
        import torch
        class Net(torch.nn.Module):
            pass
        class Head(torch.nn.Module):
            def __init__(self, width, depth=2):
                super().__init__()
    """)
    with pytest.raises(ValueError, match="no torch.nn.Module subclass named 'Model'; found: Head, Net"):
        load_model_file(classes)
    with pytest.raises(ValueError, match=r"Head in .* needs constructor arguments \(width\)"):
        load_model_file(classes, "Head")
    module, spec_text = load_model_file(classes, "Net")
    assert spec_text is None
