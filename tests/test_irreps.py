"""Irreps of O(3) on point clouds (`equivariant output IRREPS [per cloud]`, docs/spec-language.md §1.3, §5.4, §9.3).

symc's own basis (symc/groups/o3.py: solid harmonics, Wigner matrices, Clebsch-Gordan couplings) is checked against
e3nn directly, compiled models with e3nn's `equivariance_error`, and symc check is shown to flag wrong parities and
wrong basis orders. e3nn is a test dependency only: generated files need torch alone.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import symc
from symc.groups import o3 as ours
from symc.spec import SpecError

e3nn = pytest.importorskip("e3nn")
from e3nn import o3  # noqa: E402
from e3nn.util.test import equivariance_error  # noqa: E402

ALL = "1x0e + 1x1o + 1x2e + 1x0o + 1x1e + 2x2o + 1x3o + 1x3e + 1x4e + 1x4o"
GROUPS = ("O(3)", "E(3)", "SO(3)", "SE(3)")


@pytest.fixture
def float64():
    """e3nn builds its Wigner matrices in the default dtype: float32 would cost it 7 digits."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


# ---------------------------------------------------------------- the basis against e3nn


@pytest.mark.parametrize("l", range(7))
def test_solid_harmonics_are_e3nns(l):
    v = np.random.default_rng(l).standard_normal((50, 3))
    theirs = o3.spherical_harmonics(l, torch.from_numpy(v), normalize=False, normalization="component").numpy()
    assert np.abs(ours.harmonics(l, v) - theirs).max() < 1e-12 * max(1.0, np.abs(theirs).max())


def test_degree_one_is_xyz_and_d1_is_r(float64):
    v = np.random.default_rng(0).standard_normal((5, 3))
    assert np.allclose(ours.harmonics(1, v), np.sqrt(3) * v)
    r = o3.rand_matrix()
    assert torch.allclose(o3.Irrep("1o").D_from_matrix(r), r, atol=1e-13)
    assert np.allclose(ours.wigner_matrix(1, -1, r.numpy()), r.numpy(), atol=1e-13)


@pytest.mark.parametrize("l", range(ours.MAX_DEGREE + 1))
@pytest.mark.parametrize("p", (1, -1))
def test_wigner_matrices_are_e3nns_d_from_matrix(float64, l, p):
    torch.manual_seed(l)
    for det in (1, -1):
        r = det * o3.rand_matrix()
        theirs = o3.Irrep(l, p).D_from_matrix(r).numpy()
        assert np.abs(ours.wigner_matrix(l, p, r.numpy()) - theirs).max() < 1e-12


def test_block_layout_is_e3nns(float64):
    r = -o3.rand_matrix()
    for text in ("1x0e+1x1o+1x2e", "2x1e", "1x2e+1x3o", "1o+2e", "3x0o+2x2o"):
        irreps = ours.parse_irreps(text)
        assert ours.irreps_text(irreps) == str(o3.Irreps(text))
        assert ours.irreps_dim(irreps) == o3.Irreps(text).dim
        assert np.abs(ours.representation(irreps, r.numpy()) - o3.Irreps(text).D_from_matrix(r).numpy()).max() < 1e-12


@pytest.mark.parametrize("ls", [(1, 1, 1), (1, 1, 0), (2, 1, 2), (3, 1, 3), (4, 1, 4), (2, 2, 2), (1, 2, 3)])
def test_clebsch_gordan_is_e3nns_wigner_3j_up_to_sign(ls):
    c = ours.clebsch_gordan(*ls)
    w = o3.wigner_3j(*ls, dtype=torch.float64).numpy()
    assert min(np.abs(c - w).max(), np.abs(c + w).max()) < 1e-12


def test_symmetric_matrices_are_0e_plus_2e(float64):
    """The Cartesian view: '1x0e+1x2e' is an orthonormal basis of symmetric matrices that moves as R M R^T."""
    basis = ours.symmetric_basis()
    assert np.allclose(np.einsum("aij,bij->ab", basis, basis), np.eye(6), atol=1e-14)
    r = -o3.rand_matrix().numpy()
    y = np.random.default_rng(1).standard_normal(6)
    d = ours.representation(ours.parse_irreps("0e+2e"), r)
    assert np.allclose(np.einsum("k,kij->ij", d @ y, basis), r @ np.einsum("k,kij->ij", y, basis) @ r.T)
    # and e3nn's own change of basis from 3x3 tensors agrees, up to the sign of each block
    q = o3.ReducedTensorProducts("ij=ji", i="1o").change_of_basis.numpy()  # (6, 3, 3): 0e then 2e
    overlap = np.einsum("aij,bij->ab", basis, q / np.linalg.norm(q, axis=(1, 2), keepdims=True))
    assert np.allclose(np.abs(overlap), np.eye(6), atol=1e-10)


