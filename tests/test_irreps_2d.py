"""Irreps of O(2) on 2-D point clouds (`equivariant output IRREPS [per cloud]` on `point cloud Nx2`,
docs/spec-language.md §1.3.1): the clause, the shapes, exact equivariance of dense and sparse models, and symc check
flagging planted breaks.

The expected action is built here from cos and sin alone, not from symc.groups.o2, so the test judges symc's
matrices and models independently: degree l turns by l t; the mirror (x, y) -> (x, -y) acts by diag(1, -1) on the
natural parity (-1)^l and by -diag(1, -1) on the other; 0o is negated by mirrors.
"""
from __future__ import annotations

import subprocess
import sys
from math import cos, pi, sin

import numpy as np
import pytest
import torch

import symc
from symc.groups import o2
from symc.spec import SpecError

ALL = "1x0e + 1x0o + 1x1o + 1x1e + 2x2e + 1x2o + 1x3o + 1x3e + 1x4e"
ALL_DIM = 1 + 1 + 2 + 2 + 4 + 2 + 2 + 2 + 2
GROUPS = ("O(2)", "E(2)", "SO(2)", "SE(2)")
MIRROR = np.diag([1.0, -1.0])


def turn(angle: float) -> np.ndarray:
    return np.array([[cos(angle), -sin(angle)], [sin(angle), cos(angle)]])


def expected_block(l: int, p: int, angle: float, mirrored: bool) -> np.ndarray:
    """How (l, p) moves under turn(angle) @ MIRROR^mirrored, from the convention as written."""
    if l == 0:
        return np.array([[-1.0 if mirrored and p < 0 else 1.0]])
    block = turn(l * angle) @ MIRROR if mirrored else turn(l * angle)
    return -block if mirrored and p != (-1) ** l else block


def expected_matrix(text: str, angle: float, mirrored: bool) -> np.ndarray:
    blocks = []
    for term in text.replace(" ", "").split("+"):
        mul, irrep = term.split("x")
        blocks += [expected_block(int(irrep[:-1]), 1 if irrep[-1] == "e" else -1, angle, mirrored)] * int(mul)
    size = sum(b.shape[0] for b in blocks)
    out, start = np.zeros((size, size)), 0
    for b in blocks:
        out[start:start + len(b), start:start + len(b)] = b
        start += len(b)
    return out


def point_matrix(angle: float, mirrored: bool) -> np.ndarray:
    return turn(angle) @ MIRROR if mirrored else turn(angle)


def random_elements(count: int, mirrors: bool, seed: int):
    rng = np.random.default_rng(seed)
    return [(float(rng.uniform(0, 2 * pi)), mirrors and i % 2 == 1) for i in range(count)]


def _module(spec: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return symc.compile(spec).module.double().eval().requires_grad_(False)


def _error(moved: torch.Tensor, expected: torch.Tensor) -> float:
    return float((moved - expected).abs().max() / expected.abs().max())


# ---------------------------------------------------------------- the math, against the convention


@pytest.mark.parametrize("l", range(o2.MAX_DEGREE + 1))
def test_harmonics_are_cos_and_sin_of_l_phi(l):
    rng = np.random.default_rng(l)
    r, phi = rng.uniform(0.5, 2.0, 20), rng.uniform(0, 2 * pi, 20)
    v = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=-1)
    expected = np.ones((20, 1)) if l == 0 else np.stack([r ** l * np.cos(l * phi), r ** l * np.sin(l * phi)], -1)
    assert np.abs(o2.harmonics(l, v) - expected).max() < 1e-12 * max(1.0, 2.0 ** l)


@pytest.mark.parametrize("l", range(o2.MAX_DEGREE + 1))
@pytest.mark.parametrize("p", (1, -1))
def test_matrices_follow_the_documented_convention(l, p):
    for angle, mirrored in random_elements(6, True, 10 * l + (p > 0)):
        got = o2.irrep_matrix(l, p, point_matrix(angle, mirrored))
        assert np.abs(got - expected_block(l, p, angle, mirrored)).max() < 1e-12


