"""An rMD17-like data set made offline: small molecules from RDKit conformers, sampled by Langevin molecular dynamics
with the GFN2-xTB tight-binding method (tblite, through ASE), energies in eV and forces in eV/Angstrom.

    python examples/xtb_molecules/make_data.py                      # ethanol, malonaldehyde, aspirin
    python examples/xtb_molecules/make_data.py --molecules ethanol --frames 2000

Each molecule: an RDKit ETKDG conformer with hydrogens, relaxed by GFN2-xTB, then `--equilibrate` steps of
Langevin dynamics at `--temperature` K (0.5 fs steps) before one frame is kept every `--every` steps. Frames are
written, shuffled, to data/NAME.npz (z, positions, energies, forces); the SHA-256 of the arrays is recorded in
data/NAME.sha256 (kept in the repository), so a rerun with another tblite or a changed seed is noticed rather than
silently compared.
Needs: rdkit, ase, tblite (and numpy); torch is not used.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
# The rMD17 molecules this set stands in for: SMILES of the neutral molecule, hydrogens added by RDKit
MOLECULES = {
    "ethanol": "CCO",
    "malonaldehyde": "O=CCC=O",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
}


def conformer(smiles: str, seed: int):
    """ASE Atoms of one RDKit ETKDG conformer with explicit hydrogens (Angstrom)."""
    from ase import Atoms
    from rdkit import Chem
    from rdkit.Chem import AllChem
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    if AllChem.EmbedMolecule(mol, randomSeed=seed) != 0:
        raise RuntimeError(f"RDKit could not embed {smiles}")
    AllChem.MMFFOptimizeMolecule(mol)
    pos = mol.GetConformer().GetPositions()
    return Atoms(numbers=[a.GetAtomicNum() for a in mol.GetAtoms()], positions=pos)


def checksum(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return digest.hexdigest()


def simulate(name: str, frames: int, temperature: float, every: int, equilibrate: int, seed: int) -> dict:
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.optimize import BFGS
    from tblite.ase import TBLite
    atoms = conformer(MOLECULES[name], seed)
    atoms.calc = TBLite(method="GFN2-xTB", verbosity=0)
    BFGS(atoms, logfile=None).run(fmax=0.05, steps=200)
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    md = Langevin(atoms, timestep=0.5 * units.fs, temperature_K=temperature, friction=0.01 / units.fs, rng=rng)
    md.run(equilibrate)
    pos = np.empty((frames, len(atoms), 3))
    energy = np.empty(frames)
    forces = np.empty((frames, len(atoms), 3))
    start = time.perf_counter()
    for i in range(frames):
        md.run(every)
        pos[i] = atoms.positions
        energy[i] = atoms.get_potential_energy()
        forces[i] = atoms.get_forces()
        if (i + 1) % max(1, frames // 10) == 0:
            print(f"  {name}: {i + 1}/{frames} frames, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    order = rng.permutation(frames)  # shuffled once here, so the first n frames are a random training set
    return {"z": atoms.numbers.astype(np.int64), "positions": pos[order], "energies": energy[order],
            "forces": forces[order]}


def load(name: str, directory: Path = DATA) -> dict[str, np.ndarray]:
    """The cached set, after checking it against its recorded SHA-256."""
    path = directory / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run python examples/xtb_molecules/make_data.py "
                                f"--molecules {name}")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    recorded = (directory / f"{name}.sha256").read_text().split()[0]
    if checksum(arrays) != recorded:
        raise ValueError(f"{path}: SHA-256 {checksum(arrays)} differs from the recorded {recorded}")
    return arrays


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--molecules", default=",".join(MOLECULES), help="comma-separated subset of "
                    + ", ".join(MOLECULES))
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--temperature", type=float, default=500.0, help="K (rMD17 sampled at 500 K)")
    ap.add_argument("--every", type=int, default=10, help="MD steps between kept frames (5 fs)")
    ap.add_argument("--equilibrate", type=int, default=2000, help="MD steps before the first frame (1 ps)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record", action="store_true", help="record the new SHA-256 even if one is recorded")
    args = ap.parse_args(argv)
    names = args.molecules.split(",")
    unknown = sorted(set(names) - set(MOLECULES))
    if unknown:
        ap.error(f"unknown molecules {unknown}; choose from {', '.join(MOLECULES)}")
    DATA.mkdir(exist_ok=True)
    failed = 0
    for name in names:
        start = time.perf_counter()
        arrays = simulate(name, args.frames, args.temperature, args.every, args.equilibrate, args.seed)
        np.savez(DATA / f"{name}.npz", **arrays)
        digest = checksum(arrays)
        record = DATA / f"{name}.sha256"
        if args.record or not record.exists():
            record.write_text(f"{digest}  {name}.npz\n")
        elif record.read_text().split()[0] != digest:
            print(f"{name}: the arrays' SHA-256 {digest} differs from the recorded {record.read_text().split()[0]} "
                  f"(another tblite, ASE or seed?); run.py will refuse them until --record accepts them",
                  file=sys.stderr)
            failed = 1
        print(f"{name}: {len(arrays['z'])} atoms, {args.frames} frames at {args.temperature:.0f} K, "
              f"energy std {arrays['energies'].std() * 1000:.1f} meV, force std {arrays['forces'].std():.3f} "
              f"eV/A, {time.perf_counter() - start:.0f} s; sha256 {digest}")
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
