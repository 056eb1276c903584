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


def load_example_module(folder: str, name: str):
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", ROOT / "examples" / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xtb_data_is_refused_when_it_differs_from_its_checksum(tmp_path):
    # The molecule benchmark compares models trained on cached quantum-chemistry frames; a cache that changed
    # (another tblite, another seed, a damaged file) must be refused, not compared.
    import numpy as np
    make_data = load_example_module("xtb_molecules", "make_data")
    arrays = {"z": np.array([6, 6, 8]), "positions": np.zeros((4, 3, 3)), "energies": np.arange(4.0),
              "forces": np.ones((4, 3, 3))}
    np.savez(tmp_path / "toy.npz", **arrays)
    (tmp_path / "toy.sha256").write_text(f"{make_data.checksum(arrays)}  toy.npz\n")
    assert make_data.load("toy", tmp_path)["energies"].tolist() == [0.0, 1.0, 2.0, 3.0]
    arrays["energies"][2] = 2.5
    np.savez(tmp_path / "toy.npz", **arrays)
    with pytest.raises(ValueError, match="toy.npz: SHA-256 .* differs from the recorded"):
        make_data.load("toy", tmp_path)
    with pytest.raises(FileNotFoundError, match="make_data.py --molecules aspirin"):
        make_data.load("aspirin", tmp_path)
