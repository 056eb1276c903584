"""Mixed invariant/regular fields (`invariant fraction F`) and rotation-invariant positions (`no translation`).

- symc/nn: each of the four blocks of GroupConv between mixed field types is exactly equivariant on its own and all
  together, the blocks are the lifting and group convolutions they claim to be, and the norms, pools and orientation
  map keep the symmetry; symc/nn/positions.py: every channel is exactly unchanged by the group's right angles and
  mirrors, and the channels a group must not get (sin for mirrors, cos(N theta) for odd N) are not.
- Compiled models pass `symc check` exactly at odd and even sizes, F = 0 gives the same file as no hint, F = 1
  has only symmetric filters, parameters are exact, FLOPs agree with torch's counter, budgets land within 10%.
- A `no translation` model responds to where an object is while staying exactly C4-invariant; the same spec with
  translations does not. The tester catches planted breaks in both features.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import symc
from symc.cli import main
from symc.groups import CyclicGroup, DihedralGroup, is_exact
from symc.groups.actions import act_fields, act_image, act_orientation
from symc.ir.fields import split_width
from symc.groups.moves import grid_moves
from symc.nn.conv import GroupConv
from symc.nn.filters import move_filters
from symc.nn.layers import FieldLinear, FieldNorm, FieldPool
from symc.nn.positions import ImagePositions, image_positions
from symc.testing import check

GROUPS = [CyclicGroup(4), DihedralGroup(4), CyclicGroup(8), DihedralGroup(2), DihedralGroup(1)]
SPECS = Path(__file__).parent.parent / "specs"


def tables(group):
    return grid_moves(group, 2), group.regular_table()


def exact_elements(group):
    return [g for g in range(group.order) if is_exact(group, g)]


def act_mixed(group, g, y, trivial):
    """g acting on a mixed map: trivial channels moved spatially, regular fields also permuted along the group axis."""
    t, r = y[:, :trivial], y[:, trivial:]
    b, c, h, w = r.shape
    moved = act_fields(group, g, r.reshape(b, c // group.order, group.order, h, w)).reshape(b, c, h, w)
    return torch.cat([act_image(group, g, t), moved], dim=1)


def relative(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


# ---------------------------------------------------------------- the runtime layers

BLOCKS = {"trivial->trivial": (2, 0, 3, 0), "trivial->regular": (2, 0, 0, 3), "regular->trivial": (0, 2, 3, 0),
          "regular->regular": (0, 2, 0, 3), "all four": (2, 3, 4, 2)}


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("size", [11, 12])
def test_each_block_of_the_mixed_conv_is_exactly_equivariant(group, block, size):
    ti, ri, to, ro = BLOCKS[block]
    torch.manual_seed(0)
    moves, table = tables(group)
    conv = GroupConv((ti, ri), (to, ro), 5, moves, table, bias=True).double()
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(2, ti + ri * group.order, size, size, dtype=torch.float64)
    y = conv(x)
    assert y.shape == (2, to + ro * group.order, size, size)
    for g in exact_elements(group):
        assert relative(conv(act_mixed(group, g, x, ti)), act_mixed(group, g, y, to)) < 1e-12, (block, g)


def test_the_blocks_are_the_lifting_and_group_convolutions_and_the_symmetric_filter_is_symmetric():
    group = DihedralGroup(4)
    moves, table = tables(group)
    torch.manual_seed(0)
    conv = GroupConv((2, 3), (4, 5), 3, moves, table)
    lift, regular = GroupConv((2, 0), (0, 5), 3, moves, table), GroupConv((0, 3), (0, 5), 3, moves, table)
    with torch.no_grad():
        lift.weight_tr.copy_(conv.weight_tr)
        regular.weight_rr.copy_(conv.weight_rr)
    bank = conv.expand_weight()
    assert bank.shape == (4 + 5 * 8, 2 + 3 * 8, 3, 3)
    assert torch.equal(bank[4:, :2], lift.expand_weight())
    assert torch.equal(bank[4:, 2:], regular.expand_weight())
    symmetric = bank[:4, :2]
    assert torch.allclose(torch.rot90(symmetric, 1, dims=(-2, -1)), symmetric, atol=1e-7)
    assert torch.allclose(torch.flip(symmetric, dims=(-1,)), symmetric, atol=1e-7)
    assert not torch.allclose(conv.weight_tt, symmetric)   # the base filter itself is free
    # regular -> trivial: input slot h holds copy h of one base filter per field pair
    slots = bank[:4, 2:].reshape(4, 3, 8, 3, 3)
    for h in range(8):
        assert torch.equal(slots[:, :, h], move_filters(conv.weight_rt, moves[h].source, moves[h].flips))
    assert sum(p.numel() for p in conv.parameters()) == 9 * (4 * 2 + 5 * 2 + 4 * 3 + 5 * 3 * 8)


def test_mixed_conv_fft_matches_direct_and_the_eval_cache_follows_every_block():
    group = CyclicGroup(4)
    moves, table = tables(group)
    torch.manual_seed(0)
    direct = GroupConv((2, 2), (2, 2), 7, moves, table, bias=True).eval()
    fft = GroupConv((2, 2), (2, 2), 7, moves, table, bias=True, algorithm="fft").eval()
    fft.load_state_dict(direct.state_dict())
    x = torch.randn(2, 10, 16, 16)
    assert relative(fft(x), direct(x)) < 1e-5
    before = direct(x)
    with torch.no_grad():
        direct.weight_rt.add_(1.0)   # an in-place change to one block only
    assert relative(direct(x), before) > 1e-3


@pytest.mark.parametrize("kind", ["batch", "layer", "group"])
def test_mixed_norm_pool_and_orientation_map_keep_the_symmetry(kind):
    group = DihedralGroup(4)
    torch.manual_seed(0)
    norm = FieldNorm((3, 2), 8, kind).train()
    x = torch.randn(4, 3 + 16, 9, 9) * 3 + 1
    y = norm(x)
    assert sum(p.numel() for p in norm.parameters()) == 2 * (3 + 2)
    for g in exact_elements(group):
        assert relative(norm(act_mixed(group, g, x, 3)), act_mixed(group, g, y, 3)) < 1e-5
    # per-field statistics: each trivial channel and each regular field (all 8 of its channels) is normalized
    if kind == "batch":
        assert y[:, :3].mean(dim=(0, 2, 3)).abs().max() < 1e-5
        assert y[:, 3:].reshape(4, 2, 8 * 81).transpose(0, 1).reshape(2, -1).mean(dim=1).abs().max() < 1e-5
    pool = FieldPool((3, 2), 8, "max")
    pooled = pool(x)
    assert pooled.shape == (4, 5, 9, 9) and torch.equal(pooled[:, :3], x[:, :3])
    for g in exact_elements(group):
        assert relative(pool(act_mixed(group, g, x, 3)), act_image(group, g, pooled)) < 1e-12
    linear = FieldLinear((3, 2), 4, 8)
    features = x.mean(dim=(-2, -1))
    scores = linear(features)
    assert scores.shape == (4, 4, 8)
    for g in range(group.order):
        moved = act_mixed(group, g, x, 3).mean(dim=(-2, -1))
        assert relative(linear(moved), act_orientation(group, g, scores)) < 1e-5


@pytest.mark.parametrize("group", GROUPS + [CyclicGroup(16), DihedralGroup(3)], ids=lambda g: g.name)
@pytest.mark.parametrize("size", [(7, 7), (8, 8), (6, 9)])
def test_position_channels_are_exactly_unchanged_by_the_group(group, size):
    from symc.ir.fields import planar_kind
    kind, n = planar_kind(group)
    p = image_positions(kind, n, *size, torch.device("cpu")).double()[None]
    assert p.shape[1] == {"cyclic": 3, "dihedral": 2, "flip": 2}[kind]
    checked = 0
    for g in exact_elements(group):
        moved = act_image(group, g, p)
        if moved.shape != p.shape:   # quarter turns of a non-square grid
            continue
        assert (moved - p).abs().max() < 1e-5, (group.name, g)   # float32 round-off of the angles
        checked += 1
    assert checked >= 1
    radius = p[0, 0]
    assert radius.max() == pytest.approx(1.0) and radius.min() < 0.2


def test_the_channels_left_out_would_break_the_mirrors():
    """sin(N theta) changes sign under the mirror, and for odd N so does cos(N theta) with theta from the
    horizontal: D_N keeps cos(N phi), phi measured from the mirror's axis."""
    group = DihedralGroup(4)
    cyclic = image_positions("cyclic", 4, 8, 8, torch.device("cpu"))[None].double()
    mirrored = act_image(group, 4, cyclic)   # element 4 = the mirror
    assert (mirrored[:, 2] + cyclic[:, 2]).abs().max() < 1e-6 and cyclic[:, 2].abs().max() > 0.5   # sin flips sign
    odd = image_positions("cyclic", 3, 9, 9, torch.device("cpu"))[None].double()
    assert (act_image(DihedralGroup(3), 3, odd)[:, 1] - odd[:, 1]).abs().max() > 0.5
    coordinates = image_positions("coordinates", 1, 8, 8, torch.device("cpu"))[None].double()
    assert (act_image(CyclicGroup(4), 1, coordinates) - coordinates).abs().max() > 0.5


