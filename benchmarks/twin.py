"""symc models against their same-shape plain twins, and against escnn on escnn's C8 tutorial architecture.

    python benchmarks/twin.py [--quick] [--only NAME ...] [--escnn-only]

A regular group CNN is, at inference, a plain CNN with structured weights. The twin of a generated model is the same
module with every group convolution replaced by a plain `torch.nn.Conv1d/2d/3d` of the expanded shape (in/out
channels = fields x |G|, same kernel, padding and boundary) holding the expanded filters as its own parameters;
norms, activations, pools and heads are the very same modules. On point clouds (no expanded filters) the twin's
message-passing layers read a raw coordinate difference where symc's read squared distances, with the same linear
layers. The twin computes the same outputs as symc in eval mode (checked for every grid spec before timing).

Per spec and batch, timed side by side in one process: the two models alternate within every repetition (their
order flips each repetition), after warm-up; the table gives medians and the ratio of medians, and the noise
column the interquartile range of the per-repetition train-step ratios.
- eval: `model.eval()` forward under `torch.no_grad()` (symc's expanded filters are cached in eval mode);
- train: `zero_grad`, forward, mean-square loss, backward, Adam step, in train mode (symc rebuilds its filter
  bank from the base weights every training forward);
- memory: the peak a train step reaches: what is held between steps (parameters, buffers, Adam's moments; summed
  over their storages) plus the peak of the step's own allocations (activations, gradients, expanded filters,
  temporaries), read from the CPU allocator's running total that `torch.profiler` records with
  `profile_memory=True`; the step's own peak is shown too;
- compile + construct: `symc.compile` plus building `Model()` from the source, after torch is imported
  (`benchmarks/construct.py`), and `symc compile` as a new process.
- convolutions alone (escnn rows): the tutorial's plain convolutions at its shapes, forward and backward, timed
  beside both whole steps: the floor of any step that keeps the dense expanded filters.
escnn rows need escnn importable (a separate environment, see docs/benchmarks.md §3); they are skipped with a
note otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from construct import cli_compile_time, measure_construct  # noqa: E402

# escnn's tutorial as written: its paddings shrink the maps (29 -> 25 -> 13 -> 7 -> 5), halving after blocks 2 and 4
SAME_SIZE_SPEC = ("image 1x29x29; rotation 8; invariant output 10; widths 24,48,48,96,96,64; kernel 7,5,5,5,5,5; "
                  "downsample after 2,4")
TUTORIAL_SPEC = SAME_SIZE_SPEC + "; padding 1,2,2,2,2,1"


def images(channels, size):
    return lambda batch: (torch.randn(batch, channels, size, size),)


def points(count, dim, features):
    return lambda batch: (torch.randn(batch, count, dim), torch.randn(batch, count, features))


# name, spec, batches, inputs(batch)
SPECS = [
    ("C4", "image 3x32x32; C4; invariant output 10", (8, 64), images(3, 32)),
    ("D4", "image 3x32x32; D4; invariant output 10", (8, 64), images(3, 32)),
    ("C8", "image 1x29x29; C8; invariant output 10", (8, 64), images(1, 29)),
    ("sequence", "time series 1x100; time reversal; boundary circular; invariant output 3", (64,),
     lambda batch: (torch.randn(batch, 1, 100),)),
    ("points", "point cloud 12x3 with 5 features; E(3) x permutation; invariant output 1; equivariant vector output",
     (64,), points(12, 3, 5)),
]
TARGETS = {"eval": 1.03, "train": 1.10, "memory": 1.10, "construct_s": 0.1,
           "escnn_train": 0.8, "escnn_construct": 0.01}


# ---------------------------------------------------------------------------------------------------------- twins

class PlainMessageLayer(torch.nn.Module):
    """An EGNN layer's linear layers fed plain pair features: h_i, h_j and a raw coordinate difference."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.edge, self.node, self.norm = layer.edge, layer.node, layer.norm
        self.pseudo = layer.pseudo
        self.update_coords = layer.update_coords
        self.coord = getattr(layer, "coord", None)
        self.radial = getattr(layer, "radial", None)

    def forward(self, h, pos, signs):
        count = h.shape[1]
        diff = pos.unsqueeze(2) - pos.unsqueeze(1)
        pair = [h.unsqueeze(2).expand(-1, -1, count, -1), h.unsqueeze(1).expand(-1, count, -1, -1), diff[..., :1]]
        if self.pseudo and signs is not None:
            pair.append(diff[..., 1:2])
        messages = self.edge(torch.cat(pair, dim=-1))
        h = self.norm(h + self.node(torch.cat([h, messages.mean(dim=2)], dim=-1)))
        if self.update_coords:
            pos = pos + (diff * self.coord(messages)).mean(dim=2)
            if self.radial is not None:
                pos = pos + pos * torch.tanh(self.radial(h))
        return h, pos


