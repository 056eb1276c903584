"""The filter bank built in one gather equals the bank built copy by copy, values and gradients."""
import itertools

import pytest
import torch

from symc.groups import CyclicGroup, DihedralGroup
from symc.nn.conv import GroupConv2d, GroupLift2d
from symc.nn.grids import RegularConvNd, move_filters

GROUPS = [CyclicGroup(4), DihedralGroup(4), DihedralGroup(1), CyclicGroup(8), DihedralGroup(8), CyclicGroup(6)]


def copy_by_copy(layer):
    """The bank from FilterTransforms' per-element moves, stacked (the definition the gather must match)."""
    t = layer.transforms
    base = t.prepare(layer.weight)
    if isinstance(layer, GroupConv2d):
        copies = [t(base.index_select(2, layer.table[g]), g) for g in range(layer.order)]
    else:
        copies = [t(base, g) for g in range(layer.order)]
    return torch.stack(copies, dim=1).reshape(layer.expand_weight().shape)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize("kernel", [3, 5])
def test_gathered_bank_matches_copy_by_copy(group, kernel):
    torch.manual_seed(0)
    spatial = [group.spatial(i) for i in range(group.order)]
    steered = any(group.spatial(i)[1] * 4 % group.n for i in range(group.order))
    for layer in (GroupLift2d(3, 4, kernel, spatial).double(),
                  GroupConv2d(2, 3, kernel, spatial, group.regular_table()).double()):
        bank = layer.expand_weight()
        reference = copy_by_copy(layer)
        if steered:   # one float32 matrix per version instead of three float32 steps: round-off apart
            assert torch.allclose(bank, reference, rtol=0, atol=1e-6)
        else:
            assert torch.equal(bank, reference)
        seed = torch.randn_like(bank)
        (grad,) = torch.autograd.grad((bank * seed).sum(), layer.weight)
        (expected,) = torch.autograd.grad((reference * seed).sum(), layer.weight)
        assert torch.allclose(grad, expected, rtol=0, atol=1e-5 if steered else 1e-12)


def test_gathered_copies_for_a_quarter_turn_apart_differ_by_an_exact_rot90():
    group = CyclicGroup(8)
    lift = GroupLift2d(2, 3, 5, [group.spatial(i) for i in range(8)])
    copies = lift.expand_weight().reshape(3, 8, 2, 5, 5)
    for r in range(8):
        assert torch.equal(copies[:, (r + 2) % 8], torch.rot90(copies[:, r], 1, dims=(-2, -1)))


def test_a_wrong_index_is_caught():
    """The comparison above can fail: a copy read at unrotated positions differs from the reference."""
    group = CyclicGroup(4)
    lift = GroupLift2d(2, 3, 3, [group.spatial(i) for i in range(4)]).double()
    lift.expansion.view(4, -1)[1] = lift.expansion.view(4, -1)[0]
    assert not torch.allclose(lift.expand_weight(), copy_by_copy(lift))


@pytest.mark.parametrize("dims", [1, 3])
def test_grid_bank_matches_copy_by_copy(dims):
    torch.manual_seed(0)
    if dims == 1:
        spatial, kernel = [((0,), (0,)), ((0,), (1,))], 5
    else:
        spatial = [(p, f) for p in itertools.permutations(range(3)) for f in itertools.product((0, 1), repeat=3)]
        kernel = 3
    order = len(spatial)
    table = [[(h + g) % order for h in range(order)] for g in range(order)]   # any table: index bookkeeping only
    for layer in (RegularConvNd(3, 2, kernel, spatial), RegularConvNd(2, 2, kernel, spatial, table)):
        copies = []
        for g, (source, flips) in enumerate(layer.spatial):
            base = layer.weight if layer.lifting else layer.weight.index_select(2, layer.table[g])
            copies.append(move_filters(base, source, flips))
        reference = torch.stack(copies, dim=1).reshape(layer.expand_weight().shape)
        assert torch.equal(layer.expand_weight(), reference)