def test_positions_follow_the_input_size_and_dtype():
    module = ImagePositions("dihedral", 4)
    y = module(torch.randn(2, 3, 5, 5, dtype=torch.float64))
    assert y.shape == (2, 5, 5, 5) and y.dtype == torch.float64
    assert torch.equal(y[0, 3:], y[1, 3:]) and y[0, 3, 2, 2] == 0   # radius 0 at the centre of an odd image
    assert ImagePositions("coordinates")(torch.zeros(1, 1, 1, 1)).shape == (1, 3, 1, 1)


# ---------------------------------------------------------------- compiled models

def split_of(text):
    compiled = symc.compile(text)
    return compiled, compiled.plan.architecture


@pytest.mark.parametrize("text, sizes", [
    ("image; C4; invariant output 3; equivariant output 2; invariant fraction 0.5; depth 3; width 6", [16, 17]),
    ("image; D4; equivariant output 2 fields; orientation output 2; invariant fraction 0.5; depth 2; width 5",
     [12, 13]),
    ("image; C8; invariant output 2; orientation output 2; invariant fraction 0.5; depth 2; width 5", [14, 15]),
    ("image; rotation 16; invariant fraction 0.5; invariant output 3; depth 2; width 6", [14, 15]),
    ("image; D4; invariant output 2; invariant fraction 0.25; depth 3; width 5; norm layer; conv fft", [13]),
    ("image; p4; invariant output 2; invariant fraction 1; depth 2; width 5", [10, 11]),
    ("image; no translation; rotation 4; invariant output 3; equivariant output 1; depth 2; width 8", [16, 17]),
    ("image; no translation; D4; invariant output 2; orientation output 2; depth 2; width 4", [12, 13]),
    ("image; no translation; rotation 8; invariant output 2; invariant fraction 0.5; depth 2; width 4", [14, 15]),
    ("image 3x20x14; no translation; flip; invariant output 2; depth 2; width 4", None),
    ("image; no translation; invariant output 2; depth 2; width 8", [9, 10]),
])
def test_compiled_models_pass_the_check_at_odd_and_even_sizes(text, sizes):
    torch.manual_seed(0)
    compiled = symc.compile(text)
    report = check(compiled.new_module(), compiled.spec, sizes=sizes)
    assert report.ok, str(report)
    exact = [row.error for row in report.rows if row.exact and row.element != "identity"]
    assert max(exact, default=0.0) < 1e-4 and (exact or compiled.plan.symmetry.order == 1)


