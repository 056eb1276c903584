"""`approximate F` (residual pathway priors): the spec, the free path beside every equivariant layer, the penalty,
the plan, and what the tester reports for approximate and strict factors."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

import symc

ROTATION_FLIP = "image 1x12x12; approximate rotation 4; flip; invariant output 3; depth 2; width 3"
POINTS = "point cloud 6x3 with 1 feature; approximate O(3); equivariant output 1x0e + 1x1e + 1x2e per cloud; width 8"


def free_parameters(module):
    return [p for name, p in module.named_parameters() if any(part.startswith("free") for part in name.split("."))]


def perturb_free_path(module, seed=1, scale=1.0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in free_parameters(module):
            p.copy_(torch.randn(p.shape, generator=generator) * scale)


def fresh(spec, seed=0):
    torch.manual_seed(seed)
    return symc.compile(spec)


# ---------------------------------------------------------------- the spec

@pytest.mark.parametrize("text,normal,kinds", [
    ("image 1x28x28; approximate rotation 4; flip; invariant output 10",
     "image 1x28x28; approximate C4; flip; invariant output 10", ("rotation",)),
    ("image 1x28x28; approximate p4m; invariant output 10", "image 1x28x28; approximate D4; invariant output 10",
     ("dihedral",)),
    ("image; approximate translation; p4; invariant output; penalty 0.01",
     "image; approximate translation; C4; invariant output 1; penalty 0.01", ("translation",)),
    ("image; approximate flip x rotation 2; invariant output", "image; approximate flip; C2; invariant output 1",
     ("flip",)),
    ("point cloud 5x3; APPROXIMATE E(3); invariant output", "point cloud 5x3; approximate E(3); invariant output 1",
     ("E",)),
])
def test_parse_and_normalized_text(text, normal, kinds):
    spec = symc.parse(text)
    assert spec.normalized() == normal
    assert spec.approximate_kinds() == kinds
    again = symc.parse(normal)
    assert (again.symmetry, again.hints, again.approximate_translation) == \
        (spec.symmetry, spec.hints, spec.approximate_translation)


def test_only_the_approximate_factor_is_marked():
    spec = symc.parse("image 1x28x28; approximate rotation 4; flip; invariant output 10; penalty 0.5")
    assert [(f.kind, f.approximate) for f in spec.symmetry] == [("rotation", True), ("flip", False)]
    assert spec.hints.penalty == 0.5 and not spec.approximate_translation
    assert symc.parse("image; approximate translation; invariant output").approximate_translation


@pytest.mark.parametrize("text,column,phrase", [
    ("image; approximate hue 3; invariant output", 8,
     "'approximate hue 3' is not supported on images; supported: approximate translation, rotation N"),
    ("sequence; approximate time reversal; invariant output", 11,
     "approximate symmetries are supported on images and point clouds only"),
    ("volume; approximate octahedral; invariant output", 9, "'approximate octahedral' is not supported on volumes"),
    ("point cloud 5x3; O(3); approximate translation; invariant output", 24,
     "supported: approximate E(n), SE(n), O(n), SO(n)"),
    ("image; approximate SO(2); invariant output", 8, "'approximate SO(2)' is not supported on images"),
    ("image; p4; invariant output; penalty 2", 30, "no symmetry is approximate"),
    ("image; approximate p4; invariant output; penalty 0", 50, "the penalty weight must be above 0"),
    ("image; approximate p4; invariant output; penalty -1", 50, "negative number in 'penalty -1'"),
    ("image; approximate approximate flip; invariant output", 8, "'approximate' given twice"),
    ("image 3x8x8; hue 3; approximate flip; invariant output", 14,
     "'hue 3' cannot be combined with approximate symmetries yet"),
    ("image; rotation 8; approximate flip; invariant output", 8, "the strict rotations must be right angles"),
    ("point cloud 5x3; approximate E(3); invariant output; cutoff 2", 54, "built for dense point clouds"),
    ("image; approximate translation; no translation; invariant output", 33, "contradicts 'approximate translation'"),
    ("image; approximate translation; approximate translation; invariant output", 33,
     "'approximate translation' given twice"),
])
def test_located_errors(text, column, phrase):
    with pytest.raises(symc.SpecError) as caught:
        symc.parse(text)
    assert phrase in caught.value.message, caught.value.message
    assert (caught.value.line, caught.value.column) == (1, column), str(caught.value)


# ---------------------------------------------------------------- the model

def test_fresh_model_is_as_equivariant_as_the_strict_one_and_its_penalty_is_zero():
    approximate = fresh("image 1x12x12; approximate rotation 4; invariant output 3; depth 2; width 3")
    strict = fresh("image 1x12x12; rotation 4; invariant output 3; depth 2; width 3")
    report, strict_report = symc.check(approximate.module, approximate.spec), symc.check(strict.module, strict.spec)
    assert report.ok and not report.moved
    assert [row.approximate for row in report.rows] == [False, True, True, True]
    # the same level as the strict model: float32 round-off, well inside the exact tolerance
    assert report.approximate_error < 1e-4 and strict_report.max_error < 1e-4
    assert report.approximate_error < 10 * strict_report.max_error + 1e-6
    assert "at the strict level" in report.verdict
    assert approximate.module.symmetry_penalty().item() == 0.0
    assert not hasattr(strict.module, "symmetry_penalty")


def test_perturbed_free_path_breaks_the_approximate_factor_and_check_reports_it_moved():
    compiled = fresh(ROTATION_FLIP)
    model = compiled.module
    perturb_free_path(model)
    assert model.symmetry_penalty().item() > 0
    report = symc.check(model, compiled.spec)
    assert report.ok and report.moved
    rows = {row.element: row for row in report.rows}
    for name in ("rot 90", "rot 180", "rot 270", "flip then rot 90"):
        assert rows[name].approximate and rows[name].error > 0.05
        assert "moved" in rows[name].note
    # the strict mirror is kept by the free path too (it is averaged over the strict elements)
    assert not rows["flip"].approximate and rows["flip"].ok and rows["flip"].error < 1e-4
    text = str(report)
    assert "moved from the strict level" in text and "approximate factors (C4)" in text


def test_strict_factors_are_still_judged_strictly():
    compiled = fresh(ROTATION_FLIP)

    class LeftHalfBias(torch.nn.Module):   # reads the left half twice: breaks the mirror (and the rotations)
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            mask = torch.zeros_like(x)
            mask[..., : x.shape[-1] // 2] = 1.0
            return self.inner(x) + 0.5 * self.inner(x * mask)

    report = symc.check(LeftHalfBias(compiled.module), compiled.spec)
    assert not report.ok
    assert [row.element for row in report.failures] == ["flip"]
    assert all(row.ok for row in report.rows if row.approximate)


def test_gradients_reach_the_free_path_and_the_penalty_is_differentiable():
    compiled = fresh(ROTATION_FLIP)
    model = compiled.module.train()
    x = torch.randn(4, 1, 12, 12)
    model(x).pow(2).sum().backward()
    free = free_parameters(model)
    assert free and all(p.grad is not None and p.grad.abs().sum() > 0 for p in free)
    perturb_free_path(model, scale=0.1)
    model.zero_grad()
    penalty = model.symmetry_penalty()
    penalty.backward()
    weight = compiled.plan.penalty
    for p in free:
        torch.testing.assert_close(p.grad, 2 * weight * p.detach())
    expected = weight * sum(p.detach().pow(2).sum() for p in free)
    torch.testing.assert_close(penalty.detach(), expected)


def test_penalty_hint_sets_the_weight():
    compiled = fresh("image 1x8x8; approximate flip; invariant output 2; depth 1; width 2; penalty 0.25")
    perturb_free_path(compiled.module)
    total = sum(p.detach().pow(2).sum() for p in free_parameters(compiled.module))
    torch.testing.assert_close(compiled.module.symmetry_penalty().detach(), 0.25 * total)
    assert "penalty 0.25 hint" in str(compiled.plan)


def test_approximate_translation_depends_on_position_and_keeps_the_strict_rotations():
    spec = "image 1x16x16; approximate translation; p4; equivariant output 1; depth 2; width 2"
    compiled, strict = fresh(spec), fresh("image 1x16x16; p4; equivariant output 1; depth 2; width 2")
    x = torch.zeros(2, 1, 16, 16)
    x[:, :, 5:8, 5:8] = torch.randn(2, 1, 3, 3)

    def shift_error(model):   # a blob moved by 3 pixels, far from the borders
        model.eval()
        with torch.no_grad():
            moved = model(torch.roll(x, 3, dims=-1))
            return (moved - torch.roll(model(x), 3, dims=-1))[..., 2:14, 2:14].abs().max().item()

    assert shift_error(compiled.module) < 1e-5 and shift_error(strict.module) < 1e-5
    perturb_free_path(compiled.module)
    assert shift_error(compiled.module) > 1e-2
    report = symc.check(compiled.module, compiled.spec)
    assert report.ok and not any(row.approximate for row in report.rows)   # the rotations are strict
    assert "approximate translation: not measured" in str(report)


def test_point_cloud_free_path_sees_raw_coordinates_and_permutations_stay_strict():
    compiled = fresh(POINTS)
    report = symc.check(compiled.module, compiled.spec)
    assert report.ok and not report.moved and report.approximate_error < 1e-4
    assert compiled.module.symmetry_penalty().item() == 0.0
    perturb_free_path(compiled.module, scale=0.3)
    report = symc.check(compiled.module, compiled.spec)
    assert report.ok and report.moved and report.approximate_error > 0.05
    for row in report.rows:
        moves_space = any(word in row.element for word in ("rotation", "reflection"))
        assert row.approximate == moves_space
        if not moves_space:
            assert row.error < 1e-4, row   # permutations: the free paths act point by point


def test_plan_shows_both_parameter_counts_and_the_penalty():
    compiled = fresh(ROTATION_FLIP)
    text = str(compiled.plan)
    assert "free params" in text.splitlines()[5]
    free = sum(p.numel() for p in free_parameters(compiled.module))
    assert compiled.plan.free_params == free
    assert compiled.plan.params == sum(p.numel() for p in compiled.module.parameters())
    assert f"free path: {free:,} of the parameters" in text and "symmetry_penalty() = 0.001" in text
    lift = next(layer for layer in compiled.plan.layers if layer.op == "lift")
    assert (lift.params, lift.free_params) == (3 * 5 * 5, (3 * 8) * 1 * 5 * 5)
    assert compiled.plan.to_dict()["penalty"]["weight"] == 0.001
    assert "free params" not in str(fresh("image 1x12x12; p4; invariant output 3; depth 2").plan)
    points = fresh(POINTS).plan
    assert points.free_params == sum(p.numel() for p in free_parameters(fresh(POINTS).module))


def test_generated_file_needs_torch_alone_and_check_cli_exit_code(tmp_path):
    compiled = fresh(ROTATION_FLIP)
    path = tmp_path / "model.py"
    compiled.write(path)
    script = textwrap.dedent(f"""
        import importlib.util, sys
        sys.modules["symc"] = None   # any import of symc fails
        spec = importlib.util.spec_from_file_location("model", {str(path)!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.Model()
        import torch
        assert model.symmetry_penalty().item() == 0.0
        print(tuple(model(torch.randn(2, 1, 12, 12)).shape))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 3)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    check = subprocess.run([sys.executable, "-m", "symc.cli", "check", str(path)], capture_output=True, text=True,
                           env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "approximate factors (C4)" in check.stdout and "at the strict level" in check.stdout
