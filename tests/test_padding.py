"""The `padding` and `downsample` hints: convolutions that shrink the grid evenly about its centre, and halvings
placed by the user; sizes, exactness, FFT against direct, refusals at the clause."""
from __future__ import annotations

import pytest
import torch

import symc
from symc.nn.conv import GroupConv
from symc.groups import CyclicGroup
from symc.groups.moves import grid_moves
from symc.testing import check

TUTORIAL = ("image 1x29x29; rotation 8; invariant output 10; widths 4,4,4,4,4,4; kernel 7,5,5,5,5,5; "
            "padding 1,2,2,2,2,1; downsample after 2,4")


def sides(compiled) -> list[tuple[int, ...]]:
    """The planned grid after each convolution."""
    graph = compiled.plan.graph
    return [graph.nodes[n]["out"].spatial for n in graph.nodes
            if graph.nodes[n]["op"] in ("lift", "group_conv", "steer_conv") and graph.nodes[n]["kernel"] > 1]


# ---------------------------------------------------------------- the language

@pytest.mark.parametrize("text,padding,downsample,normalized", [
    ("image; p4; invariant output 2; padding valid", "valid", None, "padding valid"),
    ("image; p4; invariant output 2; padding same", "same", None, "padding same"),
    ("image; p4; invariant output 2; Padding 0", (0,), None, "padding 0"),
    ("image; p4; invariant output 2; depth 3; padding 1,0,2; downsample after 1,3", (1, 0, 2), (1, 3),
     "padding 1,0,2; downsample after 1,3"),
    ("image; p4; invariant output 2; downsample none", None, (), "downsample none"),
])
def test_the_hints_parse_and_print_back(text, padding, downsample, normalized):
    spec = symc.parse(text)
    assert spec.hints.padding == padding and spec.hints.downsample == downsample
    assert spec.normalized().endswith(normalized)
    assert symc.parse(spec.normalized()).hints == spec.hints


@pytest.mark.parametrize("text,column,phrase", [
    ("image; p4; invariant output 2; padding 1,2; depth 3", 45, "disagree on the number of layers: 3 and 2"),
    ("image; p4; invariant output 2; padding 1.5", 40, "a padding must be a whole number, not 1.5"),
    ("image; p4; invariant output 2; padding wide", 40, "unknown word 'wide'"),
    ("image; p4; invariant output 2; downsample after 3,2", 32, "must list layers in increasing order"),
    ("image; p4; invariant output 2; downsample after 0", 49, "a layer number must be at least 1"),
    ("sequence 2x64; translation; invariant output 2; boundary circular; padding valid", 68,
     "a circular boundary wraps the grid around and keeps its size"),
    ("set 10x3; permutation; invariant output 2; padding valid", 44, "is for the borders of grid convolutions"),
    ("sequence 2x64; translation; invariant output 2; downsample after 1", 49, "is for halving grids"),
])
def test_bad_hints_are_refused_at_the_clause(text, column, phrase):
    with pytest.raises(symc.SpecError, match=phrase) as error:
        symc.compile(text)
    assert (error.value.line, error.value.column) == (1, column), str(error.value)


@pytest.mark.parametrize("text,phrase", [
    ("image; p4; invariant output 2; kernel 3; padding 2",
     "layer 1 pads 2 on each side with a 3-wide kernel, which would grow the grid: pad at most 1"),
    ("image 1x12x12; p4; invariant output 2; depth 4; kernel 5; padding valid",
     r"'padding valid' shrinks the grid of side 12 to nothing by layer 3 \(sides 12, 8, 4, 0\): inputs need a "
     "side of at least 17"),
    ("image; p4; invariant output 2; depth 3; downsample after 4", "names layer 4, but the model has 3 layers"),
    ("image 1x16x16; p4; equivariant output 2; downsample after 1",
     "halves the grid, but an equivariant output keeps the input's resolution"),
    ("image 1x16x16; scale 3; invariant output 2; padding valid", "scale groups keep every layer at the input's size"),
])
def test_plans_that_cannot_hold_are_refused_with_the_reason(text, phrase):
    with pytest.raises(symc.SpecError, match=phrase) as error:
        symc.compile(text)
    assert error.value.column > 1


# ---------------------------------------------------------------- sizes

def test_the_tutorial_paddings_give_the_tutorial_sizes():
    compiled = symc.compile(TUTORIAL)
    assert sides(compiled) == [(25, 25), (25, 25), (13, 13), (13, 13), (7, 7), (5, 5)]
    assert compiled.plan.min_size == 16
    assert "padding hint: 1, 2, 2, 2, 2, 1 on each side" in str(compiled.plan)
    assert "halve after layers 2, 4" in str(compiled.plan)
    model = compiled.new_module().eval()
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match="at least 16"):
        model(torch.randn(2, 1, 15, 15))


def test_same_padding_written_out_is_the_default_model():
    plain = symc.compile("image 1x20x20; p4; invariant output 3; kernel 5,3,3")
    same = symc.compile("image 1x20x20; p4; invariant output 3; kernel 5,3,3; padding 2,1,1")
    assert same.plan.architecture.paddings == () and sides(same) == sides(plain)
    assert same.source.replace(same.spec.normalized(), "") == plain.source.replace(plain.spec.normalized(), "")