def test_fraction_zero_gives_the_same_file_as_no_hint():
    text = "image 1x28x28; D4; invariant output 3; orientation output 2"
    plain = symc.compile(text)
    zero = symc.compile(text + "; invariant fraction 0")
    spec_plain, spec_zero = plain.spec.normalized(), zero.spec.normalized()
    assert spec_zero == spec_plain + "; invariant fraction 0.0"
    assert zero.source.replace(spec_zero, spec_plain) == plain.source
    # no trivial fields anywhere but the lift's plain input, and no position channels
    types = re.findall(r"GroupConv\(\((\d+), (\d+)\), \((\d+), (\d+)\)", plain.source)
    assert types and all(out_trivial == "0" for _, _, out_trivial, _ in types)
    assert all(in_trivial == "0" or in_regular == "0" for in_trivial, in_regular, _, _ in types)
    assert "ImagePositions" not in plain.source


def test_fraction_one_has_only_invariant_fields_and_symmetric_filters():
    compiled = symc.compile("image; p4; invariant output 2; invariant fraction 1; depth 3; width 4")
    assert "4 scalars + 0 x C4" in str(compiled.plan)
    model = compiled.new_module()
    convs = [m for m in model.modules() if type(m).__name__ == "GroupConv"]
    assert len(convs) == 3
    for conv in convs:
        assert [name for name, _ in conv.named_parameters()] == ["weight_tt"]
        bank = conv.expand_weight()
        assert torch.allclose(torch.rot90(bank, 1, dims=(-2, -1)), bank, atol=1e-7)


