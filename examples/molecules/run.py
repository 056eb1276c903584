"""Energies and forces of Cu13 clusters in Angstrom and eV: a compiled E(3) model with a cutoff against a
pair-distance network and an MLP on coordinates.

    python examples/molecules/run.py            # learning curve at 100, 1000, 5000 training clusters
    python examples/molecules/run.py --quick    # 100 clusters only; asserts the E(3) model beats the MLP on forces
    python examples/molecules/run.py --sizes 1000 --models "E(3) cutoff (symc),pair distances"

Data is made locally with ASE's EMT calculator: a 13-atom copper icosahedron, every atom displaced by Gaussian
noise, then turned by a uniformly random rotation and moved by a random translation (clusters have no preferred
frame). Every model sees positions in Angstrom, as the data has them, and predicts the energy; forces are the
negative gradient of that energy with respect to the positions (autograd), and the loss weighs energy and force
errors equally after scaling each to unit variance.
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
# Cu-Cu bonds are 2.55 Angstrom: a 5 Angstrom cutoff reaches the second neighbours, as EMT's own does
SPEC = f"point cloud {ATOMS}x3; E(3); invariant output 1; cutoff 5; pooling sum; width 32"
SIZES = (100, 1000, 5000)
N_TEST = 1000
MODELS = ("E(3) cutoff (symc)", "pair distances", "MLP")


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


class PairDistances(torch.nn.Module):
    """The reference a chemist writes in 20 lines: Gaussians of every pair distance -> MLP, summed over pairs."""

    def __init__(self, basis: int = 16, hidden: int = 64, reach: float = 6.0):
        super().__init__()
        self.register_buffer("centres", torch.linspace(0.0, reach, basis))
        self.width = reach / basis
        self.net = torch.nn.Sequential(torch.nn.Linear(basis, hidden), torch.nn.SiLU(),
                                       torch.nn.Linear(hidden, hidden), torch.nn.SiLU(), torch.nn.Linear(hidden, 1))

    def forward(self, pos):
        i, j = torch.triu_indices(pos.shape[1], pos.shape[1], 1)
        distance = (pos[:, i] - pos[:, j]).norm(dim=-1)  # (B, pairs)
        rbf = torch.exp(-((distance.unsqueeze(-1) - self.centres) / self.width) ** 2)
        return self.net(rbf).sum(dim=(1, 2))


class Flat(torch.nn.Module):
    """(B, N, 3) clusters into the compiled sparse model's flat layout: pos (B N, 3) and the batch vector."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, pos):
        clouds, atoms, _ = pos.shape
        batch = torch.arange(clouds, device=pos.device).repeat_interleave(atoms)
        return self.net(pos.reshape(clouds * atoms, 3), batch=batch)


class Scaled(torch.nn.Module):
    """Energy in eV from a network that sees positions in Angstrom and predicts the standardized energy."""

    def __init__(self, net, mean: float, std: float):
        super().__init__()
        self.net, self.mean, self.std = net, mean, std

    def forward(self, pos):
        return self.net(pos).reshape(-1) * self.std + self.mean


def network(name: str) -> torch.nn.Module:
    if name == "E(3) cutoff (symc)":
        return Flat(symc.compile(SPEC).module)
    return PairDistances() if name == "pair distances" else MLP()


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
    ap.add_argument("--models", default=None, help="comma-separated subset of " + ",".join(MODELS) +
                    " (default all; quick: the compiled model and the MLP)")
    ap.add_argument("--epochs", type=int, default=None, help="default: about 60,000 / size (20 to 300)")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    names = args.models.split(",") if args.models else (list(MODELS[::2]) if args.quick else list(MODELS))
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        ap.error(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    setup()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([100] if args.quick else list(SIZES))
    n_test = 200 if args.quick else N_TEST
    pos, energy, forces = make_data(max(sizes), seed=0)
    tpos, tenergy, tforces = make_data(n_test, seed=1)
    rows = []
    for n in sizes:
        p, e, f = pos[:n], energy[:n], forces[:n]
        e_mean, e_std, f_std = e.mean().item(), e.std().item(), f.std().item()
        # About the same number of optimizer steps at every size: many epochs on few clusters.
        epochs = args.epochs or int(min(300, max(20, 60000 // n)))
        if args.quick:
            epochs = 40  # enough to separate the compiled model from the MLP by more than 5x
        for name in names:
            torch.manual_seed(0)
            model = Scaled(network(name), e_mean, e_std)
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
        assert by["E(3) cutoff (symc)"] < by["MLP"], by
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