class ChannelsLast(torch.nn.Module):
    """A plain conv run in channels_last, as symc runs a layer the planner laid out that way."""

    def __init__(self, conv: torch.nn.Module):
        super().__init__()
        self.conv = conv

    def forward(self, x):
        return self.conv(x.contiguous(memory_format=torch.channels_last))


def plain_conv(layer: torch.nn.Module) -> torch.nn.Module:
    """The plain torch conv of a symc group convolution's expanded shape, holding its expanded filters."""
    with torch.no_grad():
        bank = layer.expand_weight().detach().clone()
        bias = layer.expanded_bias()
    out_channels, in_channels = bank.shape[:2]
    dims = bank.dim() - 2
    conv_class = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[dims]
    conv = conv_class(in_channels, out_channels, layer.kernel_size, padding=getattr(layer, "padding", layer.kernel_size // 2),
                      bias=bias is not None, padding_mode="circular" if layer.boundary == "circular" else "zeros")
    with torch.no_grad():
        conv.weight.copy_(bank)
        if bias is not None:
            conv.bias.copy_(bias.detach())
    return ChannelsLast(conv) if getattr(layer, "channels_last", False) else conv


GROUP_CONVS = ("GroupConv",)


def make_twin(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` whose group convolutions are plain convs of the expanded shape and whose EGNN layers are
    plain message-passing layers; every other module is kept as it is."""
    twin = copy.deepcopy(model)

    def swap(parent: torch.nn.Module) -> None:
        for name, child in parent.named_children():
            kind = type(child).__name__
            if kind in GROUP_CONVS:
                setattr(parent, name, plain_conv(child))
            elif kind == "EGNNLayer":
                setattr(parent, name, PlainMessageLayer(child))
            else:
                swap(child)

    swap(twin)
    return twin


class ConvolutionsAlone:
    """The plain convolutions of a symc model at the shapes they meet, nothing else: each layer's expanded filters
    applied to a fixed random input of the size that layer receives, forward and backward (filter gradients, and
    input gradients for all but the first layer, as in the model), no optimizer. Its time is the floor that no
    rewrite keeping the dense expanded convolutions can go below."""

    def __init__(self, model: torch.nn.Module, inputs):
        convs = [m for m in model.modules() if type(m).__name__ in GROUP_CONVS]
        seen = []   # (input shape, output elements) per layer, from one forward pass
        hooks = [m.register_forward_hook(lambda _, args, out: seen.append((args[0].shape, out.numel())))
                 for m in convs]
        with torch.no_grad():
            model.eval()(*inputs)
        for hook in hooks:
            hook.remove()
        self.convs = [plain_conv(m) for m in convs]
        self.inputs = [torch.randn(shape) for shape, _ in seen]
        # Multiply-adds x 2 per pass: forward, filter gradient, and input gradient past the first layer.
        taps = [math.prod(next(c.parameters()).shape[2:]) for c in self.convs]   # the filters come first
        self.flops = sum(2 * out * shape[1] * tap * (3 if index > 0 else 2)
                         for index, ((shape, out), tap) in enumerate(zip(seen, taps)))

    def step(self) -> None:
        xs = [x.detach().requires_grad_(index > 0) for index, x in enumerate(self.inputs)]
        loss = sum(conv(x).mean() for conv, x in zip(self.convs, xs))
        torch.autograd.grad(loss, [p for conv in self.convs for p in conv.parameters()] + xs[1:])


def fft_layers(model: torch.nn.Module) -> int:
    return sum(1 for m in model.modules() if type(m).__name__ in GROUP_CONVS and getattr(m, "use_fft", False))


# ------------------------------------------------------------------------------------------------------- measuring

def outputs_of(result):
    return result if isinstance(result, tuple) else (result,)


def trainer(model: torch.nn.Module, inputs):
    """One training step (zero_grad, forward, loss, backward, Adam step) and its body without zero_grad."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def body():
        loss = sum(out.float().square().mean() for out in outputs_of(model(*inputs)))
        loss.backward()
        optimizer.step()

    def step():
        optimizer.zero_grad(set_to_none=True)
        body()

    return step, body, optimizer


def evaluator(model: torch.nn.Module, inputs):
    def forward():
        with torch.no_grad():
            model(*inputs)
    return forward


def side_by_side(runs: dict, reps: int, warmup: int) -> dict:
    """Per-repetition seconds of each callable, alternating them (order flipped every repetition)."""
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            runs[name]()
    times = {name: [] for name in names}
    for rep in range(reps):
        for name in (names if rep % 2 == 0 else names[::-1]):
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def reps_for(runs: dict, budget: float, low: int, high: int) -> int:
    """Repetitions that fit `budget` seconds, from one timed call of each."""
    start = time.perf_counter()
    for run in runs.values():
        run()
    once = time.perf_counter() - start
    return max(low, min(high, int(budget / max(once, 1e-6))))


@contextlib.contextmanager
def quiet_stderr():
    """The profiler's own start/stop lines go to file descriptor 2; keep them out of the table."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def peak_step_bytes(body, optimizer) -> int:
    """Peak bytes live during one train step among the allocations the step makes (CPU allocator's running total,
    as torch.profiler records it)."""
    from torch.profiler import ProfilerActivity, profile
    optimizer.zero_grad(set_to_none=True)
    with tempfile.TemporaryDirectory() as tmp, quiet_stderr():
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            body()
        trace = Path(tmp) / "trace.json"
        prof.export_chrome_trace(str(trace))
        events = json.loads(trace.read_text())["traceEvents"]
    totals = [e["args"]["Total Allocated"] for e in events if e.get("name") == "[memory]"]
    return max(totals, default=0)


def resident_bytes(model: torch.nn.Module, optimizer) -> int:
    """Bytes held between steps: parameters, buffers (symc's expansion indices included) and Adam's moments."""
    tensors = list(model.parameters()) + list(model.buffers())
    tensors += [v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v)]
    seen, total = set(), 0
    for t in tensors:
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            total += t.untyped_storage().nbytes()
    return total


def ratio_spread(a: list, b: list) -> tuple[float, float]:
    """Interquartile range of the per-repetition ratios a[i] / b[i]."""
    ratios = sorted(x / y for x, y in zip(a, b))
    if len(ratios) < 4:
        return ratios[0], ratios[-1]
    q = statistics.quantiles(ratios, n=4)
    return q[0], q[2]


def summary(times: dict) -> tuple:
    """(median symc, median twin, IQR of per-repetition ratios, ratio of the fastest runs)."""
    a, b = times["symc"], times["twin"]
    return statistics.median(a), statistics.median(b), ratio_spread(a, b), min(a) / min(b)


def compare(model, twin, inputs, reps_budget: float, quick: bool) -> dict:
    low, high = (3, 5) if quick else (7, 40)
    row = {}
    model.eval(), twin.eval()
    runs = {"symc": evaluator(model, inputs), "twin": evaluator(twin, inputs)}
    reps = reps_for(runs, reps_budget * 0.3, low, high * 2)
    t = side_by_side(runs, reps, warmup=1 if quick else 2)
    row["eval"] = summary(t)
    model.train(), twin.train()
    symc_step, symc_body, symc_opt = trainer(model, inputs)
    twin_step, twin_body, twin_opt = trainer(twin, inputs)
    runs = {"symc": symc_step, "twin": twin_step}
    reps = reps_for(runs, reps_budget * 0.7, low, high)
    t = side_by_side(runs, reps, warmup=1 if quick else 2)
    row["train"] = summary(t)
    # (held between steps + peak of the step's own allocations, the step's own allocations alone)
    step_peaks = peak_step_bytes(symc_body, symc_opt), peak_step_bytes(twin_body, twin_opt)
    row["memory"] = (resident_bytes(model, symc_opt) + step_peaks[0], resident_bytes(twin, twin_opt) + step_peaks[1],
                     step_peaks[0], step_peaks[1])
    row["reps"] = reps
    return row


# ------------------------------------------------------------------------------------------------------- reporting

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu}; {os.cpu_count()} logical cores; torch {torch.__version__}; {torch.get_num_threads()} threads; "
            f"Python {platform.python_version()}; load average {load}")


def fmt_ratio(value: float, target: float) -> str:
    return f"**{value:.2f}**" + ("" if value <= target else " (over)")


def run_specs(selected, quick: bool, budget: float) -> list[str]:
    import symc
    lines = ["| spec | batch | eval symc / twin (ms) | eval ratio (fastest) | train step symc / twin (ms) | "
             "train ratio (fastest) | "
             "train ratio IQR | peak train memory symc / twin (MB) | memory ratio | of which the step's own "
             "allocations (MB, ratio) | reps |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    compile_lines = ["| spec | symc.compile (ms) | construct (ms) | compile + construct (s) | "
                     "`symc compile` process (s) |", "|---|---|---|---|---|"]
    notes = []
    for name, spec, batches, make_inputs in selected:
        if quick:
            batches = batches[:1]
        found = measure_construct(spec, runs=1 if quick else 3)
        cli = cli_compile_time(spec, runs=1 if quick else 3)
        total = found["compile"] + found["construct"]
        compile_lines.append(f"| {name} | {found['compile'] * 1e3:.1f} | {found['construct'] * 1e3:.1f} | "
                             f"{fmt_ratio(total, TARGETS['construct_s'])} | {cli:.2f} |")
        torch.manual_seed(0)
        model = symc.compile(spec).new_module()
        twin = make_twin(model)
        if fft_layers(model):
            notes.append(f"{name}: {fft_layers(model)} layer(s) use symc's FFT convolution; the twin uses torch's "
                         f"direct convolution there.")
        model.eval(), twin.eval()
        check = make_inputs(2)
        with torch.no_grad():
            a, b = outputs_of(model(*check)), outputs_of(twin(*check))
        if name != "points":
            error = max(float((x - y).abs().max() / (x.abs().max() + 1e-12)) for x, y in zip(a, b))
            if error > 1e-4:
                raise AssertionError(f"{name}: the twin does not compute symc's outputs (relative error {error:.1e})")
        for batch in batches:
            inputs = make_inputs(batch)
            row = compare(model, twin, inputs, budget, quick)
            (es, et, _, emin), (ts, tt, tspread, tmin) = row["eval"], row["train"]
            ms, mt, ss, st = row["memory"]
            lines.append(
                f"| {name} | {batch} | {es * 1e3:.2f} / {et * 1e3:.2f} | {fmt_ratio(es / et, TARGETS['eval'])} "
                f"({emin:.2f}) | {ts * 1e3:.1f} / {tt * 1e3:.1f} | {fmt_ratio(ts / tt, TARGETS['train'])} "
                f"({tmin:.2f}) | {tspread[0]:.2f}-{tspread[1]:.2f} | {ms / 2**20:.1f} / {mt / 2**20:.1f} | "
                f"{fmt_ratio(ms / mt, TARGETS['memory'])} | {ss / 2**20:.1f} / {st / 2**20:.1f} ({ss / st:.2f}) | "
                f"{row['reps']} |")
            print(lines[-1], file=sys.stderr, flush=True)
    return lines + [""] + compile_lines + ([""] + notes if notes else [])


def escnn_rows(quick: bool, budget: float) -> list[str]:
    try:
        import escnn  # noqa: F401
        from escnn_c8 import C8SteerableCNN
    except ImportError as error:
        return [f"escnn rows skipped: escnn is not importable here ({error}); see docs/benchmarks.md §3 for "
                f"the environment that has it."]
    import symc
    start = time.perf_counter()
    torch.manual_seed(0)
    tutorial = C8SteerableCNN()
    first = time.perf_counter() - start
    start = time.perf_counter()
    same_size = C8SteerableCNN(same_size=True)
    second = time.perf_counter() - start
    found = measure_construct(TUTORIAL_SPEC, runs=1 if quick else 3)
    ours = found["compile"] + found["construct"]
    torch.manual_seed(0)
    model = symc.compile(TUTORIAL_SPEC).new_module()
    torch.manual_seed(0)
    same_model = symc.compile(SAME_SIZE_SPEC).new_module()
    batch = 8
    inputs = (torch.randn(batch, 1, 29, 29),)
    params = sum(p.numel() for p in model.parameters())
    lines = [
        f"escnn's C8 tutorial architecture (widths 24,48,48,96,96,64; kernels 7,5,5,5,5,5; 29x29; batch {batch}; "
        f"symc {params:,} parameters, escnn {sum(p.numel() for p in tutorial.parameters()):,}). 'tutorial': as "
        f"written, its paddings 1,2,2,2,2,1 shrinking the maps (29, 25, 13, 7, 5), against symc's "
        f"`{TUTORIAL_SPEC}`. 'same sizes': both padded to keep every size (29, 15, 8), symc's "
        f"`{SAME_SIZE_SPEC}` and escnn's with a mean over positions at the end.",
        "",
        "| measure | symc | escnn | ratio | target |",
        "|---|---|---|---|---|",
        f"| compile + construct (s) | {ours:.3f} | {first:.1f} (same sizes: {second:.1f}) | "
        f"{fmt_ratio(ours / first, TARGETS['escnn_construct'])} | <= 0.01 |",
    ]
    for label, ours_model, reference in (("tutorial", model, tutorial), ("same sizes", same_model, same_size)):
        row = compare(ours_model, reference, inputs, budget, quick)
        (es, ee, _, emin), (ts, te, tspread, tmin) = row["eval"], row["train"]
        ms, me = row["memory"][:2]
        lines += [
            f"| train step vs escnn {label} (ms) | {ts * 1e3:.0f} | {te * 1e3:.0f} | "
            f"{fmt_ratio(ts / te, TARGETS['escnn_train'])} (fastest {tmin:.2f}; IQR {tspread[0]:.2f}-"
            f"{tspread[1]:.2f}) | <= 0.8 |",
            f"| eval forward vs escnn {label} (ms) | {es * 1e3:.1f} | {ee * 1e3:.1f} | {es / ee:.2f} "
            f"(fastest {emin:.2f}) | |",
            f"| peak train memory vs escnn {label} (MB) | {ms / 2**20:.1f} | {me / 2**20:.1f} | {ms / me:.2f} | |",
        ]
    # The target against what the convolutions alone cost: symc's own filters at the tutorial's shapes, timed
    # side by side with both whole steps.
    floor = ConvolutionsAlone(model, inputs)
    runs = {"floor": floor.step, "symc": trainer(model.train(), inputs)[0],
            "escnn": trainer(tutorial.train(), inputs)[0]}
    low, high = (3, 5) if quick else (7, 40)
    t = {k: statistics.median(v) for k, v in side_by_side(runs, reps_for(runs, budget, low, high),
                                                          1 if quick else 2).items()}
    lines.append(f"| train step of the tutorial's convolutions alone (ms) | {t['floor'] * 1e3:.0f} | "
                 f"{t['escnn'] * 1e3:.0f} | {t['floor'] / t['escnn']:.2f} ({floor.flops / t['floor'] / 1e9:.0f} "
                 f"GFLOP/s; symc's whole step in the same run: {t['symc'] * 1e3:.0f} ms, "
                 f"{t['symc'] / t['escnn']:.2f}) | |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run: first batch only, few repetitions, "
                                                             "no escnn rows")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="specs to run: " +
                        ", ".join(name for name, *_ in SPECS))
    parser.add_argument("--escnn-only", action="store_true", help="the escnn comparison alone")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import symc
    symc.compile(SPECS[0][1])   # loads the grammar once, so no spec's compile time carries it
    selected = [s for s in SPECS if not args.only or s[0] in args.only]
    if args.only and len(selected) != len(args.only):
        parser.error(f"unknown spec name in {args.only}; known: {', '.join(name for name, *_ in SPECS)}")
    budget = 1.5 if args.quick else 25.0
    started = time.perf_counter()
    print(f"Machine: {machine()}")
    print()
    print(f"Targets: eval ratio <= {TARGETS['eval']}, train-step ratio <= {TARGETS['train']}, memory ratio <= "
          f"{TARGETS['memory']}, compile + construct <= {TARGETS['construct_s']} s.")
    print()
    if not args.escnn_only:
        print("\n".join(run_specs(selected, args.quick, budget)))
        print()
    if args.quick and not args.escnn_only:
        print("escnn rows skipped: --quick.")
    else:
        print("\n".join(escnn_rows(args.quick, budget)))
    print()
    print(f"Load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"wall time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