def test_natural_parity_harmonics_move_by_their_matrix_and_form_a_representation():
    v = np.random.default_rng(3).standard_normal((10, 2))
    elements = random_elements(4, True, 4)
    for l in range(1, o2.MAX_DEGREE + 1):
        p = (-1) ** l
        for angle, mirrored in elements:
            q = point_matrix(angle, mirrored)
            assert np.allclose(o2.harmonics(l, v @ q.T), o2.harmonics(l, v) @ o2.irrep_matrix(l, p, q).T, atol=1e-10)
        (a, ma), (b, mb) = elements[:2]
        qa, qb = point_matrix(a, ma), point_matrix(b, mb)
        for parity in (1, -1):
            assert np.allclose(o2.irrep_matrix(l, parity, qa @ qb),
                               o2.irrep_matrix(l, parity, qa) @ o2.irrep_matrix(l, parity, qb), atol=1e-12)


def test_representation_is_mul_major_blocks():
    q = point_matrix(0.7, True)
    text = "2x1e + 1x0o + 1x2o"
    assert np.abs(o2.representation(o2.parse_irreps(text), q) - expected_matrix(text, 0.7, True)).max() < 1e-12


# ---------------------------------------------------------------- the clause


@pytest.mark.parametrize("written, canonical, dim", [
    ("1x0e + 1x1o + 1x2e", "1x0e+1x1o+1x2e", 5), ("2x1e", "2x1e", 4), ("1o + 0o", "1x1o+1x0o", 3),
    ("3x0e + 1x8o", "3x0e+1x8o", 5), ("1X2E", "1x2e", 2)])
def test_clause_accepts_irreps_on_2d_points(written, canonical, dim):
    for tail, kind in (("", "irreps"), (" per cloud", "cloud irreps")):
        spec = symc.parse(f"point cloud 16x2; O(2); permutation; equivariant output {written}{tail}")
        (output,) = spec.outputs
        assert (output.kind, output.irreps, output.size) == (kind, canonical, dim)
        assert spec.normalized().endswith(f"equivariant output {canonical}{tail}")
        assert symc.parse(spec.normalized()).outputs == spec.outputs


def test_the_same_irreps_have_3d_sizes_on_3d_points():
    two = symc.parse("point cloud 5x2; SE(2); equivariant output 1x0e + 2x1o + 1x2e per cloud").outputs[0]
    three = symc.parse("point cloud 5x3; SE(3); equivariant output 1x0e + 2x1o + 1x2e per cloud").outputs[0]
    assert (two.size, three.size) == (7, 12) and two.irreps == three.irreps


@pytest.mark.parametrize("spec, column, words", [
    ("point cloud 16x2; O(2); equivariant output 1x9e", 25,
     "asks for degree 9, which is not supported; supported: degrees up to 8 (irreps 0e to 8o) on 2-D points"),
    ("point cloud 16x2; O(2); equivariant output 1x1o + 12x10o per cloud", 25, "asks for degree 10"),
    ("point cloud 16x2; O(3); equivariant output 1x1o", 19, "'O(3)' moves 3-D points, but 'point cloud 16x2' has 2-D"),
    ("point cloud 16x3; SE(2); equivariant output 1x1o", 19, "'SE(2)' moves 2-D points, but 'point cloud 16x3' has "
                                                             "3-D"),
    ("point cloud 16x2; permutation; equivariant output 1x1e", 32,
     "gives irreps of O(2), which need a rotation group to act on them: add 'O(2)', 'SO(2)', 'E(2)' or 'SE(2)'"),
    ("point cloud 16x2; E(2); equivariant output 1x1p", 44, "the parity is 'e' (even) or 'o' (odd), not 'p'"),
    ("point cloud 16x2; E(2); equivariant output 1o; equivariant output 2e", 48, "a second per-point irreps output"),
])
def test_clause_refuses_with_a_located_error(spec, column, words):
    with pytest.raises(SpecError) as caught:
        symc.compile(spec)
    assert words in caught.value.message, caught.value.message
    assert caught.value.column in (column, column - 1), caught.value.column


