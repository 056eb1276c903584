"""The runtime layers of symc/nn, tested directly (the generated files inline this same code)."""
import math

import pytest
import torch

from symc.groups import CyclicGroup, DihedralGroup, is_exact
from symc.groups.actions import act_fields, act_image
from symc.nn.conv import GroupConv2d, GroupLift2d
from symc.nn.filters import FilterTransforms, split_angle, steering_matrices
from symc.nn.layers import (FieldLinear, FieldNorm2d, GlobalPool2d, GroupPool, GroupSpectrum, SymmetricDownsample2d,
                            check_image_input, isotypic_bases)

GROUPS = [CyclicGroup(4), DihedralGroup(4), DihedralGroup(2), DihedralGroup(1), CyclicGroup(8), DihedralGroup(8)]


def tables(group):
    return [group.spatial(i) for i in range(group.order)], group.regular_table()


def exact_elements(group):
    return [i for i in range(group.order) if is_exact(group, i)]


def relative(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def fields_view(y, group):
    b, c, h, w = y.shape
    return y.reshape(b, c // group.order, group.order, h, w)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize("size", [(13, 13), (14, 14), (9, 12)])
def test_lift_and_group_conv_are_equivariant(group, size):
    if size[0] != size[1] and any(group.spatial(i)[1] * 4 % group.n and group.spatial(i)[1] * 2 % group.n
                                  for i in exact_elements(group)):
        pytest.skip("quarter turns change a non-square grid's shape")
    torch.manual_seed(0)
    spatial, table = tables(group)
    lift = GroupLift2d(3, 4, 5, spatial).double()
    conv = GroupConv2d(4, 5, 3, spatial, table).double()
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    y1 = lift(x)
    y2 = conv(y1)
    for g in exact_elements(group):
        if size[0] != size[1] and group.spatial(g)[1] * 4 % group.n == 0 and (group.spatial(g)[1] * 4 // group.n) % 2:
            continue
        gx = act_image(group, g, x)
        assert relative(fields_view(lift(gx), group), act_fields(group, g, fields_view(y1, group))) < 1e-12
        assert relative(fields_view(conv(lift(gx)), group), act_fields(group, g, fields_view(y2, group))) < 1e-12


def test_group_conv_detects_a_wrong_table():
    """The equivariance above depends on the table: rotating filters without cycling the group axis breaks it."""
    group = CyclicGroup(4)
    spatial, table = tables(group)
    wrong = [list(range(group.order)) for _ in table]
    torch.manual_seed(0)
    conv = GroupConv2d(2, 2, 3, spatial, wrong).double()
    x = torch.randn(1, 8, 11, 11, dtype=torch.float64)
    y = fields_view(conv(x), group)
    gx = act_fields(group, 1, fields_view(x, group)).reshape(1, 8, 11, 11)
    assert relative(fields_view(conv(gx), group), act_fields(group, 1, y)) > 1e-2


def test_right_angle_copies_differ_by_exact_rot90_even_when_resampled():
    group = CyclicGroup(8)
    spatial, _ = tables(group)
    transforms = FilterTransforms(spatial, 5)
    w = torch.randn(3, 2, 5, 5)
    for r in range(8):
        quarter_later = transforms(w, (r + 2) % 8)
        assert torch.equal(quarter_later, torch.rot90(transforms(w, r), 1, dims=(-2, -1)))


def test_steering_at_right_angles_is_exact_and_at_45_degrees_close_on_smooth_images():
    projection, (quarter, eighth) = steering_matrices(7, [math.pi / 2, math.pi / 4])
    w = (projection @ torch.randn(49, dtype=torch.float64)).reshape(7, 7)
    assert torch.allclose((quarter @ w.flatten()).reshape(7, 7), torch.rot90(w, 1, dims=(0, 1)), atol=1e-10)
    assert torch.allclose(projection @ projection, projection, atol=1e-10)
    assert split_angle(3, 8) == (1, math.pi / 4)
    assert split_angle(5, 4) == (1, 0.0)
    # A filter rotated by 45 degrees in the ring basis, applied to a smooth scene rotated by 45 degrees, gives the
    # rotated response to within a few percent (bilinear resampling of raw 5x5 filters was off by ~27%).
    group = CyclicGroup(8)
    size = 65
    rows, cols = torch.meshgrid(torch.arange(size) - 32.0, torch.arange(size) - 32.0, indexing="ij")
    scene = (torch.exp(-((rows - 8) ** 2 + (cols - 3) ** 2) / 30) + torch.exp(-((rows + 5) ** 2 + (cols + 9) ** 2)
                                                                               / 20)).double()[None, None]
    disk = (rows ** 2 + cols ** 2 <= 28 ** 2).double()
    transforms = FilterTransforms([group.spatial(i) for i in range(8)], 5).double()
    torch.manual_seed(0)
    base = transforms.prepare(torch.randn(3, 1, 5, 5, dtype=torch.float64))
    response = torch.nn.functional.conv2d(scene, base, padding=2)
    turned = torch.nn.functional.conv2d(act_image(group, 1, scene), transforms(base, 1), padding=2)
    error = ((turned - act_image(group, 1, response)) * disk).norm() / (response * disk).norm()
    assert error < 0.05


def test_eval_cache_is_reused_and_refreshed_when_weights_change():
    group = CyclicGroup(4)
    spatial, table = tables(group)
    conv = GroupConv2d(2, 3, 3, spatial, table).eval()
    x = torch.randn(1, 8, 9, 9)
    first = conv(x)
    bank = conv._cached_weight
    conv(x)
    assert conv._cached_weight is bank, "eval mode must not rebuild the filter bank per call"
    with torch.no_grad():
        conv.weight.add_(1.0)
    assert not torch.allclose(conv(x), first), "an in-place weight change must refresh the cache"
    state = conv.state_dict()
    assert set(state) == {"weight"}, "state_dict holds base weights only"
    fresh = GroupConv2d(2, 3, 3, spatial, table).eval()
    fresh(x)
    fresh.load_state_dict(state)
    assert torch.allclose(fresh(x), conv(x))
    conv.train()
    assert conv._cached_weight is None


@pytest.mark.parametrize("size,expected", [(28, 14), (29, 15), (7, 4), (1, 1), (2, 1)])
def test_symmetric_downsample_sizes_and_symmetry(size, expected):
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    for mode in ("max", "avg"):
        pool = SymmetricDownsample2d(mode)
        y = pool(x)
        assert y.shape[-2:] == (expected, expected)
        assert torch.allclose(pool(torch.rot90(x, 1, (-2, -1))), torch.rot90(y, 1, (-2, -1)), atol=1e-12)
        assert torch.allclose(pool(torch.flip(x, (-1,))), torch.flip(y, (-1,)), atol=1e-12)


def test_plain_strided_pooling_would_break_symmetry_on_odd_sizes():
    """Why SymmetricDownsample2d exists: torch's 2x2 pooling is not rotation-equivariant on odd sizes."""
    x = torch.randn(1, 1, 9, 9, dtype=torch.float64)
    pool = torch.nn.MaxPool2d(2)
    assert not torch.allclose(pool(torch.rot90(x, 1, (-2, -1))), torch.rot90(pool(x), 1, (-2, -1)))


@pytest.mark.parametrize("kind", ["batch", "layer", "group"])
def test_field_norm_shares_statistics_over_the_group_axis(kind):
    group = DihedralGroup(4)
    norm = FieldNorm2d(8, group.order, kind).double().train()
    x = torch.randn(4, 8 * group.order, 7, 7, dtype=torch.float64) * 3 + 1
    y = fields_view(norm(x), group)
    for g in exact_elements(group):
        gx = act_fields(group, g, fields_view(x, group)).reshape(x.shape)
        assert relative(fields_view(norm(gx), group), act_fields(group, g, y)) < 1e-10


def test_pools_and_field_linear():
    x = torch.randn(2, 3 * 4, 5, 5, dtype=torch.float64)
    pooled = GroupPool(3, 4, "max")(x)
    assert pooled.shape == (2, 3, 5, 5)
    assert torch.equal(pooled, x.reshape(2, 3, 4, 5, 5).amax(2))
    assert GlobalPool2d("mean")(pooled).shape == (2, 3)
    scores = FieldLinear(3, 2, 4).double()
    out = scores(x.mean(dim=(-2, -1)))
    assert out.shape == (2, 2, 4)
    shifted = torch.roll(x.reshape(2, 3, 4, 5, 5), 1, dims=2).reshape(2, 12, 5, 5)
    assert torch.allclose(scores(shifted.mean(dim=(-2, -1))), torch.roll(out, 1, dims=2))


@pytest.mark.parametrize("bad,phrase", [
    (torch.randn(3, 28, 28), "rank 3"),
    (torch.randn(1, 2, 28, 28), "got 2 channels"),
    (torch.randn(1, 1, 2, 28), "at least 4"),
    (torch.zeros(1, 1, 28, 28, dtype=torch.long), "floating-point"),
])
def test_input_check_names_the_expected_layout(bad, phrase):
    with pytest.raises(ValueError, match=phrase) as info:
        check_image_input(bad, 1, 4, "(B, 1, H, W)")
    assert "(B, 1, H, W)" in str(info.value)


def test_kernel_must_be_odd():
    with pytest.raises(ValueError, match="odd"):
        GroupLift2d(1, 2, 4, [(0, 0, 1)])


SPECTRUM_GROUPS = [CyclicGroup(n) for n in (1, 2, 3, 4, 5, 8, 16)] + [DihedralGroup(n) for n in (1, 2, 3, 4, 8)]


@pytest.mark.parametrize("group", SPECTRUM_GROUPS, ids=lambda g: g.name)
def test_group_spectrum_is_invariant_and_keeps_one_length_per_real_class(group):
    table = group.regular_table()
    classes = len(set(group.real_classes()))
    spectrum = GroupSpectrum(3, group.order, table, group.real_classes())
    assert spectrum.components == classes
    bases = isotypic_bases(table, group.real_classes())
    basis = torch.cat(bases, 1)
    assert torch.allclose(basis.T @ basis, torch.eye(group.order, dtype=torch.float64), atol=1e-10)
    x = torch.randn(4, 3 * group.order, dtype=torch.float64)
    out = spectrum(x)
    assert out.shape == (4, 3 * classes)
    # Lengths of orthogonal components: their squares add up to the field's squared length.
    total = (out.reshape(4, 3, classes) ** 2).sum(-1) - classes * 1e-8
    assert torch.allclose(total, (x.reshape(4, 3, -1) ** 2).sum(-1), atol=1e-9)
    for g in group.elements():
        moved = x.reshape(4, 3, -1)[:, :, list(table[g])].reshape(4, -1)
        assert (spectrum(moved) - out).abs().max() < 1e-12


@pytest.mark.parametrize("group,sizes", [
    (CyclicGroup(8), [1, 1, 2, 2, 2]), (DihedralGroup(4), [1, 1, 1, 1, 4]), (DihedralGroup(3), [1, 1, 4]),
])
def test_isotypic_components_have_the_irreducible_representations_sizes(group, sizes):
    # A d-dimensional real irreducible representation appears d times in the regular one: d*d dimensions (the
    # 2-dimensional ones of C8 are complex pairs, appearing once as a real plane).
    bases = isotypic_bases(group.regular_table(), group.real_classes())
    assert sorted(b.shape[1] for b in bases) == sizes


def test_group_spectrum_of_rotations_is_the_fourier_amplitude_over_angles():
    v = torch.randn(2, 8, dtype=torch.float64)
    lengths = GroupSpectrum(1, 8, CyclicGroup(8).regular_table(), CyclicGroup(8).real_classes())(v)
    amplitude = torch.fft.rfft(v, dim=-1).abs()
    # Components are frequencies 0..4; frequencies 1..3 pair with their negatives (a length of sqrt(2/8) |F_j|).
    scale = torch.tensor([1, 2, 2, 2, 1], dtype=torch.float64).sqrt() / math.sqrt(8)
    expected = (amplitude * scale).sort(-1).values
    assert torch.allclose(lengths.sort(-1).values, torch.sqrt(expected ** 2 + 1e-8), atol=1e-12)


def test_group_spectrum_tells_apart_fields_a_max_over_the_group_confuses():
    peaked = torch.tensor([[1.0, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.float64)
    spread = torch.tensor([[1.0, 0, 0, 0, 1.0, 0, 0, 0]], dtype=torch.float64)
    group = CyclicGroup(8)
    spectrum = GroupSpectrum(1, 8, group.regular_table(), group.real_classes())
    assert spread.max() == peaked.max()
    assert (spectrum(spread) - spectrum(peaked)).abs().max() > 0.1
