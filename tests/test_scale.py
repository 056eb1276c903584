"""`scale N` on images: the runtime layers (symc/nn/scale.py, any grid rank) tested directly, the plan, the generated
file, and the tester's zoom rows (which flag a model that is not scale invariant, and measure a scale model against a
plain CNN)."""
from __future__ import annotations


import pytest
import torch
from torch import nn

import symc
from symc.groups import CyclicGroup, DihedralGroup, DirectProduct, HueGroup, hue_matrix, hue_of, is_exact
from symc.groups.actions import act_fields, act_image, act_input
from symc.groups.moves import channel_actions, grid_moves
from symc.nn.conv import hue_rotations
from symc.nn.scale import ScaleGroupConv, ScaleLift, ScalePool, hermite_basis
from symc.sizes import SCALE_STEP, hermite_orders, scale_kernel_sizes
from symc.testing import check
from symc.testing.inputs import BlobScene
from symc.testing.scale import SCALE_TOLERANCE

SCALE_SPEC = "image 1x28x28; scale 3; invariant output 10"


def tables(group, dims: int = 2):
    return grid_moves(group, dims), group.regular_table()


def per_scale_fields(y, scales, group):
    """(scales * B, F * order, H, W) -> (scales, B, F, order, H, W)."""
    sb, c, h, w = y.shape
    return y.reshape(scales, sb // scales, c // group.order, group.order, h, w)


# ---------------------------------------------------------------- runtime layers

def test_kernel_grids_grow_by_the_step_and_the_basis_is_a_dilation():
    assert scale_kernel_sizes(5, 3) == [5, 7, 9]
    assert scale_kernel_sizes(3, 3) == [3, 3, 5]
    basis = hermite_basis(5, 3)
    assert basis.shape == (3, 4, 9, 9)
    # Scale 0 fills the centred 5x5 block only; the Gaussian (degree 0) keeps its integral at every scale (1/sigma^2).
    assert basis[0, :, :2].abs().max() == 0 and basis[0, :, :, -2:].abs().max() == 0
    sums = basis[:, 0].sum(dim=(-2, -1))
    assert torch.allclose(sums, sums[0].expand(3), rtol=0.05), sums


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_the_basis_is_separable_one_hermite_function_per_axis(dims):
    basis = hermite_basis(5, 2, dims)
    orders = hermite_orders(dims)
    assert len(orders) == 2 ** dims and orders[0] == (0,) * dims
    assert basis.shape == (2, 2 ** dims) + (7,) * dims
    line = hermite_basis(5, 2, 1)  # (scales, 2, 7): the 1D functions
    for i, degrees in enumerate(orders):
        product = line[0, degrees[0]]
        for n in degrees[1:]:
            product = product[..., None] * line[0, n]
        assert torch.allclose(basis[0, i], product / product.norm() * basis[0, i].norm(), atol=1e-12)
        assert abs(basis[0, i].norm().item() - 1) < 1e-12   # each function has norm 1 at scale 0
    assert hermite_orders(2) == [(0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("group", [CyclicGroup(4), DihedralGroup(4), DihedralGroup(1)], ids=lambda g: g.name)
@pytest.mark.parametrize("window", [1, 2])
def test_scale_layers_are_exactly_equivariant_to_right_angles_and_mirrors_at_every_scale(group, window):
    torch.manual_seed(0)
    moves, table = tables(group)
    scales = 3
    lift = ScaleLift(2, 3, 5, moves, scales).double()
    conv = ScaleGroupConv(3, 4, 3, moves, table, scales, window).double()
    x = torch.randn(2, 2, 15, 15, dtype=torch.float64)
    y = conv(torch.relu(lift(x)))
    assert y.shape == (scales * 2, 4 * group.order, 15, 15)
    for g in (g for g in group.elements() if is_exact(group, g)):
        y_g = per_scale_fields(conv(torch.relu(lift(act_image(group, g, x)))), scales, group)
        expected = act_fields(group, g, per_scale_fields(y, scales, group))
        assert (y_g - expected).abs().max() < 1e-10 * y.abs().max()


def test_a_wider_window_mixes_the_next_scales_and_only_those_that_exist():
    torch.manual_seed(0)
    moves, table = tables(CyclicGroup(1))
    conv = ScaleGroupConv(2, 2, 3, moves, table, 3, window=2).double()
    x = torch.randn(3 * 2, 2, 9, 9, dtype=torch.float64)
    base = conv(x).reshape(3, 2, 2, 9, 9)
    bumped = x.reshape(3, 2, 2, 9, 9).clone()
    bumped[2] += 1.0  # change input scale 2 only: output scales 1 (window 1..2) and 2 move, scale 0 does not
    moved = conv(bumped.reshape(6, 2, 9, 9)).reshape(3, 2, 2, 9, 9)
    assert torch.equal(moved[0], base[0])
    assert not torch.allclose(moved[1], base[1]) and not torch.allclose(moved[2], base[2])


def test_zooming_the_input_moves_the_lifted_responses_one_scale_along():
    """Per-scale maxima over positions: f_s(zoom_in x) ~ f_{s-1}(x). The same slot (no shift) is far worse."""
    torch.manual_seed(0)
    scales = 4
    lift = ScaleLift(1, 16, 5, grid_moves(CyclicGroup(1), 2), scales).double()
    scene = BlobScene.random(8, 1, 28, 28, torch.Generator().manual_seed(0), zoom=2.0)

    def maxima(s):
        return torch.relu(lift(s.render(28, 28))).reshape(scales, 8, 16, -1).amax(dim=-1)

    a, b = maxima(scene), maxima(scene.zoomed(SCALE_STEP))
    spread = (a - a.mean(dim=1, keepdim=True)).pow(2).mean().sqrt()
    shifted = max(((b[s] - a[s - 1]).pow(2).mean().sqrt() / spread).item() for s in range(1, scales))
    unshifted = min(((b[s] - a[s]).pow(2).mean().sqrt() / spread).item() for s in range(1, scales))
    assert shifted < 0.15 and unshifted > 2 * shifted, (shifted, unshifted)


def test_scale_pool_is_invariant_to_the_order_of_scales():
    x = torch.randn(3 * 2, 5)
    pool = ScalePool(3, "max")
    assert pool(x).shape == (2, 5)
    assert torch.equal(pool(x), pool(x.reshape(3, 2, 5).flip(0).reshape(6, 5)))
    assert torch.allclose(ScalePool(3, "mean")(x), x.reshape(3, 2, 5).mean(0))


# ---------------------------------------------------------------- plan and generated file

def test_plan_shows_the_scale_layers_and_their_reasons():
    plan = symc.compile(SCALE_SPEC).plan
    ops = [layer.op for layer in plan.layers]
    assert ops.count("scale_lift") == 1 and ops.count("scale_conv") == 3 and ops.count("scale_pool") == 1
    assert "lift" not in ops and "downsample" not in ops
    lift = next(layer for layer in plan.layers if layer.op == "scale_lift")
    assert lift.out_shape == (3, 32, 28, 28) and "5x5, 7x7, 9x9" in lift.reason
    # FLOPs: one direct convolution per scale with that scale's grid.
    assert lift.flops == sum(2 * 1 * 32 * k * k * 28 * 28 for k in (5, 7, 9))
    text = str(plan)
    assert "scales: 3 scales, step q = 1.414" in text and "approximate for zooms" in text


@pytest.mark.parametrize("text", [SCALE_SPEC + "; params 60k",
                                  "image 1x28x28; p4 x scale 3; invariant output; params 30k"])
def test_params_hint_lands_within_ten_percent(text):
    compiled = symc.compile(text)
    budget = compiled.spec.hints.params
    assert abs(compiled.plan.params - budget) <= 0.1 * budget
    assert sum(p.numel() for p in compiled.module.parameters()) == compiled.plan.params


def test_generated_file_is_standalone_and_deterministic():
    text = "image 1x20x20; D4 x scale 3; invariant output 3; widths 2,3"
    first, second = symc.compile(text).source, symc.compile(text).source
    assert first == second
    assert "import symc" not in first and "from symc" not in first
    assert "class ScaleLift(" in first and "class ScaleGroupConv(" in first and "SCALE_WINDOW" in first


@pytest.mark.parametrize("text,phrase", [
    ("image; scale 3; equivariant output 2", "supported: 'invariant output K'"),
    ("image; p4 x scale 3; orientation output", "not supported"),
    ("image; scale 3; invariant output; conv fft", "'conv fft' is not supported with 'scale N'"),
    ("image; scale 3; invariant output; kernel 1", "at least 3x3"),
    ("image; scale 5000; invariant output", "supported: up to 'scale 8'"),
])
def test_what_scale_does_not_lower_is_refused_at_the_clause(text, phrase):
    with pytest.raises(symc.SpecError, match=phrase):
        symc.compile(text)


# ---------------------------------------------------------------- the tester's zoom rows

def test_product_rows_stay_exact_and_zoom_rows_are_reported():
    torch.manual_seed(0)
    compiled = symc.compile("image 1x20x20; D4 x scale 3; invariant output 3; widths 2,3")
    report = check(compiled.module, compiled.spec)
    exact = [row for row in report.rows if row.exact]
    zooms = [row for row in report.rows if row.element.startswith("zoom")]
    assert len(exact) == 8 and all(row.error < 1e-4 for row in exact)
    assert [row.element for row in zooms] == ["zoom in x1.41", "zoom out x1.41"]
    assert all(row.tolerance == SCALE_TOLERANCE and not row.exact for row in zooms)
    assert "zooms (in and out by 1.414" in str(report)


class AreaSensitive(nn.Module):
    """Smooth, rotation invariant, but grows with the area the content covers: zooming changes it."""

    def forward(self, x):
        return torch.stack([x.pow(2).mean(dim=(1, 2, 3)), x.abs().mean(dim=(1, 2, 3))], dim=1)


def test_zoom_rows_flag_a_model_that_is_not_scale_invariant():
    report = check(AreaSensitive(), "image 1x28x28; scale 3; invariant output 2")
    zooms = [row for row in report.rows if row.element.startswith("zoom")]
    assert not report.ok and all(not row.ok for row in zooms), str(report)
    assert min(row.error for row in zooms) > 2 * SCALE_TOLERANCE


def test_the_tester_refuses_equivariant_outputs_of_scale_specs():
    with pytest.raises(ValueError, match="invariant outputs only"):
        check(AreaSensitive(), "image 1x28x28; scale 3; equivariant output 1")


def mean_zoom_error(compiled, seeds) -> float:
    errors = []
    for seed in seeds:
        torch.manual_seed(seed)
        report = check(compiled.new_module(), SCALE_SPEC, seed=seed)
        errors += [row.error for row in report.rows if row.element.startswith("zoom")]
    return sum(errors) / len(errors)


def test_scale_model_beats_a_plain_cnn_of_the_same_widths_on_zooms():
    """Same depth, widths (32, 64, 64, 128) and kernels (5); fresh initializations, seeds 0-4."""
    scale = symc.compile(SCALE_SPEC)
    assert scale.plan.architecture.widths == (32, 64, 64, 128) and scale.plan.architecture.kernels == (5,) * 4
    plain = symc.compile("image 1x28x28; invariant output 10; widths 32,64,64,128; kernel 5")
    seeds = range(5)
    scale_error, plain_error = mean_zoom_error(scale, seeds), mean_zoom_error(plain, seeds)
    assert scale_error < SCALE_TOLERANCE < plain_error
    assert scale_error <= RATIO_BOUND * plain_error, (scale_error, plain_error)


RATIO_BOUND = 1 / 3


# ---------------------------------------------------------------- hue x scale

HUE_SCALE_SPECS = ("image 3x28x28; hue 3 x scale 3; invariant output 10; widths 4,8",
                   "image 3x28x28; rotation 4 x hue 3 x scale 3; invariant output 10; widths 4,8")


@pytest.mark.parametrize("group", [DirectProduct(CyclicGroup(1), HueGroup(3)), DirectProduct(CyclicGroup(4), HueGroup(3)),
                                   DirectProduct(DihedralGroup(1), HueGroup(6)), DirectProduct(DihedralGroup(4), HueGroup(2))],
                         ids=lambda g: g.name)
def test_the_hue_scale_lift_permutes_the_group_axis_exactly_at_every_scale(group):
    """Turning the hue (60 degrees included: no channel permutation) and right angles and mirrors move the lifted
    fields of every scale exactly as the product's regular table says; the layers after the lift are the usual ones."""
    torch.manual_seed(0)
    moves, table = tables(group)
    scales = 3
    lift = ScaleLift(3, 2, 5, moves, scales, channel_actions(group)).double()
    conv = ScaleGroupConv(2, 2, 3, moves, table, scales).double()
    x = torch.randn(2, 3, 13, 13, dtype=torch.float64)
    y = conv(torch.relu(lift(x)))
    assert y.shape == (scales * 2, 2 * group.order, 13, 13)
    for g in group.elements():
        y_g = per_scale_fields(conv(torch.relu(lift(act_input(group, g, x)))), scales, group)
        expected = act_fields(group, g, per_scale_fields(y, scales, group))
        assert (y_g - expected).abs().max() < 1e-10 * y.abs().max(), group.element_name(g)


def test_the_hue_scale_lift_is_the_scale_lift_on_each_hue_turned_input():
    """Slot (s, k) holds the rotation lift's slot s of the input turned by the inverse of hue step k: the identity
    hue step is the rotation group's ScaleLift itself, with the same parameters."""
    torch.manual_seed(0)
    group = DirectProduct(CyclicGroup(4), HueGroup(3))
    lift = ScaleLift(3, 2, 5, grid_moves(group, 2), 3, hue_rotations([hue_of(group, i) for i in range(12)])).double()
    planar = ScaleLift(3, 2, 5, grid_moves(CyclicGroup(4), 2), 3).double()
    planar.load_state_dict(lift.state_dict())
    x = torch.randn(2, 3, 11, 11, dtype=torch.float64)
    y = lift(x).reshape(3, 2, 2, 4, 3, 11, 11)  # scales, batch, fields, rotations, hue steps
    assert torch.allclose(y[:, :, :, :, 0], planar(x).reshape(3, 2, 2, 4, 11, 11), atol=1e-12)
    turned = torch.einsum("cd,bdhw->bchw", torch.tensor(hue_matrix(-1, 3), dtype=torch.float64), x)
    assert torch.allclose(y[:, :, :, :, 1], planar(turned).reshape(3, 2, 2, 4, 11, 11), atol=1e-12)
    assert sum(p.numel() for p in lift.parameters()) == 2 * 3 * 4  # fields x RGB x basis functions
    with pytest.raises(ValueError, match="the first 3 input channels \\(RGB for hue rotations\\), got 1"):
        ScaleLift(1, 2, 5, grid_moves(group, 2), 3, channel_actions(group))


@pytest.mark.parametrize("text", HUE_SCALE_SPECS, ids=["hue 3 x scale 3", "C4 x hue 3 x scale 3"])
def test_hue_times_scale_compiles_with_exact_hue_and_right_angle_rows_and_zoom_rows(text):
    torch.manual_seed(0)
    compiled = symc.compile(text)
    assert sum(p.numel() for p in compiled.module.parameters()) == compiled.plan.params
    assert "ScaleLift(3, 4, 5, GROUP_MOVES, 3, actions=hue_rotations(GROUP_HUE))" in compiled.source
    assert "exact for hue rotations" in compiled.plan.exactness() and "approximate for zooms" in compiled.plan.exactness()
    report = check(compiled.module, compiled.spec)
    exact = [row for row in report.rows if row.exact]
    zooms = [row for row in report.rows if row.element.startswith("zoom")]
    assert len(exact) == compiled.plan.symmetry.order and all(row.error < 1e-4 for row in exact), str(report)
    assert sum("hue" in row.element for row in exact) == 2 * compiled.plan.symmetry.order // 3
    assert len(zooms) == 2 and all(row.ok and row.tolerance == SCALE_TOLERANCE for row in zooms), str(report)
    assert report.ok and "hue rotations (exact)" in str(report) and "zooms (in and out" in str(report)


def test_hue_scale_rows_flag_a_model_without_hue_symmetry_and_one_without_zoom_invariance():
    """A `rotation 4 x scale 3` model on RGB, claimed with hue too: exactly the 8 rows with a hue step fail, the
    rotations and zooms pass. A hue-invariant model that grows with the content's area: only zoom rows fail."""
    torch.manual_seed(0)
    colour_blind = symc.compile("image 3x28x28; rotation 4 x scale 3; invariant output 10; widths 4,8").module
    report = check(colour_blind, HUE_SCALE_SPECS[1])
    failed = {row.element for row in report.rows if not row.ok}
    assert len(failed) == 8 and all("hue" in element for element in failed), str(report)
    report = check(AreaSensitive(), "image 3x28x28; hue 3 x scale 3; invariant output 2")
    failed = [row for row in report.rows if not row.ok]
    assert failed and all(row.element.startswith("zoom") for row in failed), str(report)


def test_hue_scale_files_are_standalone_and_other_scale_files_do_not_change():
    source = symc.compile(HUE_SCALE_SPECS[1]).source
    assert source == symc.compile(HUE_SCALE_SPECS[1]).source
    assert "class ScaleLift(" in source and "def hue_rotations" in source and "GROUP_HUE = (" in source
    assert "import symc" not in source and "from symc" not in source
    plain = symc.compile("image 3x20x20; D4 x scale 3; invariant output 3; widths 2,3").source
    assert "actions=" not in plain.split("class Model")[1] and "hue_rotations" not in plain
    assert "GROUP_HUE" not in plain


# ---------------------------------------------------------------- other grids

@pytest.mark.parametrize("dims,group", [(1, DihedralGroup(1)), (1, CyclicGroup(1)), (3, CyclicGroup(1))],
                         ids=["1D time reversal", "1D", "3D"])
def test_scale_lift_and_conv_run_on_sequences_and_volumes(dims, group):
    """The same layers on 1D and 3D grids: a separable basis per axis, the moves of the grid; time reversal stays
    exact at every scale, and a zoom moves the lifted responses one scale along as on images."""
    torch.manual_seed(0)
    moves, table = tables(group, dims)
    scales = 3
    lift = ScaleLift(2, 3, 5, moves, scales).double()
    conv = ScaleGroupConv(3, 2, 3, moves, table, scales, 2).double()
    size = (24,) if dims == 1 else (9, 9, 9)
    x = torch.randn(2, 2, *size, dtype=torch.float64)
    y = conv(torch.relu(lift(x)))
    assert y.shape == (scales * 2, 2 * group.order) + size
    assert sum(p.numel() for p in lift.parameters()) == 3 * 2 * 2 ** dims
    assert sum(p.numel() for p in conv.parameters()) == 2 * 3 * 2 * group.order * 2 ** dims
    if group.order == 2:   # time reversal: flip the sequence, swap the two slots of the group axis
        flipped = conv(torch.relu(lift(torch.flip(x, dims=(-1,)))))
        expected = torch.flip(y.reshape(scales * 2, 2, 2, *size)[:, :, [1, 0]], dims=(-1,)).reshape(y.shape)
        assert (flipped - expected).abs().max() < 1e-10 * y.abs().max()
    if dims == 1:   # a smooth bump and the same bump twice as wide: the response moves up two scales
        t = torch.arange(64, dtype=torch.float64) - 31.5
        narrow, wide = torch.exp(-t * t / 8.0), torch.exp(-t * t / 32.0)
        one = ScaleLift(1, 4, 5, grid_moves(CyclicGroup(1), 1), 4).double()
        peak = [one(v[None, None]).reshape(4, 4, 64).abs().amax(dim=-1) for v in (narrow, wide)]
        assert torch.allclose(peak[1][2], peak[0][0], rtol=0.1) and not torch.allclose(peak[1][0], peak[0][0],
                                                                                       rtol=0.1)
