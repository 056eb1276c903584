"""The examples' quick modes: each trains compiled models on a small real data set and asserts where the symmetry
helps (MNIST-1D: translation-invariant beats shuffled time steps; Fashion-MNIST: trained upright, C4 beats the CNN on
rotated images; molecules: the E(3) model beats an MLP on forces from 100 clusters)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FASHION_DIRS = [os.environ.get("FASHION_MNIST_DIR", ""), "/usr/share/datasets/fashion-mnist"]


def need(*modules):
    # A missing example dependency is an install mistake, not a reason to pass quietly.
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"example dependencies missing: {', '.join(missing)}; install with pip install -e '.[examples]'")


def run_quick(name: str, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name / "run.py"), "--quick", "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_mnist1d_translation_beats_shuffled(tmp_path):
    need("mnist1d", "matplotlib")
    result = run_quick("mnist1d", tmp_path)
    assert "| translation, shuffled |" in result.stdout
    assert (tmp_path / "results-quick.md").exists() and (tmp_path / "results-quick.png").stat().st_size > 0


def test_fashion_equivariant_beats_cnn_on_rotated(tmp_path):
    need("matplotlib")
    if not any(d and (Path(d) / "t10k-images-idx3-ubyte.gz").exists() for d in FASHION_DIRS):
        pytest.skip("Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist "
                    "(or set FASHION_MNIST_DIR to a folder with the four .gz files)")
    result = run_quick("fashion", tmp_path)
    assert "| C4 |" in result.stdout
    assert (tmp_path / "results-upright-quick.csv").exists()


def test_molecules_e3_beats_mlp_on_forces(tmp_path):
    need("ase", "matplotlib")
    result = run_quick("molecules", tmp_path)
    assert "| E(3) cutoff (symc) | 100 |" in result.stdout
    assert (tmp_path / "results-quick.png").stat().st_size > 0