# ---------------------------------------------------------------- the clause


@pytest.mark.parametrize("written, canonical, dim", [
    ("1x0e + 1x1o + 1x2e", "1x0e+1x1o+1x2e", 9), ("2x1e", "2x1e", 6), ("1x2e + 1x3o", "1x2e+1x3o", 12),
    ("1o + 2e", "1x1o+1x2e", 8), ("1x0e+1x1o", "1x0e+1x1o", 4), ("1X1O", "1x1o", 3)])
def test_clause_accepts_e3nn_strings(written, canonical, dim):
    for tail, kind in (("", "irreps"), (" per cloud", "cloud irreps")):
        spec = symc.parse(f"point cloud 11x3; O(3); permutation; equivariant output {written}{tail}")
        (output,) = spec.outputs
        assert (output.kind, output.irreps, output.size) == (kind, canonical, dim)
        assert spec.normalized().endswith(f"equivariant output {canonical}{tail}")
        assert symc.parse(spec.normalized()).outputs == spec.outputs


def test_clause_keeps_the_other_outputs():
    spec = symc.parse("point cloud 5x3; E(3); equivariant output 10k; invariant output 3 values; "
                      "equivariant output 1o; equivariant output 0e + 2e per cloud; equivariant vector output")
    assert [o.kind for o in spec.outputs] == ["equivariant", "invariant", "irreps", "cloud irreps", "vector"]
    assert [o.size for o in spec.outputs] == [10000, 3, 3, 6, 1]


@pytest.mark.parametrize("spec, column, words", [
    ("point cloud 11x3; O(3); equivariant output 1x1q", 44, "the parity is 'e' (even) or 'o' (odd), not 'q'"),
    ("point cloud 11x3; O(3); equivariant output 1x1o + 2", 51, "its parity is missing (write 2e"),
    ("point cloud 11x3; O(3); equivariant output 0x1o", 44, "has multiplicity 0"),
    ("point cloud 11x3; O(3); equivariant output 1x1o +", 50, "expected an irrep such as 1x1o or 2e"),
    ("point cloud 11x3; O(3); equivariant output 1x5e", 25, "degree 5, which is not supported; supported: degrees "
                                                            "up to 4"),
    ("point cloud 9x2; O(3); equivariant output 1x1o", 18, "'O(3)' moves 3-D points, but 'point cloud 9x2' has 2-D"),
    ("point cloud 9x3; permutation; equivariant output 1x1o", 31, "need a rotation group"),
    ("image 1x28x28; p4; equivariant output 1x1o", 20, "it is for point clouds, not an image"),
    ("set 10x3; equivariant output 1o per cloud", 11, "it is for point clouds, not a set"),
    ("point cloud 9x3; E(3); equivariant output 1o; equivariant output 2e", 47, "a second per-point irreps output"),
])
def test_clause_refuses(spec, column, words):
    with pytest.raises(SpecError) as caught:
        symc.compile(spec)
    assert words in caught.value.message
    assert caught.value.column in (column, column - 1)


# ---------------------------------------------------------------- compiled models against e3nn


def _module(spec: str) -> torch.nn.Module:
    return symc.compile(spec).module.double().eval()


def _check(model, spec):
    return symc.check(model, spec, dtype=torch.float64)


