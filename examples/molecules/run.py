"""Energies and forces of Cu13 clusters: a compiled E(3)-invariant point-cloud model against an MLP on coordinates.

    python examples/molecules/run.py            # learning curve at 100, 1000, 5000 training clusters
    python examples/molecules/run.py --quick    # 100 clusters only; asserts the E(3) model beats the MLP on forces

Data is made locally with ASE's EMT calculator: a 13-atom copper icosahedron, every atom displaced by Gaussian
noise, then turned by a uniformly random rotation and moved by a random translation (clusters have no preferred
frame). Both models predict the energy; forces are the negative gradient of that energy with respect to the
positions (autograd), and the loss weighs energy and force errors equally after scaling each to unit variance.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import Progress, fit, parameters, pyplot, setup, write_table  # noqa: E402

import symc  # noqa: E402

HERE = Path(__file__).resolve().parent
ATOMS = 13
SPEC = f"point cloud {ATOMS}x3; E(3); invariant output 1; activation silu"
SIZES = (100, 1000, 5000)
N_TEST = 1000
BOND = 2.55  # Cu-Cu nearest-neighbour distance in Angstrom: the unit of length the networks see


def make_data(n: int, seed: int, sigma: float = 0.15):
    """n perturbed, randomly placed Cu13 icosahedra: positions (n, 13, 3) in Angstrom, energies (n,) in eV,
    forces (n, 13, 3) in eV/Angstrom."""
    from ase.calculators.emt import EMT
    from ase.cluster import Icosahedron
    rng = np.random.default_rng(seed)
    base = Icosahedron("Cu", noshells=2)
    base.calc = EMT()
    pos, energy, forces = np.empty((n, ATOMS, 3)), np.empty(n), np.empty((n, ATOMS, 3))
    reference = base.positions - base.positions.mean(0)
    bar = Progress(n, f"EMT seed {seed}")
    for i in range(n):
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        rot = q * np.sign(np.diag(r))  # a uniformly random orthogonal matrix (Haar); EMT is mirror-symmetric too
        atoms = base.copy()
        atoms.calc = base.calc
        atoms.positions = (reference + rng.normal(scale=sigma, size=(ATOMS, 3))) @ rot.T + rng.normal(size=3)
        pos[i], energy[i], forces[i] = atoms.positions, atoms.get_potential_energy(), atoms.get_forces()
        bar.update(1)
    bar.close()
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return f32(pos), f32(energy), f32(forces)


class MLP(torch.nn.Module):
    """The baseline: an MLP on the flattened, centred coordinates (centring is the preprocessing anyone would do;
    rotations it must learn)."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(3 * ATOMS, hidden), torch.nn.SiLU(),
                                       torch.nn.Linear(hidden, hidden), torch.nn.SiLU(), torch.nn.Linear(hidden, 1))

    def forward(self, pos):
        return self.net((pos - pos.mean(1, keepdim=True)).flatten(1))


class Scaled(torch.nn.Module):
    """Energy in eV from a network that sees positions in units of the Cu-Cu bond and predicts the standardized
    energy. In Angstrom, squared distances of 6 to 30 make the compiled EGNN's first layer norm flatten the
    differences between clusters (its outputs varied by 1e-3 of their scale at initialization and it did not
    learn); in bond lengths they are of order one."""

    def __init__(self, net, mean: float, std: float):
        super().__init__()
        self.net, self.mean, self.std = net, mean, std

    def forward(self, pos):
        return self.net(pos / BOND).reshape(-1) * self.std + self.mean


def energy_and_forces(model, pos, create_graph: bool):
    pos = pos.detach().requires_grad_(True)
    energy = model(pos)
    forces, = torch.autograd.grad(energy.sum(), pos, create_graph=create_graph)
    return energy, -forces


def make_loss(e_std: float, f_std: float):
    def loss(model, pos, energy, forces):
        e, f = energy_and_forces(model, pos, create_graph=True)
        return (((e - energy) / e_std) ** 2).mean() + (((f - forces) / f_std) ** 2).mean()
    return loss


def evaluate(model, pos, energy, forces) -> tuple[float, float]:
    """Energy MAE (meV per atom) and force MAE (meV/Angstrom per component)."""
    model.eval()
    e_err, f_err = [], []
    for i in range(0, len(pos), 250):
        e, f = energy_and_forces(model, pos[i:i + 250], create_graph=False)
        e_err.append((e.detach() - energy[i:i + 250]).abs())
        f_err.append((f - forces[i:i + 250]).abs().flatten(1))
    return 1000 * torch.cat(e_err).mean().item() / ATOMS, 1000 * torch.cat(f_err).mean().item()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 training clusters only; asserts the ordering")
    ap.add_argument("--sizes", default=None, help="comma-separated training sizes (default 100,1000,5000)")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    setup()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([100] if args.quick else list(SIZES))
    n_test = 300 if args.quick else N_TEST
    pos, energy, forces = make_data(max(sizes), seed=0)
    tpos, tenergy, tforces = make_data(n_test, seed=1)
    rows = []
    for n in sizes:
        p, e, f = pos[:n], energy[:n], forces[:n]
        e_mean, e_std, f_std = e.mean().item(), e.std().item(), f.std().item()
        # About the same number of optimizer steps at every size: many epochs on few clusters.
        epochs = int(min(300, max(20, 60000 // n)))
        if args.quick:
            epochs = 150
        for name in ("E(3) (symc)", "MLP"):
            torch.manual_seed(0)
            net = symc.compile(SPEC).module if name.startswith("E(3)") else MLP()
            model = Scaled(net, e_mean, e_std)
            info = fit(model, make_loss(e_std, f_std), (p, e, f), epochs=epochs, batch_size=32, lr=3e-3,
                       weight_decay=1e-4, desc=f"{name:<11} n={n:<5}")
            e_mae, f_mae = evaluate(model, tpos, tenergy, tforces)
            rows.append({"model": name, "training clusters": n, "parameters": parameters(model), "epochs": epochs,
                         "energy MAE (meV/atom)": f"{e_mae:.2f}", "force MAE (meV/A)": f"{f_mae:.1f}",
                         "train s (CPU s)": f"{info['seconds']:.0f} ({info['cpu_seconds']:.0f})"})
            print(rows[-1], file=sys.stderr)
    suffix = "-quick" if args.quick else ""
    title = (f"Cu13 clusters (EMT), {n_test} test clusters; E(3) spec `{SPEC}`; test std of energy "
             f"{1000 * tenergy.std().item() / ATOMS:.1f} meV/atom, of force components "
             f"{1000 * tforces.std().item():.0f} meV/A")
    print(write_table(rows, args.out / f"results{suffix}", title))
    plot(rows, args.out / f"results{suffix}.png")
    if args.quick:
        by = {r["model"]: float(r["force MAE (meV/A)"]) for r in rows}
        assert by["E(3) (symc)"] < by["MLP"], by
    return 0


def plot(rows, path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("force MAE (meV/A)", "energy MAE (meV/atom)")):
        for name in dict.fromkeys(r["model"] for r in rows):
            pts = [(r["training clusters"], float(r[key])) for r in rows if r["model"] == name]
            ax.plot(*zip(*pts), "o-", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training clusters")
        ax.set_ylabel(key)
        ax.legend()
    fig.suptitle("Cu13 (EMT): test error against training-set size")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
