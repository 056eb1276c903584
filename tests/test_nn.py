"""The runtime layers of symc/nn, tested directly (the generated files inline this same code).

One N-d stack serves sequences (1D), images (2D) and volumes (3D): the moves table of symc.groups.moves, the
equivariant conv between any field types, norms, pools, down-sampling, heads and the input check.
"""
import math

import pytest
import torch

from symc.groups import CubeGroup, CyclicGroup, DihedralGroup, is_exact
from symc.groups.actions import act_fields, act_image, act_volume
from symc.groups.moves import GridMove, grid_moves
from symc.nn.conv import GroupConv
from symc.nn.filters import move_filters, steering_matrices
from symc.nn.layers import (FieldLinear, FieldNorm, FieldPool, GlobalPool, GroupSpectrum, SymmetricDownsample,
                            check_input, isotypic_bases)

GROUPS = [CyclicGroup(4), DihedralGroup(4), DihedralGroup(2), DihedralGroup(1), CyclicGroup(8), DihedralGroup(8)]


def tables(group, dims: int = 2):
    return grid_moves(group, dims), group.regular_table()


def exact_elements(group):
    return [i for i in range(group.order) if is_exact(group, i)]


def relative(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def fields_view(y, group):
    b, c = y.shape[:2]
    return y.reshape(b, c // group.order, group.order, *y.shape[2:])


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize("size", [(13, 13), (14, 14), (9, 12)])
def test_lift_and_group_conv_are_equivariant(group, size):
    if size[0] != size[1] and any(group.spatial(i)[1] * 4 % group.n and group.spatial(i)[1] * 2 % group.n
                                  for i in exact_elements(group)):
        pytest.skip("quarter turns change a non-square grid's shape")
    torch.manual_seed(0)
    moves, table = tables(group)
    lift = GroupConv((3, 0), (0, 4), 5, moves, table).double()
    conv = GroupConv((0, 4), (0, 5), 3, moves, table).double()
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
    moves, table = tables(group)
    wrong = [list(range(group.order)) for _ in table]
    torch.manual_seed(0)
    conv = GroupConv((0, 2), (0, 2), 3, moves, wrong).double()
    x = torch.randn(1, 8, 11, 11, dtype=torch.float64)
    y = fields_view(conv(x), group)
    gx = act_fields(group, 1, fields_view(x, group)).reshape(1, 8, 11, 11)
    assert relative(fields_view(conv(gx), group), act_fields(group, 1, y)) > 1e-2


# ---------------------------------------------------------------- the moves table

def apply_move(x, move):
    """A grid move's exact part on a tensor's last axes: output axis b reads input axis source[b], flipped."""
    return move_filters(x, move.source, move.flips)


@pytest.mark.parametrize("group", GROUPS + [CyclicGroup(6), DihedralGroup(3), CyclicGroup(16)], ids=lambda g: g.name)
def test_image_moves_are_the_planar_elements_and_steer_only_the_other_angles(group):
    x = torch.randn(2, 7, 7, dtype=torch.float64)
    moves = grid_moves(group, 2)
    assert moves[0] == GridMove((0, 1), (0, 0), 0.0)
    for g, move in enumerate(moves):
        mirror, r, n = group.spatial(g)
        remainder = (4 * r) % n
        assert abs(move.angle) < math.pi / 2
        assert abs(abs(move.angle) - 2 * math.pi * remainder / (4 * n)) < 1e-12
        assert (move.angle < 0) == (bool(mirror) and remainder > 0)   # F R_a = R_-a F: mirrored steering is negated
        if is_exact(group, g):
            assert torch.equal(apply_move(x, move), act_image(group, g, x)), group.element_name(g)


@pytest.mark.parametrize("mirrors", [False, True])
def test_volume_moves_are_the_cube_symmetries(mirrors):
    group = CubeGroup(mirrors)
    x = torch.randn(2, 3, 4, 4, 4, dtype=torch.float64)
    moves = grid_moves(group, 3)
    assert len(set(moves)) == group.order and moves[0] == GridMove((0, 1, 2), (0, 0, 0), 0.0)
    for g, move in enumerate(moves):
        assert move.angle == 0.0
        assert torch.equal(apply_move(x, move), act_volume(group, g, x))


def test_sequence_moves_reverse_time():
    assert grid_moves(DihedralGroup(1), 1) == (GridMove((0,), (0,), 0.0), GridMove((0,), (1,), 0.0))
    assert grid_moves(CyclicGroup(1), 1) == (GridMove((0,), (0,), 0.0),)
    with pytest.raises(ValueError, match="no move on a 1D grid"):
        grid_moves(CyclicGroup(4), 1)


def test_mirrored_steering_by_the_negated_angle_is_the_mirror_of_the_steering():
    """(Q F) R_-a = Q R_a F on band-limited filters: steering the mirrored elements by -a before the exact move
    gives the filters the old order (mirror, steer by a, quarter turns) gave, to float64 round-off."""
    a = math.pi / 4
    projection, (plus, minus) = steering_matrices(5, [a, -a])
    flip = torch.eye(25, dtype=torch.float64)[torch.flip(torch.arange(25).reshape(5, 5), dims=(-1,)).reshape(-1)]
    assert torch.allclose(flip @ minus @ projection, plus @ flip @ projection, atol=1e-10)


def test_right_angle_copies_differ_by_exact_rot90_even_when_steered():
    group = CyclicGroup(8)
    moves, table = tables(group)
    lift = GroupConv((2, 0), (0, 3), 5, moves, table)
    copies = lift.expand_weight().reshape(3, 8, 2, 5, 5)
    for r in range(8):
        assert torch.equal(copies[:, (r + 2) % 8], torch.rot90(copies[:, r], 1, dims=(-2, -1)))


def test_steering_at_right_angles_is_exact_and_at_45_degrees_close_on_smooth_images():
    projection, (quarter, eighth) = steering_matrices(7, [math.pi / 2, math.pi / 4])
    w = (projection @ torch.randn(49, dtype=torch.float64)).reshape(7, 7)
    assert torch.allclose((quarter @ w.flatten()).reshape(7, 7), torch.rot90(w, 1, dims=(0, 1)), atol=1e-10)
    assert torch.allclose(projection @ projection, projection, atol=1e-10)
    # A filter rotated by 45 degrees in the ring basis, applied to a smooth scene rotated by 45 degrees, gives the
    # rotated response to within a few percent (bilinear resampling of raw 5x5 filters was off by ~27%).
    group = CyclicGroup(8)
    size = 65
    rows, cols = torch.meshgrid(torch.arange(size) - 32.0, torch.arange(size) - 32.0, indexing="ij")
    scene = (torch.exp(-((rows - 8) ** 2 + (cols - 3) ** 2) / 30) + torch.exp(-((rows + 5) ** 2 + (cols + 9) ** 2)
                                                                               / 20)).double()[None, None]
    disk = (rows ** 2 + cols ** 2 <= 28 ** 2).double()
    torch.manual_seed(0)
    moves, table = tables(group)
    copies = GroupConv((1, 0), (0, 3), 5, moves, table).double().expand_weight().reshape(3, 8, 1, 5, 5)
    response = torch.nn.functional.conv2d(scene, copies[:, 0], padding=2)
    turned = torch.nn.functional.conv2d(act_image(group, 1, scene), copies[:, 1], padding=2)
    error = ((turned - act_image(group, 1, response)) * disk).norm() / (response * disk).norm()
    assert error < 0.05


# ---------------------------------------------------------------- N-d: 1D sequences and 3D volumes

def act_grid(group, dims, g, x):
    """The judge's own action on a plain map: act_image on images, act_volume on volumes, a flip in time."""
    if dims == 1:
        return torch.flip(x, dims=(-1,)) if group.spatial(g)[0] else x
    if dims == 2:
        return act_image(group, g, x)
    return act_volume(group, g, x)


def act_mixed(group, dims, g, y, trivial):
    """g on a mixed map: trivial channels moved on the grid, regular fields also permuted along the group axis."""
    t, r = y[:, :trivial], y[:, trivial:]
    shape = r.shape
    permutation = torch.tensor(group.regular_table()[g])
    r = r.reshape(shape[0], shape[1] // group.order, group.order, *shape[2:]).index_select(2, permutation)
    return torch.cat([act_grid(group, dims, g, t), act_grid(group, dims, g, r).reshape(shape)], dim=1)


GRID_CASES = {"1D time reversal": (DihedralGroup(1), 1, (12,)), "1D translation": (CyclicGroup(1), 1, (9,)),
              "2D D4": (DihedralGroup(4), 2, (9, 9)), "3D O": (CubeGroup(False), 3, (5, 5, 5)),
              "3D Oh": (CubeGroup(True), 3, (4, 4, 4))}
BLOCKS = {"lift": (3, 0, 0, 2), "group conv": (0, 2, 0, 3), "trivial->trivial": (2, 0, 3, 0),
          "regular->trivial": (0, 2, 3, 0), "all four": (2, 2, 3, 2)}


@pytest.mark.parametrize("case", sorted(GRID_CASES))
@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("boundary", ["zero", "circular"])
def test_the_conv_is_equivariant_under_every_elements_move_on_every_grid(case, block, boundary):
    group, dims, size = GRID_CASES[case]
    ti, ri, to, ro = BLOCKS[block]
    torch.manual_seed(0)
    moves, table = tables(group, dims)
    conv = GroupConv((ti, ri), (to, ro), 3, moves, table, bias=True, boundary=boundary).double()
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(2, ti + ri * group.order, *size, dtype=torch.float64)
    y = conv(x)
    assert y.shape == (2, to + ro * group.order) + size
    for g in range(group.order):
        assert relative(conv(act_mixed(group, dims, g, x, ti)), act_mixed(group, dims, g, y, to)) < 1e-12, g


@pytest.mark.parametrize("case", sorted(GRID_CASES))
def test_the_direct_and_fft_convolutions_agree_and_circular_wraps_around(case):
    """The FFT path computes the direct (equivariant, above) convolution, for every block and boundary."""
    group, dims, size = GRID_CASES[case]
    moves, table = tables(group, dims)
    torch.manual_seed(0)
    x = torch.randn(2, 2 + 2 * group.order, *size, dtype=torch.float64)
    for boundary in ("zero", "circular"):
        direct = GroupConv((2, 2), (3, 2), 3, moves, table, bias=True, boundary=boundary).double()
        fft = GroupConv((2, 2), (3, 2), 3, moves, table, bias=True, boundary=boundary, algorithm="fft").double()
        with torch.no_grad():
            direct.bias.normal_()
        fft.load_state_dict(direct.state_dict())
        assert relative(fft(x), direct(x)) < 1e-10
    shift = [1] * dims
    axes = list(range(2, 2 + dims))
    assert relative(direct(torch.roll(x, shift, axes)), torch.roll(direct(x), shift, axes)) < 1e-12


def test_parameter_shapes_are_one_base_filter_per_block_on_every_grid():
    for group, dims, _ in GRID_CASES.values():
        moves, table = tables(group, dims)
        conv = GroupConv((2, 3), (4, 5), 3, moves, table, bias=True)
        k = (3,) * dims
        shapes = {name: tuple(p.shape) for name, p in conv.named_parameters()}
        assert shapes == {"weight_tt": (4, 2) + k, "weight_tr": (5, 2) + k, "weight_rt": (4, 3) + k,
                          "weight_rr": (5, 3, group.order) + k, "bias": (9,)}
        assert conv.expand_weight().shape == (4 + 5 * group.order, 2 + 3 * group.order) + k
        lift = GroupConv((3, 0), (0, 4), 3, moves, table)
        assert [name for name, _ in lift.named_parameters()] == ["weight_tr"]


def test_the_bias_of_trivial_and_regular_outputs():
    group = CyclicGroup(4)
    moves, table = tables(group)
    conv = GroupConv((1, 1), (2, 3), 1, moves, table, bias=True)
    with torch.no_grad():
        conv.bias.copy_(torch.arange(5.0))
    assert conv.expanded_bias().tolist() == [0, 1] + [2] * 4 + [3] * 4 + [4] * 4


def test_eval_cache_is_reused_and_refreshed_when_weights_change():
    group = CyclicGroup(4)
    moves, table = tables(group)
    conv = GroupConv((0, 2), (0, 3), 3, moves, table).eval()
    x = torch.randn(1, 8, 9, 9)
    first = conv(x)
    bank = conv._cached_weight
    conv(x)
    assert conv._cached_weight is bank, "eval mode must not rebuild the filter bank per call"
    with torch.no_grad():
        conv.weight_rr.add_(1.0)
    assert not torch.allclose(conv(x), first), "an in-place weight change must refresh the cache"
    state = conv.state_dict()
    assert set(state) == {"weight_rr"}, "state_dict holds base weights only"
    fresh = GroupConv((0, 2), (0, 3), 3, moves, table).eval()
    fresh(x)
    fresh.load_state_dict(state)
    assert torch.allclose(fresh(x), conv(x))
    conv.train()
    assert conv._cached_weight is None


def test_kernel_boundary_and_algorithm_are_checked():
    moves = grid_moves(CyclicGroup(1), 2)
    with pytest.raises(ValueError, match="odd"):
        GroupConv((1, 0), (0, 2), 4, moves, [[0]])
    with pytest.raises(ValueError, match="boundary"):
        GroupConv((1, 0), (0, 2), 3, moves, [[0]], boundary="reflect")
    with pytest.raises(ValueError, match="algorithm"):
        GroupConv((1, 0), (0, 2), 3, moves, [[0]], algorithm="winograd")
    with pytest.raises(ValueError, match="2D kernel"):
        GroupConv((1, 0), (0, 2), 3, [((0,), (0,), 0.0), ((0,), (0,), 0.5)], [[0, 1], [1, 0]])


# ---------------------------------------------------------------- down-sampling, norms, pools, heads

@pytest.mark.parametrize("size,expected", [(28, 14), (29, 15), (7, 4), (1, 1), (2, 1)])
def test_symmetric_downsample_sizes_and_symmetry(size, expected):
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    for mode in ("max", "avg", "blur"):
        pool = SymmetricDownsample(mode)
        y = pool(x)
        assert y.shape[-2:] == (expected, expected)
        assert torch.allclose(pool(torch.rot90(x, 1, (-2, -1))), torch.rot90(y, 1, (-2, -1)), atol=1e-12)
        assert torch.allclose(pool(torch.flip(x, (-1,))), torch.flip(y, (-1,)), atol=1e-12)


@pytest.mark.parametrize("dims", [1, 3])
@pytest.mark.parametrize("size", [6, 7])
def test_symmetric_downsample_keeps_every_axis_move_in_1d_and_3d(dims, size):
    x = torch.randn(2, 3, *(size,) * dims, dtype=torch.float64)
    group = DihedralGroup(1) if dims == 1 else CubeGroup(True)
    for mode in ("max", "avg", "blur"):
        pool = SymmetricDownsample(mode)
        y = pool(x)
        assert y.shape[2:] == ((size + 1) // 2,) * dims
        for g in range(group.order):
            assert torch.allclose(pool(act_grid(group, dims, g, x)), act_grid(group, dims, g, y), atol=1e-12)


def test_blur_is_the_binomial_filter_one_axis_after_the_other():
    x = torch.zeros(1, 1, 8)
    x[0, 0, 3] = 1.0
    assert torch.allclose(SymmetricDownsample("blur")(x)[0, 0], torch.tensor([0.0, 3.0, 1.0, 0.0]) / 8)
    odd = torch.ones(1, 2, 5, 5)
    assert torch.allclose(SymmetricDownsample("blur")(odd)[0, 0], torch.tensor([[9.0, 12, 9], [12, 16, 12],
                                                                               [9, 12, 9]]) / 16)


def test_plain_strided_pooling_would_break_symmetry_on_odd_sizes():
    """Why SymmetricDownsample exists: torch's 2x2 pooling is not rotation-equivariant on odd sizes."""
    x = torch.randn(1, 1, 9, 9, dtype=torch.float64)
    pool = torch.nn.MaxPool2d(2)
    assert not torch.allclose(pool(torch.rot90(x, 1, (-2, -1))), torch.rot90(pool(x), 1, (-2, -1)))


@pytest.mark.parametrize("kind", ["batch", "layer", "group"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_field_norm_shares_statistics_over_the_group_axis(kind, dims):
    group = {1: DihedralGroup(1), 2: DihedralGroup(4), 3: CubeGroup(False)}[dims]
    size = (5,) * dims
    for trivial, fields in [(0, 8), (3, 2), (3, 0)]:
        norm = FieldNorm((trivial, fields), group.order, kind).double().train()
        assert sum(p.numel() for p in norm.parameters()) == 2 * (trivial + fields)
        x = torch.randn(4, trivial + fields * group.order, *size, dtype=torch.float64) * 3 + 1
        y = norm(x)
        for g in range(group.order):
            assert relative(norm(act_mixed(group, dims, g, x, trivial)), act_mixed(group, dims, g, y, trivial)) < 1e-10
        if kind == "batch" and trivial:   # each trivial channel has mean 0
            assert y[:, :trivial].transpose(0, 1).reshape(trivial, -1).mean(dim=1).abs().max() < 1e-10
        if kind == "batch" and fields:    # and each regular field, over all its channels
            regular = y[:, trivial:].reshape(4, fields, -1).transpose(0, 1).reshape(fields, -1)
            assert regular.mean(dim=1).abs().max() < 1e-10


def test_pools_and_field_linear():
    x = torch.randn(2, 3 * 4, 5, 5, dtype=torch.float64)
    pooled = FieldPool((0, 3), 4, "max")(x)
    assert pooled.shape == (2, 3, 5, 5)
    assert torch.equal(pooled, x.reshape(2, 3, 4, 5, 5).amax(2))
    assert torch.equal(FieldPool((0, 3), 4, "mean")(x), x.reshape(2, 3, 4, 5, 5).mean(2))
    assert GlobalPool("mean")(pooled).shape == (2, 3)
    assert torch.equal(GlobalPool("max")(pooled), pooled.amax(dim=(-2, -1)))
    volume = torch.randn(2, 3, 4, 4, 4)
    assert torch.allclose(GlobalPool("mean")(volume), volume.flatten(2).mean(-1))
    scores = FieldLinear((0, 3), 2, 4).double()
    out = scores(x.mean(dim=(-2, -1)))
    assert out.shape == (2, 2, 4)
    shifted = torch.roll(x.reshape(2, 3, 4, 5, 5), 1, dims=2).reshape(2, 12, 5, 5)
    assert torch.allclose(scores(shifted.mean(dim=(-2, -1))), torch.roll(out, 1, dims=2))
    assert sum(p.numel() for p in scores.parameters()) == 3 * 2 + 2


@pytest.mark.parametrize("trivial,fields", [(3, 2), (3, 0)])
def test_trivial_parts_pass_the_pool_and_feed_every_element_of_the_field_linear(trivial, fields):
    group = DihedralGroup(4)
    torch.manual_seed(0)
    x = torch.randn(4, trivial + fields * 8, 9, 9)
    pool = FieldPool((trivial, fields), 8, "max")
    pooled = pool(x)
    assert pooled.shape == (4, trivial + fields, 9, 9) and torch.equal(pooled[:, :trivial], x[:, :trivial])
    for g in exact_elements(group):
        assert relative(pool(act_mixed(group, 2, g, x, trivial)), act_image(group, g, pooled)) < 1e-12
    linear = FieldLinear((trivial, fields), 4, 8)
    assert sum(p.numel() for p in linear.parameters()) == (trivial + fields) * 4 + 4
    features = x.mean(dim=(-2, -1))
    scores = linear(features)
    assert scores.shape == (4, 4, 8)
    for g in range(group.order):
        moved = act_mixed(group, 2, g, x, trivial).mean(dim=(-2, -1))
        expected = scores.index_select(-1, torch.tensor(group.regular_table()[g]))
        assert relative(linear(moved), expected) < 1e-5


@pytest.mark.parametrize("bad,phrase", [
    (torch.randn(3, 28, 28), "rank 3"),
    (torch.randn(1, 2, 28, 28), "got 2 channels"),
    (torch.randn(1, 1, 2, 28), "with height and width at least 4"),
    (torch.zeros(1, 1, 28, 28, dtype=torch.long), "floating-point"),
])
def test_input_check_names_the_expected_layout(bad, phrase):
    with pytest.raises(ValueError, match=phrase) as info:
        check_input(bad, 1, 4, 4, "(B, 1, H, W)")
    assert "(B, 1, H, W)" in str(info.value)


@pytest.mark.parametrize("bad,rank,cube,message", [
    (torch.randn(2, 16), 3, False, "expected input of shape (B, 2, L), got a tensor of rank 2 with shape (2, 16)"),
    (torch.randn(2, 3, 16), 3, False, "expected input of shape (B, 2, L) with 2 channels, got 3 channels "
                                      "(shape (2, 3, 16))"),
    (torch.randn(2, 2, 3), 3, False, "expected input of shape (B, 2, L) with every size at least 4, got (2, 2, 3)"),
    (torch.randn(2, 2, 6, 5, 6), 5, True, "expected a cubic input (B, 2, L) with D = H = W (cube symmetries turn "
                                          "it by 90 degrees), got (2, 2, 6, 5, 6)"),
    (torch.zeros(2, 2, 8, dtype=torch.int32), 3, False, "expected a floating-point input of shape (B, 2, L), got "
                                                         "dtype torch.int32"),
])
def test_grid_input_check_messages(bad, rank, cube, message):
    with pytest.raises(ValueError) as info:
        check_input(bad, 2, rank, 4, "(B, 2, L)", cube)
    assert str(info.value) == message


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


def test_no_layer_of_the_stack_is_tied_to_a_grid_rank():
    """The same classes run on sequences, images and volumes: one forward pass of a whole small network each."""
    for group, dims, size in GRID_CASES.values():
        moves, table = tables(group, dims)
        net = torch.nn.Sequential(GroupConv((2, 0), (1, 2), 3, moves, table), FieldNorm((1, 2), group.order),
                                  torch.nn.ReLU(), SymmetricDownsample("blur"),
                                  GroupConv((1, 2), (0, 3), 3, moves, table), FieldPool((0, 3), group.order),
                                  GlobalPool("mean"))
        assert net(torch.randn(2, 2, *size)).shape == (2, 3)
