"""SO(2) and O(2) on images: the filter basis, the spec language, plans, generated files and the tester."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import symc
import symc.cli
from symc.groups.circle import CircleGroup, CircleIrrep, harmonic_basis, ring_frequency
from symc.spec import SpecError
from symc.testing import EXACT_TOLERANCE, check
from symc.testing.steerable import ANGLE_TOLERANCE

SMALL_SO2 = "image 1x29x29; SO(2); invariant output 3; orientation output 2; widths 6,8,8,12"
SMALL_O2 = "image 2x24x24; O(2); invariant output 3; equivariant output 2; orientation output 1; widths 4,6,6,8"


def compiled(text: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return symc.compile(text).new_module()


# ---------------------------------------------------------------- the group math

@pytest.mark.parametrize("mirrors", [False, True])
def test_every_basis_filter_satisfies_the_constraint_at_random_angles(mirrors):
    group = CircleGroup(mirrors)
    rng = np.random.default_rng(0)
    worst, count = 0.0, 0
    for out in group.irreps(4):
        for into in group.irreps(4):
            for harmonic in harmonic_basis(out, into, mirrors):
                for _ in range(4):
                    angle, phi = rng.uniform(0, 2 * math.pi, 2)
                    for mirrored in (False, True) if mirrors else (False,):
                        moved_phi = (-phi if mirrored else phi) + angle   # g d: mirror, then turn
                        lhs = harmonic.at(moved_phi) @ group.matrix(into, angle, mirrored)
                        rhs = group.matrix(out, angle, mirrored) @ harmonic.at(phi)
                        worst = max(worst, float(np.abs(lhs - rhs).max()))
                        count += 1
    assert count > 100 and worst < 1e-12


def test_basis_sizes_are_those_of_the_complex_derivation():
    so2, o2 = CircleGroup(False), CircleGroup(True)
    one, two, scalar, pseudo = CircleIrrep(1), CircleIrrep(2), CircleIrrep(0), CircleIrrep(0, -1)
    assert len(harmonic_basis(two, one, False)) == 4       # alpha and beta, each complex
    assert len(harmonic_basis(two, scalar, False)) == 2
    assert len(harmonic_basis(scalar, scalar, False)) == 1
    assert len(harmonic_basis(two, one, True)) == 2        # the mirror keeps real coefficients
    assert len(harmonic_basis(scalar, pseudo, True)) == 0  # a radial filter cannot flip sign under the mirror
    assert len(harmonic_basis(pseudo, pseudo, True)) == 1
    assert {h.t for h in harmonic_basis(CircleIrrep(3), one, False)} == {2, 4}
    assert so2.irreps(2) == (scalar, one, two) and o2.irreps(1) == (scalar, pseudo, one)
    assert [ring_frequency(r, 8) for r in (0, 1, 2, 3)] == [0, 1, 2, 3]


def test_the_rotation_matrices_are_a_representation():
    group = CircleGroup(True)
    for irrep in group.irreps(3):
        a, b = 0.7, 2.1
        product = group.matrix(irrep, a) @ group.matrix(irrep, b)
        assert np.allclose(product, group.matrix(irrep, a + b))
        mirror = group.matrix(irrep, 0.0, True)
        assert np.allclose(mirror @ mirror, np.eye(irrep.dim))
        # turning after the mirror equals the mirror after turning the other way
        assert np.allclose(group.matrix(irrep, a) @ mirror, mirror @ group.matrix(irrep, -a))


# ---------------------------------------------------------------- the language

@pytest.mark.parametrize("text, normalized", [
    ("image 1x28x28; SO(2); invariant output 10", "image 1x28x28; SO(2); invariant output 10"),
    ("image; se(2); frequencies 2; nonlinearity norm; invariant output",
     "image; SE(2); invariant output 1; frequencies 2; nonlinearity norm"),
    ("image 3x32x32\nO(2)\norientation output 4", "image 3x32x32; O(2); orientation output 4"),
])
def test_continuous_groups_parse_and_print_back(text, normalized):
    spec = symc.spec.parse(text)
    assert spec.normalized() == normalized
    assert symc.spec.parse(spec.normalized()) == spec.model_copy(update={"text": spec.normalized(),
                                                                         "locations": symc.spec.parse(
                                                                             spec.normalized()).locations})


@pytest.mark.parametrize("text, message", [
    ("image; SO(3); invariant output", "'SO(3)' moves 3-D space, but images are 2-D: write SO(2)"),
    ("image 1x20x30; SO(2); invariant output", "a 20x30 image is not square"),
    ("image; SO(2); C8; invariant output", "are both rotation groups"),
    ("image; O(2); flip; invariant output", "overlap: O(2) already contains the mirrors"),
    ("image; SO(2); flip; invariant output", "'flip' with 'SO(2)' is not supported yet"),
    ("image 3x8x8; SO(2); hue 3; invariant output", "'hue 3' with 'SO(2)' is not supported yet"),
    ("image; SO(2); equivariant output 3 fields", "regular fields of a finite group"),
    ("image; SO(2); invariant output; pooling max", "max pooling of fields that are not scalars"),
    ("image; SO(2); invariant output; frequencies 9", "above the highest band limit supported, 8"),
    ("image; SO(2); invariant output; boundary circular", "wrapping around the edges"),
    ("image; SE(2); no translation; invariant output", "contradicts"),
])
def test_what_continuous_groups_do_not_lower_is_a_located_spec_error(text, message):
    with pytest.raises(SpecError) as caught:
        symc.compile(text)
    assert message in str(caught.value)
    assert caught.value.line >= 1 and caught.value.column > 1   # at the clause, not the spec's start


# ---------------------------------------------------------------- plans and generated files

@pytest.mark.parametrize("text", [SMALL_SO2, SMALL_O2, SMALL_SO2 + "; nonlinearity norm",
                                  "image 1x29x29; SO(2); invariant output 10; params 20k"])
def test_plans_count_the_parameters_the_module_has(text):
    result = symc.compile(text)
    module = result.new_module()
    assert sum(p.numel() for p in module.parameters()) == result.plan.params
    if "params 20k" in text:
        assert abs(result.plan.params - 20_000) <= 2_000


def test_the_plan_says_what_it_chose_and_why():
    plan = symc.compile("image 1x29x29; O(2); invariant output 10").plan
    text = str(plan)
    assert "frequencies: 2: fields of frequencies 0..2" in text  # the 5x5 outer ring carries harmonics up to 2
    assert "nonlinearity: gated" in text and "steer_conv" in text and "irrep_norm" in text
    assert plan.to_dict()["group"] == "O(2)"
    assert "exact for rotations by multiples of 90 degrees and mirrors" in plan.exactness()


def test_the_generated_file_needs_torch_alone_and_is_reproducible(tmp_path):
    first, second = symc.compile(SMALL_O2).source, symc.compile(SMALL_O2).source
    assert first == second
    assert "HARMONICS = {" in first and "RINGS = {" in first and "import symc" not in first
    path = tmp_path / "model.py"
    path.write_text(first)
    code = ("import sys, torch; sys.modules['symc'] = None; import importlib.util as u; "
            f"s = u.spec_from_file_location('m', {str(path)!r}); m = u.module_from_spec(s); s.loader.exec_module(m); "
            "y = m.Model()(torch.randn(2, 2, 24, 24)); print([tuple(t.shape) for t in y])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[(2, 3), (2, 2, 24, 24), (2, 1, 2)]"


def test_the_eval_filter_cache_follows_every_change_of_the_weights():
    model = compiled(SMALL_O2).eval()
    x = torch.randn(2, 2, 24, 24)
    first = model(x)
    assert all(torch.equal(a, b) for a, b in zip(first, model(x)))  # the kept bank gives the same outputs
    conv = next(m for m in model.modules() if type(m).__name__ == "SteerableConv" and len(m.weights))
    assert conv._cached_bank is not None
    with torch.no_grad():
        conv.weights[0].mul_(-1.0)  # an in-place change, as an optimizer step makes
    after_step = model(x)
    assert (after_step[0] - first[0]).abs().max() > 1e-4
    torch.testing.assert_close(conv._cached_bank, conv.filters())
    model.load_state_dict(compiled(SMALL_O2, seed=3).state_dict())
    reloaded = model(x)
    expected = compiled(SMALL_O2, seed=3).eval()(x)
    for a, b in zip(reloaded, expected):
        torch.testing.assert_close(a, b)
    model.double()
    doubled = model(x.double())
    assert doubled[0].dtype == torch.float64 and conv._cached_bank.dtype == torch.float64
    model.train()
    assert conv._cached_bank is None


def test_an_orientation_output_turned_the_wrong_way_fails():
    text = "image 1x29x29; SO(2); orientation output 2; widths 4,4; frequencies 2"
    model = _break(text, "        return (vectors * weights.unsqueeze(2)).sum(-1).flatten(1)",
                   "        return (vectors * weights.unsqueeze(2)).sum(-1).flip(-1).flatten(1)")
    report = check(model, text)
    assert not report.ok and any(not row.ok and not row.exact for row in report.rows)


# ---------------------------------------------------------------- the tester

@pytest.mark.parametrize("text", [SMALL_SO2, SMALL_O2])
def test_compiled_models_pass_exactly_at_right_angles_and_closely_at_random_ones(text):
    report = check(compiled(text), text)
    assert report.ok, report
    exact = [row for row in report.rows if row.exact]
    other = [row for row in report.rows if not row.exact]
    assert max(row.error for row in exact) < EXACT_TOLERANCE
    assert len(other) >= 16 and all("rot" in row.element for row in other)
    assert max(row.error for row in other if row.output == 0) < ANGLE_TOLERANCE["invariant"]


def _break(text: str, old: str, new: str, seed: int = 0) -> torch.nn.Module:
    source = symc.compile(text).source
    assert old in source
    namespace = {}
    torch.manual_seed(seed)
    exec(compile(source.replace(old, new, 1), "<broken>", "exec"), namespace)
    return namespace["Model"]()


@pytest.mark.parametrize("seed", [0, 1])
def test_a_model_invariant_to_quarter_turns_only_passes_right_angles_and_fails_the_others(seed):
    text = "image 1x29x29; SO(2); invariant output 4"
    quarter_turns = compiled("image 1x29x29; p4; invariant output 4", seed)
    report = check(quarter_turns, text, seed=seed)
    assert all(row.ok for row in report.rows if row.exact)
    assert not report.ok and max(row.error for row in report.rows if not row.exact) > ANGLE_TOLERANCE["invariant"]


def test_a_relu_on_vector_channels_fails_at_right_angles():
    text = "image 1x29x29; SO(2); invariant output 4; widths 4,4; frequencies 2"
    model = _break(text, "        return scale_fields(self.runs, x, torch.sigmoid(x.narrow(1, self.channels, self.gates)), "
                         "scalars)", "        return F.relu(x.narrow(1, 0, self.channels))")
    report = check(model, text)
    assert any(not row.ok and row.exact and row.element == "rot 90" for row in report.rows)


def test_a_plain_cnn_claimed_so2_fails():
    text = "image 1x29x29; SO(2); invariant output 4"
    plain = compiled("image 1x29x29; invariant output 4; depth 3; width 8")
    report = check(plain, text)
    assert not report.ok
    assert max(row.error for row in report.rows if not row.exact) > ANGLE_TOLERANCE["invariant"]


def test_the_cli_checks_a_continuous_model(tmp_path):
    spec = tmp_path / "so2.sym"
    spec.write_text(SMALL_SO2 + "\n")
    model = tmp_path / "so2.py"
    assert symc.cli.main(["compile", str(spec), "-o", str(model)]) == 0
    result = subprocess.run([sys.executable, "-m", "symc.cli", "check", str(model)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "group SO(2) (continuous)" in result.stdout and "random angles (8 per size)" in result.stdout
