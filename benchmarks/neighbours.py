"""Neighbour search speed and memory: symc.nn.neighbours.radius_graph and knn_graph on uniform random 3-D clouds.

    python benchmarks/neighbours.py                          # 1k, 10k, 100k, 1M points, 3 repeats
    python benchmarks/neighbours.py --sizes 1000,100000 --repeats 5

Points are uniform in a cube (seed 0) at a density of 16 points per ball of radius 2.5 (a cube side of 74 at 100k),
so radius_graph(cutoff 2.5) finds about 16 neighbours per point, like knn_graph(k 16). Each size and function runs
in a fresh subprocess: one untimed call, then the timed repeats. Prints one markdown row per size and function:
median and fastest wall time, CPU time per call (all threads; less disturbed by other load than wall time), edges
per point, and peak memory: the child's peak resident set size (getrusage) over what it held before the first call
(imports and positions), so it counts the search's working memory and its output.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUTOFF, NEIGHBOURS = 2.5, 16


def child(size: int, name: str, repeats: int) -> dict:
    """Times one function at one size in this process; returns the measurements."""
    import torch

    sys.path.insert(0, str(ROOT))
    from symc.nn.neighbours import knn_graph, radius_graph

    side = (size * (4 / 3) * math.pi * CUTOFF ** 3 / NEIGHBOURS) ** (1 / 3)
    generator = torch.Generator().manual_seed(0)
    pos = torch.rand(size, 3, generator=generator) * side
    search = (lambda: radius_graph(pos, CUTOFF)) if name == "radius_graph" else (lambda: knn_graph(pos, NEIGHBOURS))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    edges = search().shape[1]
    wall, cpu = [], []
    for _ in range(repeats):
        start_cpu, start = time.process_time(), time.perf_counter()
        search()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall": wall, "cpu": cpu, "edges": edges, "extra_mb": (peak - before) / 1024,
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "FUNCTION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1], args.repeats)))
        return
    rows, info = [], None
    for size in (int(s) for s in args.sizes.split(",")):
        for name in ("radius_graph", "knn_graph"):
            result = subprocess.run([sys.executable, __file__, "--child", str(size), name, "--repeats",
                                     str(args.repeats)], capture_output=True, text=True, check=True, cwd=ROOT)
            info = json.loads(result.stdout.strip().splitlines()[-1])
            rows.append(f"| {size:,} | {name} | {seconds(statistics.median(info['wall']))} | "
                        f"{seconds(min(info['wall']))} | {seconds(statistics.median(info['cpu']))} | "
                        f"{info['edges'] / size:.1f} | {info['extra_mb']:.0f} MB |")
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"Machine: {os.cpu_count()} CPUs, torch {info['torch']}, {info['threads']} threads, load average "
          f"{os.getloadavg()[0]:.1f}; cutoff {CUTOFF}, k {NEIGHBOURS}, {args.repeats} repeats\n")
    print("| points | function | median wall | fastest wall | CPU per call | edges per point | peak extra memory |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
