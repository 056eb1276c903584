"""Learned canonicalization: `symc.canonicalize(backbone, spec)` and the `canonicalize` hint (docs/spec-language.md
§1.4, §3). Invariance is checked here independently, with torch.rot90 and torch.flip, and by symc.check."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import symc
from symc.cli import main

C4 = "image 1x16x16; rotation 4; invariant output 5 classes"
D4 = "image 1x16x16; p4m; invariant output 5 classes"
HINT = "image 1x16x16; rotation 4; invariant output 5 classes; canonicalize"


def plain_cnn(out: int = 5) -> torch.nn.Module:
    """A CNN with no symmetry of its own: position-dependent (a linear map of the flattened 4x4 map)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, out))


def per_pixel_cnn(out: int = 3) -> torch.nn.Module:
    """A per-pixel map with a position-dependent bias, so it is not equivariant by itself."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 3, padding=1), torch.nn.ReLU(),
                                            torch.nn.Conv2d(6, out, 3, padding=1))
            self.ramp = torch.nn.Parameter(torch.linspace(0, 1, 16).repeat(16, 1))

        def forward(self, x):
            return self.conv(x) + self.ramp
    return Net()


def rotations(x):
    return [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)]


def dihedral(x):
    return rotations(x) + [torch.rot90(torch.flip(x, dims=(-1,)), k, dims=(-2, -1)) for k in range(4)]


def wrapped(backbone, spec, seed=0):
    torch.manual_seed(seed)
    model = symc.canonicalize(backbone, spec).double().eval()
    return model


@pytest.fixture(scope="module")
def noise():
    return torch.randn(6, 1, 16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


@pytest.mark.parametrize("spec, moves", [(C4, rotations), (D4, dihedral)], ids=["C4", "D4"])
def test_a_canonicalized_plain_cnn_is_exactly_invariant_in_float64(spec, moves, noise):
    torch.manual_seed(0)
    cnn = plain_cnn().double().eval()
    model = wrapped(cnn, spec)
    with torch.no_grad():
        reference = model(noise)
        differences = [(model(moved) - reference).abs().max().item() for moved in moves(noise)]
        plain = [(cnn(moved) - cnn(noise)).abs().max().item() for moved in moves(noise)[1:]]
    assert len(differences) == (4 if spec == C4 else 8)
    assert max(differences) <= 1e-15, differences
    assert min(plain) > 1e-3, plain   # the CNN alone is not invariant: the wrapper does the work


def test_per_pixel_outputs_move_back_with_the_input(noise):
    net = per_pixel_cnn().double().eval()
    model = wrapped(net, "image 1x16x16; p4m; equivariant output 3")
    with torch.no_grad():
        outputs = dihedral(model(noise))
        for moved, expected in zip(dihedral(noise), outputs):
            assert (model(moved) - expected).abs().max().item() <= 1e-15
        assert (net(torch.rot90(noise, 1, dims=(-2, -1))) - rotations(net(noise))[1]).abs().max().item() > 0.1


def test_the_forward_value_is_exactly_the_hard_choice_with_gradients_on(noise):
    model = wrapped(plain_cnn().double(), C4).train()
    x = noise.clone().requires_grad_(True)
    canonical = model.canonical(x)
    pose = model.canonicalizer(x).reshape(len(x), -1).argmax(dim=1)
    for i in range(len(x)):
        inverse = model.inverses[int(pose[i])]
        assert torch.equal(canonical[i], torch.rot90(x[i], inverse, dims=(-2, -1)))   # C4 element r is rot90^r


def test_gradients_reach_the_canonicalizer_and_the_backbone(noise):
    cnn = plain_cnn().double()
    model = wrapped(cnn, C4).train()
    loss = model(noise).square().mean()
    loss.backward()
    for part in (model.canonicalizer, model.backbone):
        norms = [p.grad.abs().sum().item() for p in part.parameters() if p.grad is not None]
        assert norms and sum(norms) > 0, part


def test_the_backbone_keeps_its_own_parameter_objects():
    cnn = plain_cnn()
    model = symc.canonicalize(cnn, C4)
    assert model.backbone is cnn
    mine = {id(p) for p in model.parameters()}
    assert all(id(p) in mine for p in cnn.parameters())
    assert [n for n, _ in model.named_parameters()][:1] == ["backbone.0.weight"]


def test_ties_go_to_the_identity_deterministically():
    model = symc.canonicalize(plain_cnn(), C4).eval()
    flat = torch.full((2, 1, 16, 16), 0.5)   # turned by any element it is the same image: every score ties
    weights = model.pose_weights(flat)
    assert torch.equal(weights, torch.tensor([[1.0, 0, 0, 0]] * 2))


def test_symc_check_passes_on_canonicalized_models():
    assert symc.check(symc.canonicalize(plain_cnn(), D4).eval(), D4).max_error == 0
    assert symc.check(symc.canonicalize(per_pixel_cnn(), "image 1x16x16; rotation 4; equivariant output 3"),
                      "image 1x16x16; rotation 4; equivariant output 3").ok


def test_symc_check_flags_a_wrapper_that_does_not_turn_the_input_back():
    from symc.nn.canonicalize import Canonicalize
    good = symc.canonicalize(plain_cnn(), C4)
    identity = [((0, 1), (0, 0), 0.0)] * 4
    broken = Canonicalize(good.backbone, good.canonicalizer, identity, [(0, 1, 2, 3)] * 4).eval()
    report = symc.check(broken, C4)
    assert not report.ok
    assert {row.element for row in report.failures} == {"rot 90", "rot 180", "rot 270"}


def test_symc_check_flags_a_canonicalizer_that_is_not_equivariant():
    from symc.nn.canonicalize import Canonicalize
    good = symc.canonicalize(plain_cnn(), C4)
    torch.manual_seed(3)
    scorer = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 14 * 14, 4))
    moves = [(source, flips, 0.0) for source, flips in zip(good.sources, good.flips)]
    broken = Canonicalize(good.backbone, scorer, moves, [(g,) for g in good.inverses]).eval()
    report = symc.check(broken, C4)
    assert not report.ok and len(report.failures) >= 2, report


def test_the_hint_compiles_a_plain_backbone_behind_the_canonicalizer():
    compiled = symc.compile(HINT)
    plain = symc.compile("image 1x16x16; invariant output 5 classes")
    plan = compiled.plan
    assert plan.backbone.params == plain.plan.params
    assert plan.params == plan.canonicalizer.params + plan.backbone.params
    assert plan.canonicalizer.spec.normalized() == "image 1x16x16; C4; orientation output 1; width 8"
    model = compiled.new_module()
    assert sum(p.numel() for p in model.parameters()) == plan.params
    assert sum(p.numel() for p in model.backbone.parameters()) == plain.plan.params
    text = str(plan)
    for phrase in ("canonicalize: a C4-equivariant canonicalizer", f"canonicalizer ({plan.canonicalizer.params:,} "
                   "parameters)", f"backbone ({plain.plan.params:,} parameters)", "straight-through softmax"):
        assert phrase in text
    assert plan.to_dict()["totals"]["params"] == plan.params
    assert '"backbone/01_lift"' in plan.to_dot() and '"canonicalizer/01_lift"' in plan.to_dot()
    report = symc.check(model, compiled.spec)
    assert report.ok and report.max_error == 0, report


def test_the_generated_file_runs_with_torch_alone_and_passes_symc_check(tmp_path, capsys):
    path = symc.compile("image 1x12x12; p4m; equivariant output 2; canonicalize").write(tmp_path / "model.py")
    script = ("import sys, runpy, torch; sys.modules['symc'] = None\n"   # importing symc would fail
              f"m = runpy.run_path({str(path)!r})\n"
              "model = m['Model']().eval(); x = torch.randn(3, 1, 12, 12)\n"
              "y = model(x); z = model(torch.flip(x, dims=(-1,)))\n"
              "assert torch.equal(z, torch.flip(y, dims=(-1,))), (z - torch.flip(y, dims=(-1,))).abs().max()\n"
              "print(m['SPEC'], tuple(y.shape))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "image 1x12x12; D4; equivariant output 2; canonicalize (3, 2, 12, 12)"
    assert main(["check", str(path)]) == 0
    assert "PASS" in capsys.readouterr().out


def test_the_hint_round_trips_through_the_canonical_text():
    spec = symc.parse("image 1x28x28; p4; invariant output 10 classes; Canonicalise")
    assert spec.hints.canonicalize is True
    assert spec.normalized() == "image 1x28x28; C4; invariant output 10; canonicalize"
    assert symc.parse(spec.normalized()) == symc.parse("image 1x28x28; C4; invariant output 10; canonicalize")


@pytest.mark.parametrize("text, column, phrase", [
    ("image 1x28x28; rotation 8; invariant output 10; canonicalize", 16,
     "'rotation 8' turns by 45 degrees, which no exact grid move does"),
    ("image 3x28x28; p4; hue 3; invariant output; canonicalize", 20, "'hue 3' cannot be undone by turning the image"),
    ("image 1x29x29; SO(2); invariant output; canonicalize", 16, "'SO(2)' cannot be undone by turning the image"),
    ("image 1x28x28; invariant output; canonicalize", 34, "needs a rotation or mirror group to undo"),
    ("image; p4m; equivariant output 2 fields; canonicalize", 13, "'equivariant output 2 fields' has a group axis"),
    ("image; p4; orientation output; canonicalize", 12, "'orientation output' has a group axis"),
    ("image; p4; invariant output; invariant fraction 0.5; canonicalize", 30,
     "'invariant fraction 0.5' shapes group fields, but with 'canonicalize' the backbone is plain"),
    ("sequence 1x32; time reversal; invariant output; canonicalize", 49,
     "'canonicalize' is for turning inputs back to a canonical pose (images), not a sequence"),
])
def test_located_spec_errors(text, column, phrase):
    with pytest.raises(symc.SpecError) as caught:
        symc.parse(text)
    assert (caught.value.line, caught.value.column) == (1, column), str(caught.value)
    assert phrase in caught.value.message


@pytest.mark.parametrize("spec, phrase", [
    ("image 1x16x16; rotation 8; invariant output 5", "supported: 'rotation 2', 'rotation 4' ('p4'), 'flip', "
                                                     "'D2' or 'D4' ('p4m') on images"),
    ("image 1x16x16; D8; invariant output 5", "'D8' turns by 45 degrees"),
    ("image 3x16x16; hue 3; invariant output 5", "'hue 3' cannot be undone by turning the image"),
    ("sequence 1x32; time reversal; invariant output", "canonicalization turns images back to a canonical pose, "
                                                       "not sequences"),
    ("image 1x16x16; invariant output 5", "needs a rotation or mirror group"),
])
def test_unsupported_groups_get_a_clear_error_from_the_python_api(spec, phrase):
    with pytest.raises(symc.SpecError) as caught:
        symc.canonicalize(plain_cnn(), spec)
    assert phrase in caught.value.message


def test_flip_and_rotation_2_canonicalize_exactly(noise):
    for spec, moves in (("image 1x16x16; flip; invariant output 5", [lambda x: x, lambda x: torch.flip(x, (-1,))]),
                        ("image 1x16x16; rotation 2; invariant output 5",
                         [lambda x: x, lambda x: torch.rot90(x, 2, dims=(-2, -1))])):
        model = wrapped(plain_cnn().double(), spec)
        with torch.no_grad():
            assert max((model(m(noise)) - model(noise)).abs().max().item() for m in moves) <= 1e-15


def test_a_state_dict_round_trip_gives_the_same_outputs():
    compiled = symc.compile("image 1x12x12; flip; equivariant output 2; canonicalize")
    torch.manual_seed(0)
    first, second = compiled.new_module().eval(), compiled.new_module().eval()
    second.load_state_dict(first.state_dict())
    x = torch.randn(2, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(first(x), second(x))
    assert any(key.startswith("canonicalizer.") for key in first.state_dict())
    assert any(key.startswith("backbone.") for key in first.state_dict())