@pytest.mark.parametrize("group", GROUPS)
def test_e3nn_equivariance_error_per_point_and_per_cloud(float64, group):
    spec = f"point cloud 11x3; {group}; permutation; equivariant output {ALL}; equivariant output {ALL} per cloud"
    model = _module(spec)
    torch.manual_seed(0)
    pos = torch.randn(3, 11, 3)
    errors = equivariance_error(model, [pos], irreps_in=["cartesian_points"], irreps_out=[o3.Irreps(ALL)] * 2,
                                ntrials=3, do_parity=True, do_translation=True)
    scale = min(float(y.abs().mean()) for y in model(pos))
    assert scale > 1e-3
    # rotations: always exact; mirrors: for O(3)/E(3); translations: E(3)/SE(3). e3nn's translation rows also
    # hold a rotation (and for k = 1 a mirror), so a row passes when everything it applies is in the group.
    for (parity, translated), values in errors.items():
        claimed = (not parity or group in ("O(3)", "E(3)")) and (not translated or group in ("E(3)", "SE(3)"))
        if claimed:
            assert float(values.max()) < 1e-10, (parity, translated, values)
        else:
            assert float(values.max()) > 1e-3, (parity, translated, values)


def test_outputs_have_e3nns_shapes_and_follow_permutations():
    model = _module("point cloud 7x3 with 2 features; SE(3); permutation; equivariant output 1x1o + 1x2e; "
                    "equivariant output 2x1e per cloud; invariant output 2")
    pos, features = torch.randn(4, 9, 3, dtype=torch.float64), torch.randn(4, 9, 2, dtype=torch.float64)
    per_point, per_cloud, invariant = model(pos, features)
    assert per_point.shape == (4, 9, 8) and per_cloud.shape == (4, 6) and invariant.shape == (4, 2)
    p = torch.randperm(9)
    moved = model(pos[:, p], features[:, p])
    assert torch.allclose(moved[0], per_point[:, p], atol=1e-12)
    assert torch.allclose(moved[1], per_cloud, atol=1e-12)


def test_symmetric_matrix_helper_of_generated_files(float64):
    """`symmetric_matrix` (in files with an irreps output) turns '0e + 2e' into the 3x3 matrix that moves as R M R^T."""
    compiled = symc.compile("point cloud 6x3; O(3); equivariant output 1x0e + 1x2e per cloud")
    namespace = {}
    exec(compile(compiled.source, "model.py", "exec"), namespace)
    model = namespace["Model"]().double().eval()
    pos = torch.randn(2, 6, 3)
    r = -o3.rand_matrix()
    m, m_moved = namespace["symmetric_matrix"](model(pos)), namespace["symmetric_matrix"](model(pos @ r.T))
    assert torch.allclose(m, m.transpose(-1, -2)) and torch.allclose(m_moved, r @ m @ r.T, atol=1e-12)
    y = torch.randn(6)
    assert torch.allclose(namespace["symmetric_matrix"](y), torch.einsum("k,kij->ij", y, torch.from_numpy(
        ours.symmetric_basis())))