@pytest.mark.parametrize("width, fraction, expected", [(10, 0.5, (5, 5)), (7, 0.5, (4, 3)), (1, 0.5, (0, 1)),
                                                       (8, 0.999, (7, 1)), (8, 1.0, (8, 0)), (8, 0.0, (0, 8)),
                                                       (8, 0.01, (0, 8))])
def test_width_split(width, fraction, expected):
    assert split_width(width, fraction) == expected


@pytest.mark.parametrize("text, budget", [
    ("image 3x32x32; p4; invariant output 10; invariant fraction 0.5; params 200k", 200_000),
    ("image 3x48x48; rotation 16; invariant output 10; invariant fraction 0.5; params 500k", 500_000),
    ("image 1x28x28; D4; invariant output 5; invariant fraction 0.25; params 50k", 50_000),
    ("image 1x28x28; C8; equivariant output 2 fields; invariant fraction 0.75; params 100k", 100_000),
])
def test_params_budget_with_mixed_widths_lands_within_ten_percent(text, budget):
    compiled = symc.compile(text)
    assert abs(compiled.plan.params - budget) <= 0.1 * budget
    assert compiled.plan.params == sum(p.numel() for p in compiled.module.parameters())
    assert "params budget" in compiled.plan.architecture.reasons["widths"]


def test_default_mixed_widths_keep_parameters_near_the_regular_model():
    regular = symc.compile("image 3x32x32; rotation 16; invariant output 10")
    mixed = symc.compile("image 3x32x32; rotation 16; invariant output 10; invariant fraction 0.5")
    assert 0.7 < mixed.plan.params / regular.plan.params < 1.4
    assert all(m > r for m, r in zip(mixed.plan.architecture.widths, regular.plan.architecture.widths))
    assert "sqrt(1 + (1-F)^2 (|G|-1))" in mixed.plan.architecture.reasons["widths"]


