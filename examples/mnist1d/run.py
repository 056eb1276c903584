"""MNIST-1D with compiled sequence models: where translation invariance helps.

    python examples/mnist1d/run.py            # full: the standard 4000/1000 split, writes results.md/.csv/.png
    python examples/mnist1d/run.py --quick    # a small subset; asserts translation-invariant beats shuffled

The data set is regenerated locally with mnist1d's make_dataset and its default arguments (no download).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import accuracy, fit, parameters, pyplot, setup, write_table  # noqa: E402

import symc  # noqa: E402

HERE = Path(__file__).resolve().parent

# Each run: a name, the spec, and whether time steps are shuffled by one fixed permutation (train and test alike).
RUNS = [
    ("translation", "sequence 1x40; translation; invariant output 10 classes", False),
    ("no translation", "sequence 1x40; no translation; invariant output 10 classes", False),
    ("translation, shuffled", "sequence 1x40; translation; invariant output 10 classes", True),
    ("no translation, attention", "sequence 1x40; no translation; backbone attention; invariant output 10 classes",
     False),
    ("no translation, attention, shuffled",
     "sequence 1x40; no translation; backbone attention; invariant output 10 classes", True),
]

# Published test accuracies (Greydanus, "Scaling down deep learning", 2020, the mnist1d README).
PUBLISHED = [("logistic regression", 0.32), ("MLP", 0.68), ("CNN", 0.94), ("GRU", 0.91), ("human expert", 0.96)]


def load(seed: int = 0):
    from mnist1d.data import get_dataset_args, make_dataset
    data = make_dataset(get_dataset_args())
    x = torch.tensor(data["x"], dtype=torch.float32).unsqueeze(1)
    xt = torch.tensor(data["x_test"], dtype=torch.float32).unsqueeze(1)
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(x.shape[-1]))
    return x, torch.tensor(data["y"]), xt, torch.tensor(data["y_test"]), perm


def same_network(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """Same layers and parameter shapes (the compiled specs differ only in their text)."""
    return repr(a) == repr(b) and [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]


def cross_entropy(model, x, y):
    return torch.nn.functional.cross_entropy(model(x), y)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small subset, few epochs; asserts the ordering")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", type=Path, default=HERE, help="folder for results.md/.csv/.png")
    args = ap.parse_args(argv)
    setup()
    x, y, xt, yt, perm = load()
    runs = RUNS
    if args.quick:
        x, y, xt, yt = x[:1000], y[:1000], xt[:500], yt[:500]
        runs = [RUNS[0], RUNS[2]]
    epochs = args.epochs or (6 if args.quick else 30)
    rows, trained = [], []
    for name, spec, shuffled in runs:
        torch.manual_seed(0)
        model = symc.compile(spec).module
        row = {"model": name, "spec": f"`{spec}`", "data": "shuffled" if shuffled else "standard",
               "parameters": parameters(model), "epochs": epochs}
        # The same network at the same seed on the same data trains to the same weights: say so, not retrain.
        twin = next((r for m, s, r in trained if s == shuffled and same_network(m, model)), None)
        if twin is not None:
            rows.append({**row, "train s (CPU s)": f"same network as '{twin['model']}'",
                         "test accuracy": twin["test accuracy"]})
            continue
        tx, ttx = (x[..., perm], xt[..., perm]) if shuffled else (x, xt)
        info = fit(model, cross_entropy, (tx, y), epochs=epochs, batch_size=100, lr=1e-2, weight_decay=1e-2,
                   desc=f"{name:<36}")
        acc = accuracy(model, ttx, yt)
        rows.append({**row, "train s (CPU s)": f"{info['seconds']:.0f} ({info['cpu_seconds']:.0f})",
                     "test accuracy": f"{100 * acc:.1f}%"})
        trained.append((model, shuffled, rows[-1]))
        print(f"{name}: {100 * acc:.1f}% in {info['seconds']:.0f} s", file=sys.stderr)
    suffix = "-quick" if args.quick else ""
    table = write_table(rows, args.out / f"results{suffix}", f"MNIST-1D, {len(x)} training / {len(xt)} test "
                                                             f"sequences, {epochs} epochs")
    print(table)
    plot(rows, args.out / f"results{suffix}.png")
    acc = {r["model"]: float(r["test accuracy"].rstrip("%")) for r in rows}
    if args.quick:
        assert acc["translation"] > acc["translation, shuffled"] + 5, acc
    return 0


def plot(rows, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    names = [r["model"] for r in rows] + [f"published: {n}" for n, _ in PUBLISHED]
    values = [float(r["test accuracy"].rstrip("%")) for r in rows] + [100 * a for _, a in PUBLISHED]
    colours = ["tab:blue"] * len(rows) + ["tab:gray"] * len(PUBLISHED)
    ax.barh(names[::-1], values[::-1], color=colours[::-1])
    for i, v in enumerate(values[::-1]):
        ax.text(v + 0.5, i, f"{v:.1f}", va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel("test accuracy (%)")
    ax.set_title("MNIST-1D test accuracy: compiled symc models (blue), published (grey)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