def test_an_equivariant_output_shrinks_with_the_valid_convolutions():
    compiled = symc.compile("image 1x20x20; p4m; equivariant output 3; kernel 5,3; padding valid")
    assert sides(compiled) == [(16, 16), (14, 14)]
    assert compiled.new_module()(torch.randn(2, 1, 21, 21)).shape == (2, 3, 15, 15)


def test_a_spec_without_a_size_is_planned_at_one_its_layers_fit():
    compiled = symc.compile("image; p4; invariant output 2; depth 8; kernel 9; padding valid; downsample none")
    assert compiled.plan.min_size == 65
    assert compiled.plan.architecture.input_size == (65, 65)
    assert "any size of at least 65 works" in str(compiled.plan)


# ---------------------------------------------------------------- exactness

@pytest.mark.parametrize("text", [
    "image 1x21x21; p4m; invariant output 3; widths 3,4,4; kernel 5,3,3; padding 0,1,0",
    "image 1x21x21; p4m; equivariant output 2; widths 3,4; kernel 5,3; padding 1,0",
    "image 1x24x24; p4; invariant output 3; widths 3,4,4; kernel 5,3,3; padding valid; downsample after 1",
    "image 1x21x21; p4; invariant output 3; widths 3,4; kernel 5,3; padding valid; invariant fraction 0.5",
    "image 1x21x21; p4; invariant output 3; widths 3,4; kernel 5,3; padding valid; conv fft",
    "image 1x21x21; SO(2); invariant output 3; widths 2,2; kernel 5,5; padding 1,0",
    "sequence 2x40; time reversal; invariant output 2; widths 3,3; kernel 7,5; padding valid",
    "volume 1x11x11x11; octahedral; invariant output 2; widths 2,2; kernel 3,3; padding 0,1",
])
@pytest.mark.parametrize("offset", [0, 1])
def test_shrinking_models_stay_exact_at_odd_and_even_sizes(text, offset):
    torch.manual_seed(0)
    compiled = symc.compile(text)
    size = compiled.plan.architecture.input_size
    report = check(compiled.new_module(), compiled.spec, sizes=[tuple(s + offset for s in size)])
    exact = [row for row in report.rows if row.exact]
    assert len(exact) > 1 and all(row.error < 1e-4 for row in exact), str(report)


def test_the_tester_flags_a_crop_off_the_centre():
    """Cropping one side more than the other breaks rotations: the tester must see it."""
    torch.manual_seed(0)
    compiled = symc.compile("image 1x21x21; p4; invariant output 3; widths 3,4; kernel 5,3; padding valid")
    model = compiled.new_module()

    class OffCentre(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x[..., 1:, 1:])

    report = check(OffCentre(), compiled.spec, sizes=[(21, 21)])
    assert not report.ok and any(not row.ok for row in report.rows if row.exact)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_fft_and_direct_agree_on_every_padding(padding):
    group = CyclicGroup(4)
    moves, table = grid_moves(group, 2), group.regular_table()
    torch.manual_seed(0)
    direct = GroupConv((0, 2), (1, 3), 5, moves, table, bias=True, padding=padding).double()
    fft = GroupConv((0, 2), (1, 3), 5, moves, table, bias=True, padding=padding, algorithm="fft").double()
    fft.load_state_dict(direct.state_dict())
    x = torch.randn(2, 8, 13, 12, dtype=torch.float64)
    a, b = direct(x), fft(x)
    assert a.shape == (2, 13, 13 + 2 * padding - 4, 12 + 2 * padding - 4)
    assert torch.allclose(a, b, atol=1e-10)


def test_the_layer_refuses_a_padding_that_grows_the_grid():
    group = CyclicGroup(4)
    with pytest.raises(ValueError, match="padding must be between 0 and kernel_size // 2 = 1, got 2"):
        GroupConv((1, 0), (0, 2), 3, grid_moves(group, 2), group.regular_table(), padding=2)


def test_shrinking_models_script_and_match_eager():
    torch.manual_seed(0)
    compiled = symc.compile("image 1x21x21; p4; invariant output 3; widths 3,4; kernel 5,3; padding 1,0")
    model = compiled.new_module().eval()
    scripted = torch.jit.script(model)
    x = torch.randn(2, 1, 21, 21)
    assert torch.allclose(scripted(x), model(x), atol=1e-6)


def test_the_tester_accepts_centred_crops_only_when_the_spec_shrinks():
    torch.manual_seed(0)
    compiled = symc.compile("image 1x21x21; p4; equivariant output 2; widths 3,4; kernel 5,3; padding valid")
    model = compiled.new_module()

    class Uneven(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x)[..., 1:, 1:]

    report = check(Uneven(), compiled.spec, sizes=[(21, 21)])
    assert not report.ok and "has shape (4, 2, 14, 14), expected (4, 2, 21, 21)" in str(report)
    same = symc.parse("image 1x21x21; p4; equivariant output 2; widths 3,4; kernel 5,3")
    report = check(model, same, sizes=[(21, 21)])
    assert not report.ok and "has shape (4, 2, 15, 15), expected (4, 2, 21, 21)" in str(report)