# ---------------------------------------------------------------- dense models


def test_dense_shapes_and_permutations():
    model = _module("point cloud 16x2 with 3 features; SE(2); permutation; equivariant output 1x1o + 1x2e; "
                    "equivariant output 2x1e + 1x0o per cloud; invariant output 2")
    pos, features = torch.randn(4, 9, 2, dtype=torch.float64), torch.randn(4, 9, 3, dtype=torch.float64)
    per_point, per_cloud, invariant = model(pos, features)
    assert per_point.shape == (4, 9, 4) and per_cloud.shape == (4, 5) and invariant.shape == (4, 2)
    p = torch.randperm(9)
    moved = model(pos[:, p], features[:, p])
    assert torch.allclose(moved[0], per_point[:, p], atol=1e-12)
    assert torch.allclose(moved[1], per_cloud, atol=1e-12)


@pytest.mark.parametrize("group", GROUPS)
def test_dense_models_are_exactly_equivariant(group):
    model = _module(f"point cloud 16x2; {group}; permutation; equivariant output {ALL}; "
                    f"equivariant output {ALL} per cloud")
    torch.manual_seed(1)
    pos = torch.randn(3, 16, 2, dtype=torch.float64)
    per_point, per_cloud = model(pos)
    assert per_point.shape == (3, 16, ALL_DIM) and per_cloud.shape == (3, ALL_DIM)
    assert min(float(y.abs().mean()) for y in (per_point, per_cloud)) > 1e-4  # no block is all but zero
    translations = group in ("E(2)", "SE(2)")
    for angle, mirrored in random_elements(6, True, 7):
        q = torch.from_numpy(point_matrix(angle, mirrored))
        d = torch.from_numpy(expected_matrix(ALL, angle, mirrored))
        shift = 3.0 * torch.randn(2, dtype=torch.float64) if translations else torch.zeros(2, dtype=torch.float64)
        moved_point, moved_cloud = model(pos @ q.T + shift)
        errors = (_error(moved_point, per_point @ d.T), _error(moved_cloud, per_cloud @ d.T))
        if mirrored and group in ("SO(2)", "SE(2)"):  # parity is not claimed: mirror images differ
            assert min(errors) > 1e-3, (angle, errors)
        else:
            assert max(errors) < 1e-11, (angle, mirrored, errors)
    if not translations:  # positions about the origin: a shift is not in the group and moves the outputs
        assert _error(model(pos + 1.0)[0], per_point) > 1e-3


def test_cartesian_view_of_0e_plus_2e_is_a_symmetric_matrix():
    compiled = symc.compile("point cloud 7x2; O(2); equivariant output 1x0e + 1x2e per cloud")
    namespace = {}
    exec(compile(compiled.source, "model.py", "exec"), namespace)
    model = namespace["Model"]().double().eval()
    pos = torch.randn(2, 7, 2, dtype=torch.float64)
    q = torch.from_numpy(point_matrix(1.3, True))
    m, m_moved = namespace["symmetric_matrix"](model(pos)), namespace["symmetric_matrix"](model(pos @ q.T))
    assert m.shape == (2, 2, 2) and torch.allclose(m, m.transpose(-1, -2))
    assert torch.allclose(m_moved, q @ m @ q.T, atol=1e-12)
    y = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)  # its inverse, as its docstring writes it
    mat = namespace["symmetric_matrix"](y)
    s2 = 2.0 ** 0.5
    assert torch.allclose(torch.stack([mat.trace() / s2, (mat[0, 0] - mat[1, 1]) / s2, s2 * mat[0, 1]]), y)


