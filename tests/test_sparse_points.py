"""Sparse point clouds (`cutoff R`, `neighbours K`): PyG's flat layout, exact symmetry cloud by cloud, smooth at the
cutoff, units set by the radial range, the plan's counts, and clear errors."""
from __future__ import annotations

import math

import pytest
import torch

import symc
from symc.testing import EXACT_TOLERANCE, check

SPECS = [
    "point cloud with 2 features; E(3); invariant output 3; equivariant vector output; cutoff 2.5; width 16",
    "point cloud; SE(3); invariant output 2; cutoff 2; width 16; depth 2",
    "point cloud; O(3); invariant output 2; equivariant vector output; neighbours 4; width 16",
    "point cloud 12x2 with 3 features; SO(2); invariant output 2; equivariant output 3; cutoff 1.5; pooling sum; "
    "width 16",
    "point cloud 12x2; E(2); equivariant vector output; neighbours 5; length scale 0.5; pooling max; width 16",
    "point cloud with 1 feature; translation; permutation; invariant output 2; cutoff 2; width 16",
    "point cloud; permutation; invariant output 2; cutoff 2; width 16",
    "point cloud; E(3); equivariant output 1x0e + 1x1o + 1x2e; equivariant output 1x1e + 2x0o per cloud; cutoff 2; "
    "neighbours 6; width 16",
    "point cloud; SO(3); equivariant output 1x1o + 1x2e per cloud; cutoff 2; width 16",
]


def compiled(text: str, seed: int = 0):
    torch.manual_seed(seed)
    c = symc.compile(text)
    return c, c.module.eval()


