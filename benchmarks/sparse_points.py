"""One forward of sparse point-cloud models from 1k to 100k points: time and peak memory, cost linear in N.

    python benchmarks/sparse_points.py                       # 1k, 10k, 100k points; the default cutoff 2.5 model
    python benchmarks/sparse_points.py --points 1000,2000 --dense   # the dense (all pairs) model beside it

Points are uniform in a cube whose density gives about 16 neighbours within 2.5 (density 16 / (4/3 pi 2.5^3)), one
cloud, no features. Each size runs in a fresh child process (peak resident memory is the child's ru_maxrss);
time is the median of `--repeats` eval forwards under torch.no_grad after one warm-up. With torch_geometric
installed, SchNet interaction blocks of PyG (the same width, depth and edges, from our neighbour search) run beside
it on the same points. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

SPEC = "point cloud; E(3); invariant output 1; cutoff 2.5"
DENSE_SPEC = "point cloud; E(3); invariant output 1"
NEIGHBOURS = 16


def child(kind: str, points: int, repeats: int) -> dict:
    import torch

    import symc
    torch.manual_seed(0)
    side = (points * (4 / 3) * math.pi * 2.5 ** 3 / NEIGHBOURS) ** (1 / 3)
    pos = side * torch.rand(points, 3)
    if kind == "pyg":
        from torch_geometric.nn.models.schnet import GaussianSmearing, InteractionBlock
        module = symc.compile(SPEC).module  # for its neighbour search only
        namespace = sys.modules[type(module).__module__].__dict__
        radius_graph = namespace["radius_graph"]
        width, depth = 64, 3
        blocks = torch.nn.ModuleList([InteractionBlock(width, 50, width, 2.5) for _ in range(depth)])
        smearing = GaussianSmearing(0.0, 2.5, 50)
        embed = torch.nn.Embedding(1, width)

        def run():
            edges = radius_graph(pos, 2.5, None)
            weight = (pos[edges[1]] - pos[edges[0]]).norm(dim=-1)
            attr = smearing(weight)
            h = embed(torch.zeros(points, dtype=torch.long))
            for block in blocks:
                h = h + block(h, edges, weight, attr)
            return h.sum()
        edges_count = int(radius_graph(pos, 2.5, None).shape[1])
    else:
        module = symc.compile(SPEC if kind == "sparse" else DENSE_SPEC).module.eval()
        edges_count = 0
        if kind == "sparse":
            namespace = sys.modules[type(module).__module__].__dict__
            edges_count = int(namespace["radius_graph"](pos, 2.5, None).shape[1])

        def run():
            return module(pos) if kind == "sparse" else module(pos.unsqueeze(0))
    times = []
    with torch.no_grad():
        run()
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"kind": kind, "points": points, "edges": edges_count, "seconds": times[len(times) // 2],
            "peak_bytes": peak}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dense", action="store_true", help="also the dense model (all pairs): small sizes only")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.repeats)))
        return 0
    kinds = ["sparse"] + (["dense"] if args.dense else [])
    try:
        import torch_geometric  # noqa: F401
        kinds.append("pyg")
    except ImportError:
        print("torch_geometric is not installed: PyG rows left out", file=sys.stderr)
    names = {"sparse": f"symc `{SPEC}`", "dense": f"symc `{DENSE_SPEC}` (all pairs)",
             "pyg": "PyG SchNet InteractionBlock x 3, width 64"}
    print("| model | points | edges | forward s | peak memory |\n|---|---|---|---|---|")
    for points in (int(p) for p in args.points.split(",")):
        for kind in kinds:
            out = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats), "--child", kind,
                                  str(points)], capture_output=True, text=True)
            if out.returncode:
                print(f"| {names[kind]} | {points:,} | - | failed: {out.stderr.strip().splitlines()[-1]} | - |")
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            edges = f"{row['edges']:,}" if row["edges"] else "all pairs"
            print(f"| {names[kind]} | {points:,} | {edges} | {row['seconds']:.2f} | "
                  f"{row['peak_bytes'] / 2 ** 30:.2f} GiB |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