def test_scripted_model_matches_and_passes():
    compiled = symc.compile("point cloud 8x2; E(2); permutation; equivariant output 1x0o + 1x1e + 1x2e; "
                            "equivariant output 1o + 3o per cloud")
    scripted = torch.jit.script(compiled.module.eval())
    pos = torch.randn(2, 8, 2)
    for a, b in zip(scripted(pos), compiled.module(pos)):
        assert torch.equal(a, b)
    assert symc.check(scripted, compiled.spec).ok


def test_gradients_are_finite():
    model = symc.compile(f"point cloud 6x2; SO(2); equivariant output {ALL}").module
    pos = torch.randn(2, 6, 2, requires_grad=True)
    model(pos).pow(2).sum().backward()
    assert torch.isfinite(pos.grad).all()


# ---------------------------------------------------------------- sparse models


def _flat_clouds(counts, seed=0):
    generator = torch.Generator().manual_seed(seed)
    batch = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    pos = 0.6 * torch.randn(len(batch), 2, generator=generator, dtype=torch.float64)
    return pos, batch


@pytest.mark.parametrize("group, hint", [("O(2)", "cutoff 1.5"), ("E(2)", "neighbours 5"),
                                         ("SE(2)", "cutoff 1.5; neighbours 6")])
def test_sparse_models_are_exactly_equivariant_cloud_by_cloud(group, hint):
    model = _module(f"point cloud 16x2; {group}; equivariant output {ALL}; equivariant output {ALL} per cloud; "
                    f"{hint}")
    pos, batch = _flat_clouds([9, 11, 10])
    per_point, per_cloud = model(pos, batch=batch)
    assert per_point.shape == (30, ALL_DIM) and per_cloud.shape == (3, ALL_DIM)
    assert min(float(y.abs().mean()) for y in (per_point, per_cloud)) > 1e-4
    mirrors = group in ("O(2)", "E(2)")
    elements = random_elements(3, mirrors, 11)  # one element per cloud
    q = torch.stack([torch.from_numpy(point_matrix(a, m)) for a, m in elements])
    d = torch.stack([torch.from_numpy(expected_matrix(ALL, a, m)) for a, m in elements])
    shift = 3.0 * torch.randn(3, 2, dtype=torch.float64) if group != "O(2)" else torch.zeros(3, 2, dtype=torch.float64)
    moved_point, moved_cloud = model(torch.einsum("nij,nj->ni", q[batch], pos) + shift[batch], batch=batch)
    assert _error(moved_point, torch.einsum("nij,nj->ni", d[batch], per_point)) < 1e-11
    assert _error(moved_cloud, torch.einsum("gij,gj->gi", d, per_cloud)) < 1e-11


# ---------------------------------------------------------------- symc check


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("hint", ["", "; neighbours 5"])
def test_symc_check_passes_tightly(group, hint):
    spec = f"point cloud 10x2; {group}; permutation; equivariant output {ALL}; equivariant output {ALL} per cloud{hint}"
    report = symc.check(_module(spec), spec, dtype=torch.float64)
    assert report.ok and report.max_error < 1e-10, report
    names = {row.element for row in report.rows}
    assert any("det -1" in n for n in names) == (group in ("O(2)", "E(2)"))
    assert any("translation" in n for n in names) == (group in ("E(2)", "SE(2)"))
    assert "O(2)'s block diagonal" in str(report)


def test_example_spec_passes_symc_check():
    text = open("specs/points_irreps_2d.sym").read()
    report = symc.check(symc.compile(text).module, text)
    assert report.ok, report
    assert "reflection 1 (det -1)" in str(report) and "irreps output 1x0o+1x1e per cloud" in str(report)


class Claimed(torch.nn.Module):
    """A symc model whose outputs are re-read: `index` reorders the components of every output."""

    def __init__(self, model, index):
        super().__init__()
        self.model, self.index = model, index

    def forward(self, pos, features=None, batch=None):
        y = self.model(pos) if batch is None else self.model(pos, batch=batch)
        return y[..., self.index]


