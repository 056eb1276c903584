"""A small compiled image model against the plain CNN anyone would write with the same convolution shapes.

    python benchmarks/small_overhead.py                          # p4, widths 16,32,32,64 and 8,16,16,32, batch 16
    python benchmarks/small_overhead.py --widths 16,32,32,64 --batch 16 --group p4m
    python benchmarks/small_overhead.py --profile                # where the compiled model's time goes

The plain CNN has, for every group convolution of the compiled model, a torch.nn.Conv2d of the expanded shape
(fields x |G| channels, same kernel and padding), then BatchNorm2d and ReLU, the same downsampling (the same
max pool), a global mean and one Linear to the classes. Both are timed side by side in one process (benchmarks/
twin.py's interleaved repetitions, order flipped every repetition, after warm-up): eval forward under no_grad and a
train step (zero_grad, forward, loss, backward, Adam step). Targets: eval <= 1.05, train <= 1.10.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from twin import evaluator, machine, reps_for, side_by_side, summary, trainer  # noqa: E402

import symc  # noqa: E402

TARGETS = {"eval": 1.05, "train": 1.10}


def plain_cnn(model: torch.nn.Module, classes: int) -> torch.nn.Module:
    """The hand-written CNN with the compiled model's convolution shapes."""
    layers, channels = [], None
    for layer in model.features:
        kind = type(layer).__name__
        if kind == "GroupConv":
            with torch.no_grad():
                out_channels, in_channels = layer.expand_weight().shape[:2]
            layers.append(torch.nn.Conv2d(in_channels, out_channels, layer.kernel_size,
                                          padding=layer.kernel_size // 2))
            channels = out_channels
        elif kind == "FieldNorm":
            layers.append(torch.nn.BatchNorm2d(channels))
        elif kind == "SymmetricDownsample":
            layers.append(layer)  # the same pooling op on both sides
        elif isinstance(layer, torch.nn.ReLU):
            layers.append(torch.nn.ReLU())
        else:
            raise ValueError(f"no plain counterpart for {kind}")
    return torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                               torch.nn.Linear(channels, classes))


def measure(spec: str, batch: int, budget: float, classes: int, quick: bool = False) -> dict:
    torch.manual_seed(0)
    model = symc.compile(spec).module
    cnn = plain_cnn(model, classes)
    inputs = (torch.randn(batch, 1, 29, 29),)
    row = {"spec": spec, "batch": batch}
    low, warmup = (3, 1) if quick else (15, 5)
    model.eval(), cnn.eval()
    runs = {"symc": evaluator(model, inputs), "twin": evaluator(cnn, inputs)}
    row["eval"] = summary(side_by_side(runs, reps_for(runs, budget * 0.3, low, 400), warmup=warmup))
    model.train(), cnn.train()
    runs = {"symc": trainer(model, inputs)[0], "twin": trainer(cnn, inputs)[0]}
    row["train"] = summary(side_by_side(runs, reps_for(runs, budget * 0.7, low, 200), warmup=warmup))
    row["parameters"] = (sum(p.numel() for p in model.parameters()), sum(p.numel() for p in cnn.parameters()))
    return row


def profile(spec: str, batch: int) -> str:
    from torch.profiler import ProfilerActivity, profile as torch_profile
    model = symc.compile(spec).module
    x = torch.randn(batch, 1, 29, 29)
    step = trainer(model, (x,))[0]
    for _ in range(5):
        step()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(20):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--group", default="p4")
    ap.add_argument("--widths", nargs="*", default=["16,32,32,64", "8,16,16,32"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of repetitions per row")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="a smoke run: one row, about a second")
    ap.add_argument("--profile", action="store_true", help="print torch.profiler's table of a train step")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    specs = [f"image 1x29x29; {args.group}; invariant output 10 classes; widths {w}" for w in args.widths]
    if args.profile:
        print(profile(specs[0], args.batch))
        return 0
    if args.quick:
        specs, args.budget = specs[:1], 0.2
    print(f"Machine: {machine()}\n")
    print(f"Targets: eval <= {TARGETS['eval']}, train step <= {TARGETS['train']} (ratios of medians; the ratio of "
          "the fastest runs in parentheses)\n")
    print("| spec | batch | parameters symc / CNN | eval symc / CNN (ms) | eval ratio (fastest) | "
          "train step symc / CNN (ms) | train ratio (fastest) |")
    print("|---|---|---|---|---|---|---|")
    for spec in specs:
        row = measure(spec, args.batch, args.budget, 10, args.quick)
        cells = []
        for key in ("eval", "train"):
            a, b, _, fastest = row[key]
            cells += [f"{1000 * a:.2f} / {1000 * b:.2f}", f"**{a / b:.2f}** ({fastest:.2f})"]
        print(f"| `{spec}` | {row['batch']} | {row['parameters'][0]:,} / {row['parameters'][1]:,} | "
              + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
