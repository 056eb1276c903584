"""Hue rotations of RGB images and their products with rotations and mirrors: the group, the models symc writes,
the documented numbering of the group axis, and a tester that catches models without hue symmetry."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import symc
from symc.cli import main
from symc.groups import DihedralGroup, DirectProduct, hue_matrix, hue_of, image_group, point_group
from symc.groups.actions import act_fields, act_hue, act_image, act_input
from symc.groups.moves import channel_actions, grid_moves
from symc.nn.conv import GroupConv, hue_rotations
from symc.plan.sizing import plain_channels
from symc.spec import parse
from symc.testing import EXACT_TOLERANCE, check

SPECS = Path(__file__).resolve().parent.parent / "specs"


def group_of(text: str):
    return image_group(parse(text).symmetry)


def build(text: str, seed: int = 0):
    torch.manual_seed(seed)
    compiled = symc.compile(text)
    return compiled, compiled.module.eval()


def failing(report) -> set[str]:
    return {row.element for row in report.rows if not row.ok}


# ---------------------------------------------------------------- the group

@pytest.mark.parametrize("n", [2, 3, 5, 6, 7])
def test_hue_matrices_are_rotations_about_the_grey_axis_that_compose(n):
    grey = torch.ones(3, dtype=torch.float64)
    for step in range(n):
        m = torch.tensor(hue_matrix(step, n), dtype=torch.float64)
        assert torch.allclose(m @ m.T, torch.eye(3, dtype=torch.float64), atol=1e-14)
        assert abs(torch.linalg.det(m).item() - 1) < 1e-14
        assert torch.allclose(m @ grey, grey, atol=1e-14)            # grey stays grey
        t = 2 * math.pi * step / n
        assert abs(torch.trace(m).item() - (1 + 2 * math.cos(t))) < 1e-14  # turned by exactly t
        following = torch.tensor(hue_matrix((step + 1) % n, n), dtype=torch.float64)
        assert torch.allclose(m @ torch.tensor(hue_matrix(1, n), dtype=torch.float64), following, atol=1e-14)


def test_a_third_of_a_turn_sends_red_to_green_which_is_a_channel_roll():
    group = group_of("image; hue 3; invariant output")
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    assert torch.allclose(act_hue(group, 1, x), torch.roll(x, 1, dims=-3), atol=1e-14)
    red = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    sixth = torch.tensor(hue_matrix(1, 6), dtype=torch.float64) @ red   # 60 degrees: towards yellow
    assert torch.allclose(sixth, torch.tensor([2 / 3, 2 / 3, -1 / 3], dtype=torch.float64), atol=1e-14)


def test_products_number_elements_spatial_index_times_hue_order_plus_hue_step():
    group = group_of("image 3x8x8; p4m x hue 3; invariant output")
    planar = DihedralGroup(4)
    assert isinstance(group, DirectProduct) and group.order == 24 and group.name == "D4 x hue 3"
    for i in range(24):
        s, k = divmod(i, 3)
        assert group.spatial(i) == planar.spatial(s) and hue_of(group, i) == (k, 3)
    assert group.element_name(0) == "identity"
    assert group.element_name(1) == "hue 120" and group.element_name(3) == "rot 90"
    assert group.element_name(3 * 5 + 2) == "flip then rot 90, hue 240"
    assert group_of("image; hue 5; invariant output").name == "hue 5"
    assert group_of("image; flip x hue 6; invariant output").name == "D1 x hue 6"


@pytest.mark.parametrize("text", ["image; hue 3", "image; C4 x hue 3", "image; D4 x hue 3", "image; flip x hue 6",
                                  "image; D8 x hue 3"])
def test_products_are_groups_and_their_regular_table_is_a_representation(text):
    group = group_of(text)
    n = group.order
    table = group.cayley()
    assert all(table[0][i] == i == table[i][0] for i in range(n))
    assert all(table[i][group.inverse(i)] == 0 for i in range(n))
    triples = [(a, b, c) for a in range(n) for b in range(n) for c in range(0, n, 5)]
    assert all(table[table[a][b]][c] == table[a][table[b][c]] for a, b, c in triples)
    regular = group.regular_table()
    for g in range(n):
        for h in range(0, n, 3):
            # doing h then g on group-indexed data equals doing gh
            assert all(regular[h][regular[g][x]] == regular[table[g][h]][x] for x in range(n))


def test_the_layer_and_the_tester_compute_the_same_hue_matrices_independently():
    hue = [(k, n) for n in (2, 3, 5, 6, 8) for k in range(n)]
    judged = hue_rotations(hue)
    judge = torch.tensor([hue_matrix(k, n) for k, n in hue], dtype=torch.float64)
    assert torch.allclose(judged, judge, atol=1e-15)
    permutation = torch.tensor([[0.0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=torch.float64)
    assert torch.equal(hue_rotations([(1, 3)])[0], permutation)   # red to green, exactly
    # the groups' channel actions (symc.groups.moves) are these matrices too
    group = group_of("image; D4 x hue 6")
    actions = torch.tensor(channel_actions(group), dtype=torch.float64)
    assert torch.allclose(actions, hue_rotations([hue_of(group, i) for i in range(48)]), atol=1e-15)
    with pytest.raises(ValueError, match="the first 3 input channels \\(RGB for hue rotations\\), got 1"):
        GroupConv((1, 0), (0, 2), 3, grid_moves(group, 2), group.regular_table(), channel_actions(group))


def test_groups_without_hue_are_the_planar_groups_unchanged():
    for text in ("image; p4", "image; D4", "image; flip", "image; C8", "image 3x8x8; C4 x hue 1"):
        factors = parse(text).symmetry
        assert image_group(factors) == point_group(factors)


# ---------------------------------------------------------------- compiled models are exact

ALL_OUTPUTS = "invariant output 2; equivariant output 2; equivariant output 2 fields; orientation output 2"
EXACT_SPECS = {
    "hue 3": "image 3x{s}x{s}; hue 3; " + ALL_OUTPUTS + "; depth 2; width 3",
    "hue 5": "image 3x{s}x{s}; hue 5; " + ALL_OUTPUTS + "; depth 2; width 3",        # not a channel permutation
    "C4 x hue 3": "image 3x{s}x{s}; rotation 4 x hue 3; " + ALL_OUTPUTS + "; depth 2; width 3",
    "D4 x hue 3": "image 3x{s}x{s}; D4 x hue 3; " + ALL_OUTPUTS + "; depth 2; width 2",
    "flip x hue 6": "image 3x{s}x{s}; flip x hue 6; " + ALL_OUTPUTS + "; depth 2; width 3",
}


# Every group at an odd and an even size (pixel centre on a pixel, or between pixels); the products with rotations
# also at 29.
CASES = [(name, size) for name in sorted(EXACT_SPECS) for size in (15, 16)] + [("C4 x hue 3", 29), ("D4 x hue 3", 29)]


@pytest.mark.parametrize("name,size", CASES)
def test_hue_models_are_exact_for_every_element_and_output(name, size):
    compiled, model = build(EXACT_SPECS[name].format(s=size))
    report = check(model, compiled.spec)
    assert report.ok, str(report)
    assert len(report.rows) == compiled.plan.symmetry.order * 4
    assert all(row.exact for row in report.rows) and report.max_error < EXACT_TOLERANCE
    if size == 16:   # in float64 the models are exact to round-off: no approximation anywhere
        report64 = check(model.double(), compiled.spec, dtype=torch.float64)
        assert report64.ok and report64.max_error < 1e-9, str(report64)


# ---------------------------------------------------------------- the group axis moves as the README says

def rotated(x, r):
    return torch.rot90(x, r, dims=(-2, -1))


def test_c4_times_hue_roll_the_group_axis_viewed_as_rotations_by_hues():
    compiled, model = build("image 3x15x15; rotation 4 x hue 3; equivariant output 2 fields; orientation output 2; "
                            "depth 2; width 3")
    x = torch.randn(2, 3, 15, 15)
    with torch.no_grad():
        fields, scores = model(x)
        for r in range(4):
            for k in range(3):
                moved_fields, moved_scores = model(rotated(torch.roll(x, k, dims=1), r))
                # index = r*3 + k: seen as a (4, 3) grid the group axis rolls by r steps and k hue steps
                expected_scores = scores.reshape(2, 2, 4, 3).roll((r, k), (2, 3)).reshape(2, 2, 12)
                expected_fields = rotated(fields.reshape(2, 2, 4, 3, 15, 15).roll((r, k), (2, 3)), r)
                assert (moved_scores - expected_scores).abs().max() < 1e-4 * scores.abs().max()
                expected_fields = expected_fields.reshape(2, 2, 12, 15, 15)
                assert (moved_fields - expected_fields).abs().max() < 1e-4 * fields.abs().max()


def d4_times_hue_inverse_then(g, h, hues: int = 3):
    """Index of g^-1 h in D4 x hue K from the README's formulas alone: (m, r, k) has index (m*4 + r)*K + k and
    (m1, r1)(m2, r2) = (m1 xor m2, r1 + (-1)^m1 r2 mod 4), hue steps adding mod K."""
    (m1, r1, k1), (m2, r2, k2) = g, h
    mi, ri, ki = m1, (r1 if m1 else (-r1) % 4), (-k1) % hues   # a mirror image is its own inverse
    m, r, k = mi ^ m2, (ri + (-1) ** mi * r2) % 4, (ki + k2) % hues
    return (m * 4 + r) * hues + k


def test_d4_times_hue_fields_and_scores_follow_the_documented_table():
    compiled, model = build("image 3x17x17; D4 x hue 5; equivariant output 1 fields; orientation output 2; depth 2; "
                            "width 2")
    x = torch.randn(2, 3, 17, 17)
    elements = [(m, r, k) for m in range(2) for r in range(4) for k in range(5)]
    with torch.no_grad():
        fields, scores = model(x)
        for g in [(0, 1, 0), (1, 0, 0), (0, 0, 2), (1, 3, 4), (0, 2, 1)]:
            m, r, k = g
            colour = torch.tensor(hue_matrix(k, 5), dtype=torch.float32)
            gx = rotated(torch.flip(torch.einsum("cd,bdhw->bchw", colour, x), (-1,)) if m else
                         torch.einsum("cd,bdhw->bchw", colour, x), r)
            moved_fields, moved_scores = model(gx)
            source = torch.tensor([d4_times_hue_inverse_then(g, h, 5) for h in elements])
            expected_fields = fields[:, :, source]
            expected_fields = rotated(torch.flip(expected_fields, (-1,)) if m else expected_fields, r)
            assert (moved_scores - scores[:, :, source]).abs().max() < 1e-4 * scores.abs().max()
            assert (moved_fields - expected_fields).abs().max() < 1e-4 * fields.abs().max()


def test_the_documented_table_is_the_generated_group_table():
    source = symc.compile("image 3x9x9; D4 x hue 3; orientation output 1; depth 1; width 1").source
    namespace = {}
    exec(re.search(r"GROUP_TABLE = \(.*?\n\)", source, re.S).group(0), namespace)
    elements = [(m, r, k) for m in range(2) for r in range(4) for k in range(3)]
    for i, g in enumerate(elements):
        assert namespace["GROUP_TABLE"][i] == tuple(d4_times_hue_inverse_then(g, h) for h in elements)


# ---------------------------------------------------------------- the tester catches models without hue symmetry

class PlainCNN(nn.Module):
    def __init__(self, classes=3, width=8):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(-2, -1)))


class ChannelRollAveraged(nn.Module):
    """Exactly invariant under turns of the hue by 120 degrees (channel rolls), and no finer ones."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return sum(self.inner(torch.roll(x, k, dims=1)) for k in range(3)) / 3