def _failing(report):
    return {row.element for row in report.rows if not row.ok and row.output is not None}


@pytest.mark.parametrize("tail", ["", " per cloud", "; neighbours 5", " per cloud; cutoff 1.5"])
def test_wrong_parity_fails_exactly_the_mirror_rows(tail):
    """A vector (1o) claimed as a pseudo-vector (1e), a scalar as a pseudoscalar: only the det -1 rows fail, and the
    same model claimed under SE(2), where parity is not claimed, passes."""
    for made, claimed in (("1x1o", "1x1e"), ("1x0e + 1x2e", "1x0o + 1x2e"), ("1x2o", "1x2e")):
        model = _module(f"point cloud 10x2; E(2); equivariant output {made}{tail}")
        report = symc.check(model, f"point cloud 10x2; E(2); equivariant output {claimed}{tail}", dtype=torch.float64)
        assert not report.ok and _failing(report), report
        assert all("det -1" in name for name in _failing(report)), report
        assert symc.check(model, f"point cloud 10x2; SE(2); equivariant output {claimed}{tail}",
                          dtype=torch.float64).ok


@pytest.mark.parametrize("hint", ["", "; cutoff 1.5"])
def test_swapped_components_fail_the_rotation_rows(hint):
    # (cos, sin) read as (sin, cos) in degree 1 and in degree 2; two copies of one irrep swapped stay equivariant
    for irreps, index, caught in (("1x1o", [1, 0], True), ("1x0e + 1x2e", [0, 2, 1], True),
                                  ("1x3o + 1x1o", [0, 1, 3, 2], True), ("2x2e", [2, 3, 0, 1], False)):
        spec = f"point cloud 10x2; SO(2); permutation; equivariant output {irreps}{hint}"
        report = symc.check(Claimed(_module(spec), torch.tensor(index)), spec, dtype=torch.float64)
        if not caught:
            assert report.ok, report
            continue
        failing = _failing(report)
        assert not report.ok and any(name.startswith("rotation") for name in failing), report
        assert not any(name.startswith(("permutation", "reverse", "identity", "clouds")) for name in failing)


def test_planted_break_in_a_generated_file_is_flagged(tmp_path):
    """Re z^2 and Im z^2 swapped in HARMONICS of a written file: `symc check model.py` exits 1 on the rotation rows,
    the unedited file exits 0."""
    compiled = symc.compile("point cloud 10x2; O(2); permutation; equivariant output 1x2e + 1x1e; cutoff 1.5")
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    compiled.write(good)
    source = compiled.source
    row = "    2: [[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]]"
    assert source.count(row) == 1
    bad.write_text(source.replace(row, "    2: [[0.0, 2.0, 0.0], [1.0, 0.0, -1.0]]"))
    assert subprocess.run([sys.executable, "-m", "symc.cli", "check", str(good)], capture_output=True).returncode == 0
    result = subprocess.run([sys.executable, "-m", "symc.cli", "check", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1, result.stdout
    assert "rotation 1" in result.stdout and "FAIL" in result.stdout


@pytest.mark.parametrize("hint", ["", "; neighbours 4"])
def test_generated_file_needs_torch_alone(tmp_path, hint):
    compiled = symc.compile(f"point cloud 5x2; E(2); equivariant output {ALL}{hint}")
    path = tmp_path / "model.py"
    compiled.write(path)
    assert "import symc" not in compiled.source and "from symc" not in compiled.source
    shape = "(5, 2)" if hint else "(2, 5, 2)"
    code = ("import sys, builtins; real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    assert not name.startswith(('e3nn', 'escnn', 'symc')), name\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            f"import importlib.util; s = importlib.util.spec_from_file_location('m', {str(path)!r})\n"
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
            f"import torch; print(tuple(m.Model()(torch.randn{shape}).shape))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (f"(5, {ALL_DIM})" if hint else f"(2, 5, {ALL_DIM})")