def test_generated_file_needs_torch_alone(tmp_path):
    compiled = symc.compile(f"point cloud 5x3; E(3); equivariant output {ALL}")
    path = tmp_path / "model.py"
    compiled.write(path)
    assert "import e3nn" not in compiled.source and "import symc" not in compiled.source
    code = ("import sys, builtins; real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    assert not name.startswith(('e3nn', 'symc')), name\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            f"import importlib.util; s = importlib.util.spec_from_file_location('m', {str(path)!r})\n"
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
            "import torch; print(m.Model()(torch.randn(2, 5, 3)).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "torch.Size([2, 5, 55])"


def test_scripted_model_matches_and_passes():
    compiled = symc.compile("point cloud 8x3; E(3); permutation; equivariant output 1x0o + 1x1e + 1x2e; "
                            "equivariant output 1o + 3o per cloud")
    scripted = torch.jit.script(compiled.module.eval())
    pos = torch.randn(2, 8, 3, dtype=torch.float32)
    for a, b in zip(scripted(pos), compiled.module(pos)):
        assert torch.equal(a, b)
    assert symc.check(scripted, compiled.spec).ok


def test_gradients_are_finite():
    model = symc.compile(f"point cloud 6x3; SE(3); equivariant output {ALL}").module
    pos = torch.randn(2, 6, 3, requires_grad=True)
    model(pos).pow(2).sum().backward()
    assert torch.isfinite(pos.grad).all()


# ---------------------------------------------------------------- symc check


def test_example_spec_passes_symc_check():
    result = subprocess.run([sys.executable, "-m", "symc.cli", "compile", "specs/points_irreps.sym", "-o", "-"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = symc.check(symc.compile(open("specs/points_irreps.sym").read()).module,
                        open("specs/points_irreps.sym").read())
    assert report.ok, report
    text = str(report)
    assert "reflection 1 (det -1)" in text and "translation 1" in text and "permutation 1" in text
    assert "D(R) = e3nn's Irreps.D_from_matrix(R)" in text


@pytest.mark.parametrize("group", GROUPS)
def test_symc_check_is_tight_in_float64(group):
    spec = f"point cloud 9x3; {group}; permutation; equivariant output {ALL}; equivariant output {ALL} per cloud"
    report = symc.check(_module(spec), spec, dtype=torch.float64)
    assert report.ok and report.max_error < 1e-10, report
    names = {row.element for row in report.rows}
    assert any("det -1" in n for n in names) == (group in ("O(3)", "E(3)"))
    assert any("translation" in n for n in names) == (group in ("E(3)", "SE(3)"))


class Claimed(torch.nn.Module):
    """A symc model whose output is re-read: `index` reorders its components, `sign` flips some of them."""

    def __init__(self, model, index=None, sign=None, per_cloud=False):
        super().__init__()
        self.model, self.index, self.sign = model, index, sign

    def forward(self, pos):
        y = self.model(pos)
        if self.index is not None:
            y = y[..., self.index]
        if self.sign is not None:
            y = y * self.sign
        return y


def _rows(report, failing: bool):
    return {row.element for row in report.rows if (not row.ok) == failing and row.output is not None}


@pytest.mark.parametrize("tail", ["", " per cloud"])
def test_wrong_parity_fails_exactly_the_mirror_rows(tail):
    """A vector (1o) claimed as a pseudo-vector (1e), a scalar claimed as a pseudo-scalar: only det -1 rows fail."""
    for made, claimed in (("1x1o", "1x1e"), ("1x0e + 1x2e", "1x0o + 1x2e"), ("1x2o", "1x2e")):
        model = _module(f"point cloud 8x3; E(3); equivariant output {made}{tail}")
        report = _check(model, f"point cloud 8x3; E(3); equivariant output {claimed}{tail}")
        assert not report.ok
        assert _rows(report, failing=True) and all("det -1" in name for name in _rows(report, failing=True))
        # the same model claimed SE(3) (no mirrors) passes
        assert _check(model, f"point cloud 8x3; SE(3); equivariant output {claimed}{tail}").ok


@pytest.mark.parametrize("tail", ["", " per cloud"])
def test_wrong_basis_order_fails_the_rotation_rows(tail):
    # e3nn before 0.2 ordered degree 1 as (y, z, x); a reversed m axis for degree 2; a swapped pair of components
    for irreps, index in (("1x1o", [1, 2, 0]), ("1x2e", [4, 3, 2, 1, 0]), ("1x0e + 1x3o", [0, 1, 2, 3, 4, 6, 5, 7]),
                          ("2x1o", [3, 4, 5, 0, 1, 2])):
        spec = f"point cloud 8x3; SO(3); permutation; equivariant output {irreps}{tail}"
        model = Claimed(_module(spec), index=torch.tensor(index))
        report = _check(model, spec)
        failing = _rows(report, failing=True)
        if irreps == "2x1o":  # two copies swapped: still equivariant, and symc check rightly passes it
            assert report.ok
            continue
        assert not report.ok and any(name.startswith("rotation") for name in failing), report
        assert not any(name.startswith(("permutation", "reverse", "identity")) for name in failing)


def test_planted_break_in_a_generated_file_is_flagged(tmp_path):
    """Two rows of HARMONICS swapped in a written file: `symc check model.py` exits 1 on the rotation rows."""
    compiled = symc.compile("point cloud 8x3; O(3); permutation; equivariant output 1x2e + 1x1e")
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    compiled.write(good)
    source = compiled.source
    start = source.index("    2: [[") + len("    2: [")
    rows = source[start:source.index("]]", start) + 1]
    parts = rows[1:-1].split("], [")
    parts[0], parts[1] = parts[1], parts[0]
    bad.write_text(source.replace(rows, "[" + "], [".join(parts) + "]"))
    assert source != bad.read_text()
    assert subprocess.run([sys.executable, "-m", "symc.cli", "check", str(good)], capture_output=True).returncode == 0
    result = subprocess.run([sys.executable, "-m", "symc.cli", "check", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "rotation 1" in result.stdout and "FAIL" in result.stdout