class RotationAveraged(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return sum(self.inner(rotated(x, k)) for k in range(4)) / 4


class GreyAndChroma(nn.Module):
    """Invariant under every hue rotation: it sees the grey level and the length of the colour off the grey axis."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))

    def forward(self, x):
        grey = x.mean(dim=1, keepdim=True)
        chroma = (x - grey).pow(2).sum(dim=1, keepdim=True).sqrt()
        return self.inner(torch.cat([grey, chroma], dim=1)).mean(dim=(-2, -1))


def test_a_plain_cnn_claimed_hue_3_fails_every_hue_row():
    torch.manual_seed(0)
    report = check(PlainCNN().eval(), "image 3x16x16; hue 3; invariant output 3")
    assert not report.ok and failing(report) == {"hue 120", "hue 240"}


def test_a_rotation_but_not_hue_invariant_model_fails_exactly_the_hue_rows():
    torch.manual_seed(0)
    report = check(RotationAveraged(PlainCNN()).eval(), "image 3x15x15; rotation 4 x hue 3; invariant output 3")
    group = group_of("image; rotation 4 x hue 3")
    assert failing(report) == {group.element_name(i) for i in range(12) if i % 3}
    torch.manual_seed(0)
    compiled_p4 = symc.compile("image 3x15x15; p4; invariant output 3; depth 2; width 4").module.eval()
    report = check(compiled_p4, "image 3x15x15; p4 x hue 3; invariant output 3")
    assert failing(report) == {group.element_name(i) for i in range(12) if i % 3}


def test_sixty_degrees_is_not_a_channel_permutation():
    torch.manual_seed(0)
    report = check(ChannelRollAveraged(PlainCNN()).eval(), "image 3x16x16; hue 6; invariant output 3")
    assert failing(report) == {"hue 60", "hue 180", "hue 300"}
    torch.manual_seed(0)
    hue3 = symc.compile("image 3x16x16; hue 3; invariant output 3; depth 2; width 4").module.eval()
    assert failing(check(hue3, "image 3x16x16; hue 6; invariant output 3")) == {"hue 60", "hue 180", "hue 300"}


@pytest.mark.parametrize("n", [3, 5, 7])
def test_a_hand_written_hue_invariant_model_passes(n):
    torch.manual_seed(0)
    report = check(GreyAndChroma().eval(), f"image 3x15x15; hue {n}; invariant output 3")
    assert report.ok and len(report.rows) == n, str(report)


def test_scores_that_roll_the_wrong_way_fail():
    torch.manual_seed(0)
    compiled = symc.compile("image 3x13x13; hue 3; orientation output 2; depth 2; width 3")

    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = compiled.module.eval()

        def forward(self, x):
            return self.inner(x)[:, :, [0, 2, 1]]

    assert check(compiled.module.eval(), compiled.spec).ok
    assert failing(check(Reversed(), compiled.spec)) == {"hue 120", "hue 240"}


# ---------------------------------------------------------------- planted breaks in generated files

HUE_FIELDS = "image 3x13x13; C4 x hue 3; equivariant output 1 fields; orientation output 2; depth 2; width 3"
HUE_ONLY = "image 3x13x13; hue 3; orientation output 2; depth 2; width 3"
BREAKS = {
    "colours mixed by the rotation instead of its inverse": (HUE_FIELDS, (
        "                block[:size, :size] = torch.linalg.inv(matrices[chan.index(version)])\n",
        "                block[:size, :size] = matrices[chan.index(version)]\n")),
    "one copy's colours not mixed": (HUE_FIELDS, (
        "        self.channel_versions = len(keys)\n",
        "        chan[4] = 0\n        self.channel_versions = len(keys)\n")),
    "wrong row of GROUP_HUE": (HUE_ONLY, ("    (1, 3),\n    (2, 3),\n)", "    (2, 3),\n    (2, 3),\n)")),
}


def planted_check_report(tmp_path, capsys, spec: str, old: str, new: str) -> str:
    """`symc check` passes the generated file, then fails it with `old` replaced by `new`: that report."""
    source = symc.compile(spec).source.replace("import torch\n", "import torch\ntorch.manual_seed(0)\n", 1)
    path = tmp_path / "model.py"
    path.write_text(source)
    assert main(["check", str(path)]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert source.count(old) == 1, old
    path.write_text(source.replace(old, new))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    return out


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_symc_check_catches_hue_breaks_planted_in_generated_files(tmp_path, capsys, name):
    spec, (old, new) = BREAKS[name]
    out = planted_check_report(tmp_path, capsys, spec, old, new)
    failed = [line for line in out.splitlines() if line.rstrip().endswith("FAIL") or " FAIL " in line]
    assert failed and any("hue" in line for line in failed), out
    if name != "one copy's colours not mixed":   # the others leave pure rotations right: only hue rows fail
        assert all("hue" in line for line in failed), out


# ---------------------------------------------------------------- specs, files, errors

def hue_spec_files() -> list[Path]:
    return sorted(p for p in SPECS.glob("*.sym") if any(f.kind == "hue" for f in symc.parse(p.read_text()).symmetry))


def test_there_are_hue_example_specs():
    assert {p.stem for p in hue_spec_files()} >= {"hue_rotation", "hue_d4_fields", "hue_segmentation", "hue_e2_8"}


@pytest.mark.parametrize("path", hue_spec_files(), ids=lambda p: p.stem)
def test_hue_example_specs_pass_symc_check(path, tmp_path, capsys):
    model = tmp_path / "model.py"
    assert main(["compile", str(path), "-o", str(model)]) == 0
    capsys.readouterr()
    code = main(["check", str(model)])
    out = capsys.readouterr().out
    assert code == 0 and out.rstrip().endswith("PASS"), out
    assert "hue rotations (exact)" in out and re.search(r"hue 120\s+0\s+\S+\s+0.0001\s+exact\s+ok", out)
    if path.stem == "hue_e2_8":   # approximate rotations times hue: hue and right angles still exact
        assert re.search(r"rot 45, hue 120\s+0\s+\S+\s+0.3\s+approx\s+ok", out), out
        assert re.search(r"flip then rot 90, hue 240\s+0\s+\S+\s+0.0001\s+exact\s+ok", out), out
        assert "exact for the right-angle subgroup and hue rotations" in model.read_text()


def test_generated_files_carry_the_hue_table_and_only_when_needed():
    source = symc.compile("image 3x16x16; D4 x hue 3; invariant output 2").source
    assert "GROUP_HUE = (\n    (0, 3),\n    (1, 3),\n    (2, 3),\n    (0, 3)," in source
    model = source.split("class Model")[1]
    assert re.search(r"GroupConv\(\(3, 0\), \(0, \d+\), 5, GROUP_MOVES, GROUP_TABLE, "
                     r"actions=hue_rotations\(GROUP_HUE\)\)", model)
    assert model.count("actions=hue_rotations") == 1   # the lifting alone turns colours: later layers see fields
    assert source == symc.compile("image 3x16x16; D4 x hue 3; invariant output 2").source
    assert not any(line.startswith(("import symc", "from symc")) for line in source.splitlines())
    plain = symc.compile("image 3x16x16; D4; invariant output 2").source
    assert "GROUP_HUE" not in plain and "actions=hue_rotations" not in plain and "hue_rotations" not in plain


def test_default_widths_divide_plain_channels_by_the_square_root_of_the_product_order():
    compiled = symc.compile("image 3x32x32; rotation 4 x hue 3; invariant output 2")
    expected = tuple(round(plain_channels(layer, 4) / math.sqrt(12)) for layer in range(4))
    assert compiled.plan.architecture.widths == expected
    assert "sqrt(|G|) = sqrt(12)" in compiled.plan.architecture.reasons["widths"]


@pytest.mark.parametrize("text,column,phrase", [
    ("image 1x28x28; hue 3; invariant output", 16, "rotates the hue of RGB images (3 channels)"),
    ("image 3x8x8; C16 x flip x hue 5; invariant output", 27, "'hue 5' times the 32 elements of 'D16' is a group "
                                                             "of 160 elements, which is not supported"),
    ("image 3x8x8; hue 200; invariant output", 14, "'hue 200' is a group of 200 elements"),
    ("image 3x8x8; hue 1; orientation output", 21, "this spec's group is trivial"),
])
def test_hue_spec_errors_name_the_clause(text, column, phrase):
    with pytest.raises(symc.SpecError) as info:
        symc.compile(text)
    assert info.value.line == 1 and info.value.column == column and phrase in info.value.message


def test_orientation_output_under_hue_alone_compiles():
    compiled = symc.compile("image 3x9x9; hue 4; orientation output 2; depth 1; width 2")
    assert compiled.module(torch.randn(2, 3, 9, 9)).shape == (2, 2, 4)


# ---------------------------------------------------------------- hue with mixed fields and position channels

def gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item() if a.numel() else 0.0


def lift_for(group, extra: int, trivial: int, fields: int, kernel: int = 3):
    hues = [hue_of(group, i) for i in range(group.order)]
    return GroupConv((3 + extra, 0), (trivial, fields), kernel, grid_moves(group, 2), group.regular_table(),
                     hue_rotations(hues)).double()


LIFT_GROUPS = ["image; C4 x hue 3", "image; D4 x hue 3", "image; hue 2", "image; flip x hue 6", "image; hue 5"]


@pytest.mark.parametrize("text", LIFT_GROUPS)
@pytest.mark.parametrize("extra,trivial,fields", [(0, 2, 3), (2, 2, 3), (3, 0, 2), (1, 3, 0)])
@pytest.mark.parametrize("size", [9, 10])
def test_the_hue_mixed_lift_turns_rgb_alone_and_is_exactly_equivariant(text, extra, trivial, fields, size):
    # RGB turned by the hue, the extra (position-like) channels moved spatially only; trivial outputs follow the
    # spatial move alone, regular fields are permuted along their group axis: exact to float64 round-off.
    group = group_of(text)
    torch.manual_seed(0)
    lift = lift_for(group, extra, trivial, fields)
    x = torch.randn(2, 3 + extra, size, size, dtype=torch.float64)
    y = lift(x)
    assert y.shape == (2, trivial + fields * group.order, size, size)
    for g in range(group.order):
        moved = torch.cat([act_input(group, g, x[:, :3]), act_image(group, g, x[:, 3:])], dim=1)
        out = lift(moved)
        expected_trivial = act_image(group, g, y[:, :trivial])
        expected_fields = act_fields(group, g, y[:, trivial:].reshape(2, fields, group.order, size, size))
        assert gap(out[:, :trivial], expected_trivial) < 1e-12, g
        assert gap(out[:, trivial:].reshape(expected_fields.shape), expected_fields) < 1e-12, g


@pytest.mark.parametrize("text", LIFT_GROUPS)
def test_trivial_outputs_see_rgb_as_grey_alone_for_every_hue_order(text):
    # The hue average of the colour mixing is the projection onto (1, 1, 1)/sqrt(3), for a half turn (hue 2) too:
    # each trivial filter weighs R, G and B alike, and its position channel is kept, not averaged away.
    group = group_of(text)
    torch.manual_seed(0)
    lift = lift_for(group, 1, 2, 1)
    bank = lift.expand_weight()[:2]
    assert torch.allclose(bank[:, 0], bank[:, 1], atol=1e-15) and torch.allclose(bank[:, 0], bank[:, 2], atol=1e-15)
    assert bank[:, 3].abs().max() > 0.01 and bank[:, 0].abs().max() > 1e-3
    grey = lift.weight_tt[:, :3].sum(dim=1) / 3  # the grey part of the base filter survives, averaged spatially
    spatial_mean = torch.stack([act_image(group, g, grey) for g in range(group.order)]).mean(dim=0)
    assert torch.allclose(bank[:, 0], spatial_mean, atol=1e-14)


def test_the_hue_lift_is_the_spatial_lift_of_colour_mixed_filters():
    # Copy g of the hue lift is the spatial lift's copy of the base filter with its RGB inputs mixed by g's inverse
    # hue rotation: W_g = g(W) R_g^-1 (turning R, G, B the other way round on the filter's side).
    group = group_of("image; D4 x hue 3")
    torch.manual_seed(0)
    lift = lift_for(group, 0, 0, 2)
    plain = GroupConv((3, 0), (0, 2), 3, grid_moves(group, 2), group.regular_table()).double()
    with torch.no_grad():
        plain.weight_tr.copy_(lift.weight_tr)
    copies = lift.expand_weight().reshape(2, 24, 3, 3, 3)
    spatial = plain.expand_weight().reshape(2, 24, 3, 3, 3)
    for g in range(24):
        inverse = torch.tensor(hue_matrix(-hue_of(group, g)[0], 3), dtype=torch.float64)
        assert torch.allclose(copies[:, g], torch.einsum("od...,dc->oc...", spatial[:, g], inverse), atol=1e-15)
    assert torch.equal(copies[:, ::3], spatial[:, ::3])   # elements without a hue step: the spatial lift itself


COMBINED = {
    "C4 x hue 3, F = 0.5": "image 3x{s}x{s}; rotation 4 x hue 3; invariant fraction 0.5; invariant output 3; "
                           "equivariant output 2; depth 2; width 6",
    "D4 x hue 3, F = 0.25": "image 3x{s}x{s}; D4 x hue 3; invariant fraction 0.25; equivariant output 2 fields; "
                            "orientation output 2; depth 2; width 4",
    "positions, C4; hue 3": "image 3x{s}x{s}; no translation; rotation 4; hue 3; invariant output 4; depth 2; width 6",
    "positions, hue 3": "image 3x{s}x{s}; no translation; hue 3; invariant output 4; equivariant output 2; "
                        "orientation output 2; depth 2; width 6",
    "C4 x hue 3, F = 1": "image 3x{s}x{s}; C4 x hue 3; invariant fraction 1; invariant output 3; "
                         "equivariant output 2; depth 2; width 6",
    "positions, D4 x hue 3, F = 0.5": "image 3x{s}x{s}; no translation; D4 x hue 3; invariant fraction 0.5; "
                                      "invariant output 3; orientation output 2; depth 2; width 6",
    "hue 2, F = 0.5": "image 3x{s}x{s}; hue 2; invariant fraction 0.5; invariant output 3; orientation output 2; "
                      "depth 2; width 8",
    "positions, flip x hue 6, F = 0.5": "image 3x{s}x{s}; no translation; flip x hue 6; invariant fraction 0.5; "
                                        "invariant output 3; equivariant output 2 fields; depth 2; width 8",
    "radial positions, hue 5, F = 0.5, fft": "image 3x{s}x{s}; no translation; hue 5; position encoding radial; "
                                             "invariant fraction 0.5; invariant output 3; orientation output 2; "
                                             "depth 2; width 8; conv fft",
}


@pytest.mark.parametrize("name", sorted(COMBINED))
@pytest.mark.parametrize("size", [15, 16])
def test_hue_with_mixed_fields_and_positions_is_exact(name, size):
    compiled, model = build(COMBINED[name].format(s=size))
    report = check(model, compiled.spec)
    assert report.ok, str(report)
    assert len(report.rows) == compiled.plan.symmetry.order * len(compiled.spec.outputs)
    assert all(row.exact for row in report.rows) and report.max_error < EXACT_TOLERANCE
    assert any(row.element.endswith(("hue 120", "hue 180", "hue 72")) for row in report.rows)
    text = compiled.source.split("class Model")[1]
    lift = re.search(r"GroupConv\(\((\d+), 0\), \((\d+), (\d+)\), .*actions=hue_rotations\(GROUP_HUE\)", text)
    # the lifting turns the colours; position channels or trivial outputs make it a mixed one
    assert lift and (int(lift.group(1)) > 3 or int(lift.group(2)) > 0) and text.count("actions=hue_rotations") == 1
    assert compiled.plan.params == sum(p.numel() for p in model.parameters())
    if size == 16 and "positions" not in name:   # no approximation anywhere (positions are computed in float32)
        report64 = check(model.double(), compiled.spec, dtype=torch.float64)
        assert report64.ok and report64.max_error < 1e-9, str(report64)


def test_position_channels_enter_the_lift_unturned_and_hue_alone_gets_coordinates():
    compiled = symc.compile("image 3x12x12; no translation; rotation 4; hue 3; invariant output 2; depth 1; width 2")
    assert 'ImagePositions("cyclic", 4)' in compiled.source
    assert "GroupConv((6, 0), (0, 2), 5, GROUP_MOVES, GROUP_TABLE, actions=hue_rotations(GROUP_HUE))" in compiled.source
    hue_alone = symc.compile("image 3x12x12; no translation; hue 3; invariant output 2; depth 2; width 6")
    assert 'ImagePositions("coordinates")' in hue_alone.source
    assert ("GroupConv((5, 0), (0, 6), 5, GROUP_MOVES, GROUP_TABLE, actions=hue_rotations(GROUP_HUE))"
            in hue_alone.source)
    assert "position encoding: coordinates (auto)" in str(hue_alone.plan)
    # with x, y channels the model responds to where a colour blob is, and not to its hue
    torch.manual_seed(0)
    model = hue_alone.new_module().eval()
    red = torch.zeros(3, 3, 12, 12)
    red[0, 0, 2:5, 2:5] = red[1, 0, 7:10, 7:10] = 1
    red[2] = torch.roll(red[0], 1, dims=0)   # the first blob turned green: a hue rotation by 120 degrees
    y = model(red)
    assert (y[0] - y[2]).abs().max() < 1e-5 * y.abs().max() and (y[0] - y[1]).abs().max() > 1e-3 * y.abs().max()


def test_files_without_both_features_keep_their_lifts():
    for text, lift in [("image 3x12x12; C4 x hue 3; invariant output 2",
                        r"GroupConv\(\(3, 0\), \(0, \d+\), 5, GROUP_MOVES, GROUP_TABLE, "
                        r"actions=hue_rotations\(GROUP_HUE\)\)"),
                       ("image 3x12x12; C4; invariant fraction 0.5; invariant output 2",
                        r"GroupConv\(\(3, 0\), \([1-9]\d*, \d+\), 5, GROUP_MOVES, GROUP_TABLE\)"),
                       ("image 3x12x12; C4; no translation; invariant output 2",
                        r"GroupConv\(\(6, 0\), \(0, \d+\), 5, GROUP_MOVES, GROUP_TABLE\)")]:
        source = symc.compile(text).source
        # the lifting alone reads plain channels (and turns colours only under hue)
        assert re.search(lift, source) and source.count("actions=hue_rotations") == ("hue" in text), text
        assert len(re.findall(r"GroupConv\(\([1-9]\d*, 0\)", source)) == 1, text


HUE_MIXED = ("image 3x13x13; C4 x hue 3; invariant fraction 0.5; invariant output 2; orientation output 2; "
             "depth 2; width 4")
HUE_POSITIONS = "image 3x14x14; no translation; rotation 4; hue 3; invariant output 2; depth 2; width 4"
MIXED_BREAKS = {
    # trivial filters averaged over the rotations only (elements with hue step 0): they still see colour
    "trivial filters not averaged over hue": (
        HUE_MIXED, "symmetric.reshape(self.out_trivial, order, ti * taps).mean(dim=1)",
        "symmetric.reshape(self.out_trivial, order, ti * taps)[:, ::3].mean(dim=1)"),
    # the lift of main before hue and mixed fields met: no colour mixing at all
    "plain mixed lift": (HUE_MIXED, "GroupConv((3, 0), (2, 2), 5, GROUP_MOVES, GROUP_TABLE, "
                                    "actions=hue_rotations(GROUP_HUE))",
                         "GroupConv((3, 0), (2, 2), 5, GROUP_MOVES, GROUP_TABLE)"),
    # the three position channels (radius, cos 4theta, sin 4theta) turned by the hue as if they were colours
    "position channels turned": (HUE_POSITIONS, "                blocks.append(block)\n",
                                 "                block[size:2 * size, size:2 * size] = block[:size, :size]\n"
                                 "                blocks.append(block)\n"),
}


@pytest.mark.parametrize("name", sorted(MIXED_BREAKS))
def test_symc_check_catches_breaks_of_hue_with_mixed_fields_and_positions(tmp_path, capsys, name):
    spec, old, new = MIXED_BREAKS[name]
    out = planted_check_report(tmp_path, capsys, spec, old, new)
    failed = [line for line in out.splitlines() if re.match(r"\d+x\d+\s", line) and " FAIL" in line]
    assert failed and all("hue" in line for line in failed), out   # rotations alone stay right
