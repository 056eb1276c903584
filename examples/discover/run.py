"""symc discover on data with known answers: chiral shapes, MNIST-1D and Fashion-MNIST; writes results.md.

    python examples/discover/run.py              # all three data sets (minutes on one core)
    python examples/discover/run.py --quick      # the chiral shapes and a smaller MNIST-1D

MNIST-1D is regenerated locally with mnist1d's make_dataset and its default arguments (no download); Fashion-MNIST is
read from FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist and skipped when absent.
"""
from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import shapes  # noqa: E402

import symc  # noqa: E402

FASHION_DIRS = [os.environ.get("FASHION_MNIST_DIR", ""), "/usr/share/datasets/fashion-mnist"]


def mnist1d():
    from mnist1d.data import get_dataset_args, make_dataset
    data = make_dataset(get_dataset_args())
    return np.concatenate([data["x"], data["x_test"]]), np.concatenate([data["y"], data["y_test"]])


def fashion(count: int):
    folder = next((Path(d) for d in FASHION_DIRS if d and (Path(d) / "train-images-idx3-ubyte.gz").exists()), None)
    if folder is None:
        return None
    with gzip.open(folder / "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:count]
    with gzip.open(folder / "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    return x.astype(np.float32) / 255.0, y.astype(np.int64)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the chiral shapes and a smaller MNIST-1D only")
    ap.add_argument("--out", type=Path, default=HERE, help="folder for results.md")
    args = ap.parse_args(argv)
    runs = [("chiral shapes (L and J tetrominoes, random quarter turns and positions)", "image",
             lambda: shapes.chiral_images(2000, seed=1), dict(steps=600),
             "python -m symc discover chiral.npz --domain image --steps 600")]
    if args.quick:
        runs.append(("MNIST-1D", "sequence", mnist1d, dict(steps=1000, max_samples=2000),
                     "python -m symc discover mnist1d.npz --domain sequence --steps 1000 --max-samples 2000"))
    else:
        runs.append(("MNIST-1D", "sequence", mnist1d, dict(steps=1200, max_samples=5000),
                     "python -m symc discover mnist1d.npz --domain sequence --steps 1200 --max-samples 5000"))
        # Quarter turns and the mirror only, to stay within minutes at 28x28
        runs.append(("Fashion-MNIST (the first 4000 training images; quarter turns and mirror)", "image",
                     lambda: fashion(4000), dict(steps=1000, max_samples=4000,
                                                 candidates=["quarter turns", "mirror"]),
                     "symc.discover(x, y, domain='image', steps=1000, max_samples=4000, "
                     "candidates=['quarter turns', 'mirror'])"))
    sections = ["# symc discover on data with known answers", "",
                "Made by `python examples/discover/run.py" + (" --quick" if args.quick else "") + "` (seed 0, "
                "one CPU thread). Each section is what the command under it prints on standard output for the same "
                "arrays saved as x and y.", ""]
    for title, domain, load, options, command in runs:
        data = load()
        if data is None:
            print(f"skipped {title}: data not found", file=sys.stderr)
            continue
        start = time.monotonic()
        found = symc.discover(*data, domain=domain, seed=0, **options)
        print(found, flush=True)
        sections += [f"## {title}", "", f"`{command}` ({time.monotonic() - start:.0f} s)", "", "```",
                     str(found), "```", ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text("\n".join(sections))
    print(f"wrote {args.out / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
