"""Energies and forces of small molecules (GFN2-xTB molecular dynamics, make_data.py): the default compiled E(3)
model with a cutoff against MACE (mace-torch) and SchNet (torch_geometric), trained on the same 1,000 frames with
the same CPU-time budget.

    python examples/xtb_molecules/make_data.py                   # the data, once (about 2 minutes)
    python examples/xtb_molecules/run.py                         # ethanol, 1000 frames, 600 CPU s per model
    python examples/xtb_molecules/run.py --molecule aspirin --budget 900
    python examples/xtb_molecules/run.py --quick                 # 100 frames, 20 CPU s per model: a smoke run

Every model sees positions in Angstrom and the element of each atom (one-hot over the molecule's elements), predicts
the energy as a sum over atoms, and gets forces as the negative gradient of that energy (autograd, the same code
for all three). All three share: the energy shift (mean training energy) and scale (RMS of the training forces, the
convention of MACE and NequIP), the loss (MACE's weighted loss: squared energy error per atom plus 100 x squared
force error, eV units), Adam (AMSGrad) with batch 8, a learning rate decaying tenfold over the budget, float32,
one thread, and the budget itself, counted in CPU seconds of this process (time.process_time), so another process
on the machine does not shorten anyone's training. Each model keeps its library's recommended initial learning rate
and architecture defaults for small molecules, sized down where noted.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

# e3nn 0.4.4, which mace-torch pins, reads its own packaged constants with torch.load; torch 2.6+ refuses that
# file's pickle unless told the source is trusted (it is e3nn's installed package file)
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parameters, write_table  # noqa: E402
from make_data import load  # noqa: E402

import symc  # noqa: E402

HERE = Path(__file__).resolve().parent
CUTOFF = 5.0  # Angstrom, as in the rMD17 setups of MACE and NequIP
MODELS = ("E(3) cutoff (symc)", "MACE", "SchNet")
LEARNING_RATE = {"E(3) cutoff (symc)": 3e-3, "MACE": 1e-2, "SchNet": 1e-3}
BATCH = 8
FORCE_WEIGHT = 100.0


def all_pairs(batch: torch.Tensor, pos: torch.Tensor, cutoff: float) -> torch.Tensor:
    """(2, M) source/target pairs of distinct atoms of the same molecule within the cutoff (small molecules only)."""
    same = batch[:, None] == batch[None, :]
    near = (pos[:, None] - pos[None, :]).norm(dim=-1) < cutoff
    pairs = (same & near).nonzero().t()
    return pairs[:, pairs[0] != pairs[1]]


class SymcModel(torch.nn.Module):
    def __init__(self, atoms: int, elements: int):
        super().__init__()
        self.spec = (f"point cloud {atoms}x3 with {elements} features; E(3); invariant output 1; cutoff {CUTOFF:g}; "
                     "pooling sum")
        self.net = symc.compile(self.spec).module

    def forward(self, pos, onehot, species, batch, edges):
        return self.net(pos, onehot, batch).reshape(-1)


class MaceModel(torch.nn.Module):
    """MACE as in its rMD17 recipe (2 interactions, correlation 3, l_max 3, 8 Bessel functions, polynomial envelope
    of degree 5, radial MLP 64x3), with 32 channels (0e + 1o) instead of 256 to suit a CPU budget."""

    def __init__(self, numbers: list[int], neighbours: float):
        super().__init__()
        from e3nn import o3
        from mace import modules
        self.net = modules.MACE(
            r_max=CUTOFF, num_bessel=8, num_polynomial_cutoff=5, max_ell=3,
            interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            num_interactions=2, num_elements=len(numbers), hidden_irreps=o3.Irreps("32x0e + 32x1o"),
            MLP_irreps=o3.Irreps("16x0e"), atomic_energies=np.zeros(len(numbers)), avg_num_neighbors=neighbours,
            atomic_numbers=numbers, correlation=3, gate=torch.nn.functional.silu, radial_MLP=[64, 64, 64])

    def forward(self, pos, onehot, species, batch, edges):
        graphs = int(batch.max()) + 1
        counts = torch.bincount(batch, minlength=graphs)
        data = {"positions": pos, "node_attrs": onehot, "edge_index": edges, "batch": batch,
                "ptr": torch.cat([counts.new_zeros(1), counts.cumsum(0)]),
                "shifts": pos.new_zeros(edges.shape[1], 3), "unit_shifts": pos.new_zeros(edges.shape[1], 3),
                "cell": pos.new_zeros(graphs, 3, 3)}
        return self.net(data, training=self.training, compute_force=False)["energy"]


class SchNetModel(torch.nn.Module):
    """PyG's SchNet: 64 channels and filters, 3 interactions, 50 Gaussians over the cutoff, sum readout; its
    interaction graph is the shared list of pairs within the cutoff."""

    def __init__(self):
        super().__init__()
        from torch_geometric.nn.models import SchNet
        self.edges = None

        def graph(pos, batch):
            i, j = self.edges
            return self.edges, (pos[i] - pos[j]).norm(dim=-1)

        self.net = SchNet(hidden_channels=64, num_filters=64, num_interactions=3, num_gaussians=50, cutoff=CUTOFF,
                          interaction_graph=graph, readout="add")

    def forward(self, pos, onehot, species, batch, edges):
        self.edges = edges
        return self.net(species, pos, batch).reshape(-1)


class Shifted(torch.nn.Module):
    """energy = mean + scale * network(...), the same shift and scale for every model."""

    def __init__(self, net, mean: float, scale: float):
        super().__init__()
        self.net, self.mean, self.scale = net, mean, scale

    def forward(self, *inputs):
        return self.net(*inputs) * self.scale + self.mean


def batches(data: dict, index: np.ndarray, numbers: list[int]):
    """Flat PyG-style tensors of the frames in `index`."""
    frames, atoms = len(index), data["positions"].shape[1]
    z = torch.as_tensor(data["z"])
    element = torch.as_tensor([numbers.index(int(n)) for n in data["z"]])
    pos = torch.as_tensor(data["positions"][index], dtype=torch.float32).reshape(-1, 3)
    batch = torch.arange(frames).repeat_interleave(atoms)
    onehot = torch.nn.functional.one_hot(element, len(numbers)).float().repeat(frames, 1)
    return (pos, onehot, z.repeat(frames), batch, all_pairs(batch, pos, CUTOFF),
            torch.as_tensor(data["energies"][index], dtype=torch.float32),
            torch.as_tensor(data["forces"][index], dtype=torch.float32).reshape(-1, 3))


def energy_and_forces(model, inputs, create_graph: bool):
    pos = inputs[0].detach().requires_grad_(True)
    energy = model(pos, *inputs[1:])
    forces, = torch.autograd.grad(energy.sum(), pos, create_graph=create_graph)
    return energy, -forces


def train(model, data, train_index, numbers, budget: float, lr: float, seed: int) -> dict:
    atoms = data["positions"].shape[1]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=True)
    rng = np.random.default_rng(seed)
    start_cpu, start = time.process_time(), time.perf_counter()
    steps = epochs = 0
    while True:
        epochs += 1
        for first in range(0, len(train_index), BATCH):
            used = time.process_time() - start_cpu
            if used >= budget:
                return {"steps": steps, "epochs": epochs - 1 + first / len(train_index),
                        "cpu_seconds": used, "seconds": time.perf_counter() - start}
            for group in optimizer.param_groups:
                group["lr"] = lr * 0.1 ** (used / budget)
            pos, onehot, z, batch, edges, energy, forces = batches(data, train_index[first:first + BATCH], numbers)
            model.train()
            e, f = energy_and_forces(model, (pos, onehot, z, batch, edges), create_graph=True)
            loss = (((e - energy) / atoms) ** 2).mean() + FORCE_WEIGHT * ((f - forces) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
        rng.shuffle(train_index)


def evaluate(model, data, index, numbers) -> tuple[float, float]:
    """Energy MAE (meV per molecule, as rMD17 tables give it) and force MAE (meV/Angstrom per component)."""
    model.eval()
    e_err, f_err = [], []
    for first in range(0, len(index), 100):
        pos, onehot, z, batch, edges, energy, forces = batches(data, index[first:first + 100], numbers)
        e, f = energy_and_forces(model, (pos, onehot, z, batch, edges), create_graph=False)
        e_err.append((e.detach() - energy).abs())
        f_err.append((f - forces).abs().flatten())
    return 1000 * torch.cat(e_err).mean().item(), 1000 * torch.cat(f_err).mean().item()


def network(name: str, data: dict, numbers: list[int], train_index) -> torch.nn.Module:
    atoms = data["positions"].shape[1]
    if name == "E(3) cutoff (symc)":
        return SymcModel(atoms, len(numbers))
    if name == "MACE":
        pos = torch.as_tensor(data["positions"][train_index[:100]], dtype=torch.float32).reshape(-1, 3)
        batch = torch.arange(min(100, len(train_index))).repeat_interleave(atoms)
        neighbours = all_pairs(batch, pos, CUTOFF).shape[1] / pos.shape[0]
        return MaceModel(numbers, neighbours)
    return SchNetModel()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--molecule", default="ethanol")
    ap.add_argument("--train", type=int, default=1000, help="training frames (rMD17 splits use 1,000)")
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--budget", type=float, default=600.0, help="CPU seconds of training per model")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ", ".join(MODELS))
    ap.add_argument("--quick", action="store_true", help="100 frames, 20 CPU s per model, 100 test frames")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    if args.quick:
        args.train, args.test, args.budget = 100, 100, 20.0
    names = args.models.split(",")
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        ap.error(f"unknown models {unknown}; choose from {', '.join(MODELS)}")
    torch.set_num_threads(1)
    data = load(args.molecule)
    frames = len(data["energies"])
    if args.train + args.test > frames:
        ap.error(f"{args.molecule} has {frames} frames; --train {args.train} + --test {args.test} is more")
    numbers = sorted({int(n) for n in data["z"]})
    train_index = np.arange(args.train)
    test_index = np.arange(frames - args.test, frames)  # frames are shuffled once by make_data.py
    energies = data["energies"][train_index]
    scale = float(np.sqrt((data["forces"][train_index] ** 2).mean()))
    rows = []
    for name in names:
        torch.manual_seed(args.seed)
        model = Shifted(network(name, data, numbers, train_index), float(energies.mean()), scale)
        info = train(model, data, train_index.copy(), numbers, args.budget, LEARNING_RATE[name], args.seed)
        e_mae, f_mae = evaluate(model, data, test_index, numbers)
        rows.append({"model": name, "parameters": parameters(model), "steps": info["steps"],
                     "epochs": f"{info['epochs']:.1f}", "train CPU s (wall s)":
                     f"{info['cpu_seconds']:.0f} ({info['seconds']:.0f})",
                     "energy MAE (meV)": f"{e_mae:.1f}", "force MAE (meV/A)": f"{f_mae:.1f}"})
        print(rows[-1], file=sys.stderr, flush=True)
    atoms = data["positions"].shape[1]
    title = (f"{args.molecule} ({atoms} atoms), GFN2-xTB Langevin MD at 500 K; {args.train} training / {args.test} "
             f"test frames; {args.budget:.0f} CPU s of training per model, one thread; test std of energy "
             f"{1000 * data['energies'][test_index].std():.0f} meV, of force components "
             f"{1000 * data['forces'][test_index].std():.0f} meV/A; symc spec `{SymcModel(atoms, len(numbers)).spec}`")
    suffix = "-quick" if args.quick else ""
    print(write_table(rows, args.out / f"results-{args.molecule}{suffix}", title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
