"""Upright-trained Fashion-MNIST models tested at 0, 45 and 22.5 degrees, one row per spec variant.

    python examples/fashion/variants.py "" "downsample none" "pooling max"      # C8, small run
    python examples/fashion/variants.py --train 12000 --test 5000 --epochs 8 "pooling max"   # the full recipe

Each positional argument is a hint clause added to `image 1x29x29; GROUP; invariant output 10 classes; params
BUDGET` ("" keeps the planner's defaults). The data, rotations and training recipe are those of run.py.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import accuracy, setup  # noqa: E402
from run import BUDGET, rotate, subsets, train  # noqa: E402

import symc  # noqa: E402

ANGLES = (0, 45, 22.5)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help='hint clauses to add, "" for the defaults')
    ap.add_argument("--group", default="rotation 8")
    ap.add_argument("--budget", default=BUDGET)
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seeds", default="0", help="comma-separated model seeds")
    args = ap.parse_args(argv)
    setup()
    x, y, xt, yt = subsets(args.train, args.test)
    tests = {a: rotate(xt, a) for a in ANGLES}
    print("| spec | seed | " + " | ".join(f"{a} deg" for a in ANGLES) + " | train s |")
    print("|---|---|" + "---|" * len(ANGLES) + "---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        for variant in args.variants:
            spec = "; ".join(p for p in (f"image 1x29x29; {args.group}; invariant output 10 classes; "
                                         f"params {args.budget}", variant.strip()) if p)
            torch.manual_seed(seed)
            model = symc.compile(spec).module
            info = train(model, x, y, args.epochs, variant[:20] or "defaults")
            scores = " | ".join(f"{100 * accuracy(model, tests[a], yt):.1f}%" for a in ANGLES)
            print(f"| `{spec}` | {seed} | {scores} | {info['seconds']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
