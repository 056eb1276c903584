"""The filter bank built in one gather equals the bank built copy by copy, values and gradients, on every grid and
for every block between field types (with and without channel actions)."""
import pytest
import torch

from symc.groups import CubeGroup, CyclicGroup, DihedralGroup, DirectProduct, HueGroup
from symc.groups.moves import channel_actions, grid_moves
from symc.nn.conv import GroupConv
from symc.nn.filters import move_filters, steering_matrices

GROUPS = [CyclicGroup(4), DihedralGroup(4), DihedralGroup(1), CyclicGroup(8), DihedralGroup(8), CyclicGroup(6),
          DirectProduct(CyclicGroup(4), HueGroup(3)), DirectProduct(DihedralGroup(8), HueGroup(5))]
TYPES = {"lift": ((3, 0), (0, 4)), "group conv": ((0, 2), (0, 3)), "all four blocks": ((4, 2), (3, 2)),
         "trivial outputs": ((3, 2), (2, 0))}


def moved(w, move, steered, kernel):
    """One element's copy of filters (..., *kernel): steered by the move's angle (inside the ring basis when any
    element steers), then the exact permutation and flips."""
    if steered:
        taps = kernel * kernel
        projection, (rotation,) = steering_matrices(kernel, [move.angle])
        w = (w.reshape(-1, taps) @ (rotation @ projection).t().to(w.dtype)).reshape(w.shape)
    return move_filters(w, move.source, move.flips)


def mixed_channels(w, matrix):
    """W A^-1 on the first len(matrix) input channels (axis 1) of filters (out, in, *kernel)."""
    if matrix is None:
        return w
    inverse = torch.linalg.inv(torch.as_tensor(matrix, dtype=torch.float64)).to(w.dtype)
    size = inverse.shape[0]
    first = torch.einsum("od...,dc->oc...", w[:, :size], inverse)
    return torch.cat([first, w[:, size:]], dim=1)


def copy_by_copy(layer, moves, table, actions):
    """The bank from each element's copy of each block, stacked: the definition the gather must match."""
    order, kernel = layer.order, layer.kernel_size
    steered = any(m.angle for m in moves)
    ti, ri, to, ro = layer.in_trivial, layer.in_fields, layer.out_trivial, layer.out_fields

    def copy(w, g, act=False):
        return moved(mixed_channels(w, actions[g]) if act and actions is not None else w, moves[g], steered, kernel)

    spatial = (kernel,) * layer.dims
    rows = []
    if to:
        blocks = []
        if ti:
            blocks.append(torch.stack([copy(layer.weight_tt, g, True) for g in range(order)]).mean(dim=0))
        if ri:
            blocks.append(torch.stack([copy(layer.weight_rt, h) for h in range(order)], dim=2)
                          .reshape((to, ri * order) + spatial))
        rows.append(torch.cat(blocks, dim=1))
    if ro:
        blocks = []
        if ti:
            blocks.append(torch.stack([copy(layer.weight_tr, g, True) for g in range(order)], dim=1)
                          .reshape((ro * order, ti) + spatial))
        if ri:
            rr = [copy(layer.weight_rr.index_select(2, torch.tensor(table[g])), g) for g in range(order)]
            blocks.append(torch.stack(rr, dim=1).reshape((ro * order, ri * order) + spatial))
        rows.append(torch.cat(blocks, dim=1))
    return torch.cat(rows, dim=0)


def check_against_copies(layer, moves, table, actions, steered):
    bank = layer.expand_weight()
    reference = copy_by_copy(layer, moves, table, actions)
    if steered:   # one float32 matrix per version instead of float64 steps: round-off apart
        assert torch.allclose(bank, reference, rtol=0, atol=1e-6)
    else:
        assert torch.allclose(bank, reference, rtol=0, atol=1e-14)
    seed = torch.randn_like(bank)
    weights = layer.base_weights()
    grads = torch.autograd.grad((bank * seed).sum(), weights)
    expected = torch.autograd.grad((reference * seed).sum(), weights)
    for grad, want in zip(grads, expected):
        assert torch.allclose(grad, want, rtol=0, atol=1e-5 if steered else 1e-12)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("kind", sorted(TYPES))
def test_gathered_bank_matches_copy_by_copy_on_images(group, kernel, kind):
    torch.manual_seed(0)
    moves, table = grid_moves(group, 2), group.regular_table()
    actions = channel_actions(group)
    in_type, out_type = TYPES[kind]
    layer = GroupConv(in_type, out_type, kernel, moves, table, actions).double()
    check_against_copies(layer, moves, table, actions, any(m.angle for m in moves))


@pytest.mark.parametrize("group,dims", [(DihedralGroup(1), 1), (CyclicGroup(1), 1), (CubeGroup(False), 3),
                                        (CubeGroup(True), 3)], ids=["time reversal", "1D trivial", "O", "Oh"])
@pytest.mark.parametrize("kind", sorted(TYPES))
def test_gathered_bank_matches_copy_by_copy_on_sequences_and_volumes(group, dims, kind):
    torch.manual_seed(0)
    moves, table = grid_moves(group, dims), group.regular_table()
    in_type, out_type = TYPES[kind]
    layer = GroupConv(in_type, out_type, 3 if dims == 3 else 5, moves, table).double()
    check_against_copies(layer, moves, table, None, False)


def test_gathered_copies_for_a_quarter_turn_apart_differ_by_an_exact_rot90():
    group = CyclicGroup(8)
    lift = GroupConv((2, 0), (0, 3), 5, grid_moves(group, 2), group.regular_table())
    copies = lift.expand_weight().reshape(3, 8, 2, 5, 5)
    for r in range(8):
        assert torch.equal(copies[:, (r + 2) % 8], torch.rot90(copies[:, r], 1, dims=(-2, -1)))


def test_a_wrong_index_is_caught():
    """The comparison above can fail: a copy read at unrotated positions differs from the reference."""
    group = CyclicGroup(4)
    moves, table = grid_moves(group, 2), group.regular_table()
    lift = GroupConv((2, 0), (0, 3), 3, moves, table).double()
    lift.copies.regular_index.view(4, -1)[1] = lift.copies.regular_index.view(4, -1)[0]
    assert not torch.allclose(lift.expand_weight(), copy_by_copy(lift, moves, table, None))


def test_one_gather_per_kind_of_output_and_one_matmul_per_kind_of_input():
    """The bank of a steered hue lift is one matmul for the colour versions, one for the steering versions and one
    index_select; a plain group conv is one index_select alone."""
    group = DirectProduct(CyclicGroup(8), HueGroup(3))
    moves, table = grid_moves(group, 2), group.regular_table()
    calls = []

    def count(name):
        def hook(*args, **kwargs):
            calls.append(name)
            return real[name](*args, **kwargs)
        return hook

    real = {"index_select": torch.Tensor.index_select, "matmul": torch.Tensor.__matmul__}
    lift = GroupConv((3, 0), (0, 4), 5, moves, table, channel_actions(group))
    plain = GroupConv((0, 2), (0, 3), 3, grid_moves(CyclicGroup(4), 2), CyclicGroup(4).regular_table())
    try:
        torch.Tensor.index_select, torch.Tensor.__matmul__ = count("index_select"), count("matmul")
        lift.expand_weight()
        assert sorted(calls) == ["index_select", "matmul", "matmul"]
        calls.clear()
        plain.expand_weight()
        assert calls == ["index_select"]
    finally:
        torch.Tensor.index_select, torch.Tensor.__matmul__ = real["index_select"], real["matmul"]