def cloud(count: int, scale: float = 1.5, dim: int = 3, seed: int = 0) -> torch.Tensor:
    return scale * torch.randn(count, dim, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("text", SPECS, ids=lambda t: t.split(";")[1].strip() + " " + t.split(";")[-2].strip())
def test_sparse_models_pass_the_tester_and_count_their_parameters(text):
    c, module = compiled(text)
    assert c.plan.params == sum(p.numel() for p in module.parameters())
    report = check(module, text)
    assert report.ok, report
    assert "clouds relabelled" in str(report)


def test_outputs_have_the_flat_shapes():
    text = SPECS[7]
    _, module = compiled(text)
    batch = torch.tensor([0, 1, 0, 2, 1, 2, 2, 0, 1, 1])
    per_point, per_cloud = module(cloud(10), batch=batch)
    assert per_point.shape == (10, 9) and per_cloud.shape == (3, 5)
    _, module = compiled(SPECS[0])
    invariant, vectors = module(cloud(10), torch.randn(10, 2), batch)
    assert invariant.shape == (3, 3) and vectors.shape == (10, 3)


def test_a_batch_equals_its_clouds_one_at_a_time():
    _, module = compiled(SPECS[0])
    module.double()
    sizes = [5, 9, 7]
    pos = [cloud(n, seed=i).double() for i, n in enumerate(sizes)]
    feats = [torch.randn(n, 2, dtype=torch.float64) for n in sizes]
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
    with torch.no_grad():
        together = module(torch.cat(pos), torch.cat(feats), batch)
        alone = [module(p, f) for p, f in zip(pos, feats)]
        unbatched = module(pos[0], feats[0], torch.zeros(5, dtype=torch.long))
    torch.testing.assert_close(together[0], torch.cat([a[0] for a in alone]), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(together[1], torch.cat([a[1] for a in alone]), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(unbatched[0], alone[0][0], rtol=0, atol=0)


def test_outputs_and_gradients_are_continuous_as_a_point_crosses_the_cutoff():
    """Two points moved apart through the cutoff: the energy and its slope change smoothly, and beyond the cutoff
    they no longer interact."""
    _, module = compiled("point cloud; E(3); invariant output 1; cutoff 2; width 16; pooling sum")
    module.double()
    steps = torch.linspace(1.9, 2.1, 201, dtype=torch.float64)
    energies, slopes = [], []
    for d in steps:
        pos = torch.tensor([[0.0, 0.0, 0.0], [float(d), 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
        energy = module(pos).sum()
        (grad,) = torch.autograd.grad(energy, pos, allow_unused=True)  # unused beyond the cutoff: no edges
        grad = torch.zeros_like(pos) if grad is None else grad
        energies.append(float(energy.detach()))
        slopes.append(float(grad[1, 0]))
    energies, slopes = torch.tensor(energies), torch.tensor(slopes)
    # beyond the cutoff the two points are alone: the energy is constant and its slope zero
    beyond = steps > 2.0
    assert float((energies[beyond] - energies[beyond][0]).abs().max()) < 1e-12
    assert float(slopes[beyond].abs().max()) < 1e-12
    # no jump at the cutoff: neighbouring steps differ by about the slope times the step, slopes vary smoothly
    step = float(steps[1] - steps[0])
    assert float(energies.diff().abs().max()) <= 1.5 * float(slopes.abs().max()) * step + 1e-12
    assert float(slopes.diff().abs().max()) < 0.05 * (float(slopes.abs().max()) + 1e-9) + 1e-9
    assert float(slopes[~beyond][:50].abs().max()) > 0  # inside, the points did interact


def test_the_radial_range_sets_the_unit_the_same_weights_give_the_same_outputs_in_any_unit():
    """A model with cutoff R on positions x and the same weights with cutoff s R on s x agree: positions in
    Angstrom or in bond lengths differ only by the cutoff written in the spec."""
    _, small = compiled("point cloud with 1 feature; E(3); invariant output 2; equivariant vector output; cutoff 2; "
                        "width 16")
    _, large = compiled("point cloud with 1 feature; E(3); invariant output 2; equivariant vector output; "
                        "cutoff 3.4; width 16", seed=1)
    large.load_state_dict(small.state_dict())
    pos, features = cloud(20), torch.randn(20, 1)
    with torch.no_grad():
        a, b = small(pos, features), large(1.7 * pos, features)
    torch.testing.assert_close(a[0], b[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(a[1], b[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dim", [2, 3])
def test_rotation_only_groups_tell_mirror_images_apart(dim):
    pos = cloud(40, dim=dim)
    batch = torch.arange(40) % 4
    mirror = torch.ones(dim)
    mirror[0] = -1.0
    size = "" if dim == 3 else " 12x2"
    for group, chiral in (("SE", True), ("E", False), ("SO", True), ("O", False)):
        _, module = compiled(f"point cloud{size}; {group}({dim}); invariant output 3; cutoff 2.5; width 16")
        with torch.no_grad():
            original, mirrored = module(pos, batch=batch), module(pos * mirror, batch=batch)
        spread = (original - original.mean(0)).pow(2).mean().sqrt()
        difference = float((original - mirrored).pow(2).mean().sqrt() / spread)
        if chiral:  # weak in a fresh 3-D model (cross products need two layers to reach the scalars), but there
            assert difference > 1e-4, f"{group}({dim}) cannot tell mirror images apart ({difference:.2e})"
        else:
            assert difference < EXACT_TOLERANCE, f"{group}({dim}) tells mirror images apart ({difference:.2e})"


@pytest.mark.parametrize("edit, failing", [
    # messages read absolute positions instead of differences: translations break
    ("diff = pos.index_select(0, target) - pos.index_select(0, source)",
     "translation"),
    # the pool reads the cloud of another row: reordering the rows changes the results
    ('cloud_pool(self.output0_invariant_head(h), batch, clouds, "mean")',
     "permutation"),
])
def test_the_tester_catches_planted_breaks(edit, failing, tmp_path):
    text = SPECS[0]
    c = symc.compile(text)
    broken = {"translation": "diff = pos.index_select(0, target) - 0.5 * pos.index_select(0, source)",
              "permutation": 'cloud_pool(self.output0_invariant_head(h), batch.flip(0), clouds, "mean")'}[failing]
    assert edit in c.source
    path = tmp_path / "broken.py"
    path.write_text(c.source.replace(edit, broken))
    module, spec_text = symc.testing.load_model_file(path)
    report = check(module, spec_text)
    assert not report.ok
    assert any(failing in row.element and not row.ok for row in report.rows)


def test_the_file_is_standalone_and_deterministic(tmp_path):
    c = symc.compile(SPECS[7])
    assert c.source == symc.compile(SPECS[7]).source
    assert "symc" not in "".join(line for line in c.source.splitlines() if line.startswith(("import", "from")))
    for name in ("radius_graph(pos, self.cutoff, batch, max_neighbours=self.neighbours)", "CUTOFF = 2.0",
                 "self.cutoff = float(CUTOFF)", "NEIGHBOURS = 6", "self.neighbours = NEIGHBOURS", "EDGE_CHUNK = ",
                 "RADIAL_RANGE = 2.0"):
        assert name in c.source
    module, _ = symc.testing.load_model_file(c.write(tmp_path / "model.py"))
    assert module(cloud(8))[0].shape == (8, 9)


def test_the_plan_reports_the_neighbourhood_and_the_chunk():
    text = str(symc.plan("point cloud; E(3); invariant output 1; cutoff 2.5"))
    for words in ("cutoff 2.5", "edge chunk", "B of messages per edge", "cell lists", "Bessel"):
        assert words in text, words


@pytest.mark.parametrize("spec, message", [
    ("image 1x8x8; C4; invariant output 1; cutoff 2", "'cutoff 2' is for the neighbourhoods of points (point clouds), "
                                                      "not an image"),
    ("point cloud; E(3); invariant output 1; sparse", "point clouds become sparse with 'cutoff R' or 'neighbours K'"),
    ("point cloud; E(3); invariant output 1; cutoff 0", "the cutoff must be above 0"),
    ("point cloud; E(3); invariant output 1; neighbours 0", "the number of neighbours must be at least 1"),
    ("point cloud; E(3); invariant output 1; cutoff 2; length scale 1", "already sets it: give one"),
    ("point cloud; E(3); invariant output 1; length scale 1", "add 'cutoff R' or 'neighbours K'"),
    ("point cloud; E(3); invariant output 1; pooling sum", "'pooling sum' is for sparse point clouds"),
    ("image 1x8x8; C4; invariant output 1; pooling sum", "'pooling sum' adds up the elements' outputs"),
    ("point cloud; E(3); invariant output 1; cutoff 2; norm batch", "'norm batch' is not available for sparse"),
    ("point cloud; E(3); invariant output 1; cutoff 2; widths 8,16", "give one width for every layer"),
])
def test_bad_neighbourhood_specs_get_located_errors(spec, message):
    with pytest.raises(symc.SpecError) as caught:
        symc.compile(spec)
    assert message in str(caught.value)


@pytest.mark.parametrize("call, message", [
    (lambda m: m(torch.randn(5, 2)), "expected positions of shape (N, 3)"),
    (lambda m: m(torch.randn(2, 5, 3), torch.randn(2, 5, 2)), "expected positions of shape (N, 3)"),
    (lambda m: m(torch.randn(5, 3)), "expected features of shape (N, 2) with the positions"),
    (lambda m: m(torch.randn(5, 3), torch.randn(4, 2)), "expected features of shape (N, 2) = (5, 2), got (4, 2)"),
    (lambda m: m(torch.randn(5, 3), torch.randn(5, 2), torch.zeros(4, dtype=torch.long)),
     "expected batch of shape (N,) = (5,), got shape (4,)"),
    (lambda m: m(torch.randn(5, 3), torch.randn(5, 2), torch.zeros(5)), "expected batch of shape (N,) as int64 (torch.long) cloud indices"),
])
def test_bad_inputs_get_clear_errors(call, message):
    _, module = compiled(SPECS[0])
    with pytest.raises(ValueError) as caught:
        call(module)
    assert message in str(caught.value)


def test_hints_round_trip_through_the_canonical_text():
    for text in SPECS:
        spec = symc.parse(text)
        assert symc.parse(spec.normalized()) == symc.parse(spec.normalized())
        assert symc.parse(spec.normalized()).hints == spec.hints
    assert math.isclose(symc.parse(SPECS[4]).hints.length_scale, 0.5)