@pytest.mark.parametrize("text", [
    "image 3x24x24; p4; invariant output 3; orientation output 2; invariant fraction 0.5; depth 3",
    "image 1x20x20; C8; equivariant output 2 fields; invariant fraction 0.5; depth 2; width 6",
    "image 1x24x24; D4; no translation; invariant output 3; equivariant output 2; depth 3",
])
def test_parameters_are_exact_and_flops_agree_with_torch(text):
    compiled = symc.compile(text)
    model = compiled.module.eval()
    assert compiled.plan.params == sum(p.numel() for p in model.parameters())
    x = torch.randn(2, compiled.spec.domain.channels, *compiled.plan.architecture.input_size)
    model(x)
    with FlopCounterMode(display=False) as counter:
        model(x)
    counted = counter.get_total_flops() / 2
    assert abs(compiled.plan.flops - counted) <= 0.02 * counted


def test_plan_states_the_split_and_the_positions():
    plan = str(symc.plan("image 1x28x28; p4; no translation; invariant output 2; invariant fraction 0.5"))
    assert "invariant fraction: 0.5: round(0.5 x W) trivial fields" in plan
    assert "position encoding: radial (auto)" in plan and "radius, cos 4theta, sin 4theta" in plan
    assert re.search(r"\d+_position +position +1x28x28 +4x28x28", plan)
    assert "mixed fields: symmetric (trivial->trivial)" in plan
    coordinates = str(symc.plan("image 1x28x28; no translation; invariant output 2"))
    assert "coordinates (auto)" in coordinates and "x, y" in coordinates
    none = symc.compile("image 1x28x28; p4; no translation; invariant output 2; position encoding none")
    assert "ImagePositions" not in none.source and "none (hint)" in str(none.plan)


@pytest.mark.parametrize("text, phrase", [
    ("image; p4; invariant output; position encoding radial", "breaks the declared translation symmetry; supported with 'no translation'"),
    ("image; p4; no translation; invariant output; position encoding rotary", "not supported yet for images"),
    ("image; p4; orientation output; invariant fraction 1", "leaves no regular fields"),
    ("image; p4; equivariant output 2 fields; invariant fraction 1", "'equivariant output 2 fields' would be"),
    ("image; p4; invariant output; invariant fraction 1.2", "between 0 and 1"),
])
def test_refusals_name_the_clause(text, phrase):
    with pytest.raises(symc.SpecError, match=re.escape(phrase)):
        symc.compile(text)


def test_check_report_says_no_translations_are_claimed():
    torch.manual_seed(0)
    text = "image 1x12x12; p4; no translation; invariant output 2; depth 2; width 3"
    report = str(check(symc.compile(text).module, text))
    assert "translations: none claimed ('no translation'" in report and "not tested: translations" not in report
    assert not re.search(r"^\S+\s+(shift|translat)", report, re.M)   # no translation rows
    shifts = text.replace("no translation; ", "")
    assert "not tested: translations" in str(check(symc.compile(shifts).module, shifts))


# ---------------------------------------------------------------- absolute position

def blob(size: int, row: float, col: float) -> torch.Tensor:
    r = torch.arange(size, dtype=torch.float32)
    return torch.exp(-((r[:, None] - row) ** 2 + (r[None, :] - col) ** 2) / 4.0)[None, None]


def test_no_translation_models_see_the_radius_and_stay_exactly_c4_invariant():
    """A blob at the centre and the same blob 24 pixels towards a corner (a multiple of the total stride 4).
    Measured against the blob's own effect on the output (blob minus empty image): the translation-equivariant
    model barely tells the two places apart (boundary effects, about 1%), the `no translation` one changes by about
    as much as the blob itself does, and both stay exactly C4-invariant."""
    size, centre = 64, 31.5
    results = {}
    for name, text in [("shifts", "image 1x64x64; rotation 4; invariant output 4; depth 3; width 6"),
                       ("positions", "image 1x64x64; rotation 4; no translation; invariant output 4; depth 3; "
                                     "width 6")]:
        torch.manual_seed(1)
        compiled = symc.compile(text)
        model = compiled.new_module().eval()
        x = torch.cat([torch.zeros(1, 1, size, size), blob(size, centre, centre),
                       blob(size, centre + 24, centre + 24), blob(size, centre - 24, centre + 24)])
        with torch.no_grad():
            y = model(x)
            turned = model(torch.rot90(x, 1, dims=(-2, -1)))
        results[name] = ((y[2] - y[1]).norm() / (y[1] - y[0]).norm()).item()
        assert relative(turned, y) < 1e-4
        # the two corner positions are a quarter turn apart: the same radius, the same output
        assert relative(y[3], y[2]) < 1e-4
        assert check(model, text).ok
    assert results["shifts"] < 0.05, results
    assert results["positions"] > 0.3, results
    assert results["positions"] > 10 * results["shifts"], results


