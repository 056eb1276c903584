"""Learned canonicalization on Fashion-MNIST with random quarter turns: a plain CNN, the same CNN canonicalized
for C4 (`symc.canonicalize`), and the compiled C4 model at a similar parameter count.

    python examples/canonicalize/run.py                       # writes results.md / results.csv here
    python examples/canonicalize/run.py --train 2000 --epochs 2

Every model is trained on upright images and tested upright and with each test image turned by a random multiple
of 90 degrees (torch.rot90: exact). The canonicalized model's poses are then checked on the whole test subset:
how often the canonicalizer's top score ties, and how often its pose fails to follow a quarter turn of the input
in float32 (which is when the exact invariance could break).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import accuracy, fit, parameters, setup, write_table  # noqa: E402
from fashion.run import data_dir, read_idx  # noqa: E402

import symc  # noqa: E402

HERE = Path(__file__).resolve().parent
C4_SPEC = "image 1x28x28; rotation 4; invariant output 10 classes"


def plain_cnn() -> torch.nn.Module:
    """A user's CNN, nothing symmetric about it: three conv blocks, global mean pooling, a linear head."""
    def block(a, b, k):
        return [torch.nn.Conv2d(a, b, k, padding=k // 2), torch.nn.BatchNorm2d(b), torch.nn.ReLU()]
    return torch.nn.Sequential(*block(1, 32, 5), torch.nn.MaxPool2d(2), *block(32, 64, 3), torch.nn.MaxPool2d(2),
                               *block(64, 64, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(64, 10))


def load(split: str, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    d = data_dir()
    if d is None:
        raise SystemExit("Fashion-MNIST not found: apt-get install -y dataset-fashion-mnist, or set FASHION_MNIST_DIR")
    prefix = "train" if split == "train" else "t10k"
    x = torch.from_numpy(read_idx(d / f"{prefix}-images-idx3-ubyte.gz").copy()).float().div_(255).unsqueeze(1)
    y = torch.from_numpy(read_idx(d / f"{prefix}-labels-idx1-ubyte.gz").copy()).long()
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:count]
    return x[idx], y[idx]


def quarter_turns(x: torch.Tensor, seed: int) -> torch.Tensor:
    turns = torch.randint(0, 4, (len(x),), generator=torch.Generator().manual_seed(seed))
    return torch.stack([torch.rot90(image, int(k), dims=(-2, -1)) for image, k in zip(x, turns)])


@torch.no_grad()
def pose_statistics(model, x: torch.Tensor) -> dict:
    """Ties of the top score, poses that do not follow a quarter turn, and the largest output change under one."""
    model.eval()
    ties = disagreements = 0
    smallest_margin, largest_change = float("inf"), 0.0
    for i in range(0, len(x), 500):
        batch = x[i:i + 500]
        scores = model.canonicalizer(batch).reshape(len(batch), -1)
        top2 = scores.topk(2, dim=1).values
        margin = top2[:, 0] - top2[:, 1]
        ties += int((margin == 0).sum())
        smallest_margin = min(smallest_margin, float(margin.min()))
        pose = scores.argmax(dim=1)
        out = model(batch)
        for k in (1, 2, 3):
            turned = torch.rot90(batch, k, dims=(-2, -1))
            turned_pose = model.canonicalizer(turned).reshape(len(batch), -1).argmax(dim=1)
            disagreements += int((turned_pose != (pose + k) % 4).sum())   # C4 scores roll forward by k
            largest_change = max(largest_change, float((model(turned) - out).abs().max()))
    return {"images": len(x), "ties": ties, "smallest margin": smallest_margin,
            "pose disagreements": disagreements, "turns tried": 3 * len(x), "largest output change": largest_change}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=3000, help="training images (default 3000)")
    ap.add_argument("--test", type=int, default=5000, help="test images (default 5000)")
    ap.add_argument("--epochs", type=int, default=3, help="default 3")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    setup()
    x, y = load("train", args.train, seed=0)
    xt, yt = load("test", args.test, seed=1)
    xt_turned = quarter_turns(xt, seed=2)

    torch.manual_seed(0)
    cnn = plain_cnn()
    torch.manual_seed(0)
    canonicalized = symc.canonicalize(plain_cnn(), C4_SPEC)
    budget = parameters(canonicalized)
    compiled_spec = f"{C4_SPEC}; params {budget}"
    torch.manual_seed(0)
    compiled = symc.compile(compiled_spec).module
    models = [("plain CNN", "hand-written torch CNN", cnn),
              ("CNN canonicalized for C4", f"`symc.canonicalize(cnn, \"{C4_SPEC}\")`", canonicalized),
              ("compiled C4", f"`{compiled_spec}`", compiled)]

    title = (f"Fashion-MNIST 28x28, trained upright, tested upright and with random quarter turns: {args.train} "
             f"training / {args.test} test images, {args.epochs} epochs")
    rows = []
    for name, what, model in models:
        info = fit(model, lambda m, a, b: F.cross_entropy(m(a), b), (x, y), epochs=args.epochs, batch_size=64,
                   lr=5e-3, weight_decay=1e-2, desc=f"{name:<25}")
        row = {"model": name, "what": what, "parameters": parameters(model),
               "upright test": f"{100 * accuracy(model, xt, yt):.1f}%",
               "quarter-turned test": f"{100 * accuracy(model, xt_turned, yt):.1f}%",
               "train s (CPU s)": f"{info['seconds']:.0f} ({info['cpu_seconds']:.0f})"}
        print(row, file=sys.stderr)
        rows.append(row)
        table = write_table(rows, args.out / "results", title)   # after every model: a cut run keeps its rows
    stats = pose_statistics(canonicalized, xt)
    poses = (f"\nPoses of the trained canonicalizer (float32, eval) on the {stats['images']} upright test images "
             f"and their three quarter turns: {stats['ties']} tied top scores (smallest top-two margin "
             f"{stats['smallest margin']:.3g}); {stats['pose disagreements']} of {stats['turns tried']} turned "
             f"images got a pose other than the turned one; largest change of an output under a quarter turn "
             f"{stats['largest output change']:.3g}.\n")
    (args.out / "results.md").write_text(table + poses)
    print(table + poses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