# ---------------------------------------------------------------- the tester catches breaks in both features

MIXED = "image 1x17x17; p4; invariant output 3; orientation output 2; invariant fraction 0.5; depth 2; width 4"
POSITIONS = "image 1x18x18; p4; no translation; invariant output 3; depth 2; width 4"
BREAKS = {
    # the trivial->trivial filter is one copy rather than the group average: not symmetric
    "symmetric block not averaged": (MIXED, "symmetric.reshape(self.out_trivial, order, ti * taps).mean(dim=1)",
                                     "symmetric.reshape(self.out_trivial, order, ti * taps)[:, 1]"),
    # regular->trivial: every input slot gets the unmoved base filter
    "slot copies not moved": (MIXED, "        slots = slots[..., None] + pixels[None, None, :, :]",
                              "        slots = slots[..., None] + pixels[None, None, :1, :]"),
    # trivial fields of the orientation head fed only to the first element of the group axis
    "trivial features on one element only": (
        MIXED, "            scores = scores + self.trivial_linear(trivial).unsqueeze(2)",
        "            scores = scores + torch.nn.functional.pad(self.trivial_linear(trivial).unsqueeze(2), "
        "(0, self.order - 1))"),
    # position channels with half the angular frequency: unchanged by 180 degrees, not by 90
    "positions of the wrong frequency": (POSITIONS, 'ImagePositions("cyclic", 4)', 'ImagePositions("cyclic", 2)'),
}


@pytest.mark.parametrize("name", sorted(BREAKS) + ["unedited mixed", "unedited positions"])
def test_symc_check_catches_planted_breaks(tmp_path, capsys, name):
    if name.startswith("unedited"):
        spec, old, new = (MIXED if name.endswith("mixed") else POSITIONS), "", ""
    else:
        spec, old, new = BREAKS[name]
    source = symc.compile(spec).source
    if old:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    path = tmp_path / "model.py"
    path.write_text(source.replace("import torch\n", "import torch\ntorch.manual_seed(0)\n", 1))
    code = main(["check", str(path)])
    out = capsys.readouterr().out
    failing = [line for line in out.splitlines() if re.match(r"\d+x\d+\s", line) and " FAIL" in line]
    if not old:
        assert code == 0 and not failing, out
        return
    assert code == 1 and failing, out
    assert all("identity" not in line for line in failing), out
    if name == "positions of the wrong frequency":
        assert {line.split()[2] for line in failing} == {"90", "270"}, out


# ---------------------------------------------------------------- example specs

def example_specs():
    return sorted(p for p in SPECS.glob("*.sym") if p.stem.startswith(("mixed_", "positions_")))


def test_there_are_examples_of_both_features():
    names = [p.stem for p in example_specs()]
    assert any(n.startswith("mixed_") for n in names) and any(n.startswith("positions_") for n in names)


@pytest.mark.parametrize("path", example_specs(), ids=lambda p: p.stem)
def test_example_specs_pass_symc_check(path, tmp_path, capsys):
    compiled = symc.compile(path)
    target = compiled.write(tmp_path / "model.py")
    assert main(["check", str(target)]) == 0, capsys.readouterr().out
