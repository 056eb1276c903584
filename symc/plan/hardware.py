"""Hardware profiles the planner sizes models for: peak rates, memory, bandwidth, alignment, memory format.

GPU figures are the vendors' published dense (non-sparse) peak rates. `cpu` is measured on this machine by a short
probe (run once in a subprocess, so planning itself never imports torch) and cached in the user's cache directory.
Users add their own profile as a small TOML file: `target ./my_gpu.toml`, or a file NAME.toml in the directory named by
$SYMC_TARGETS (default ~/.config/symc/targets) used as `target NAME`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..spec.errors import closest

TERA, GIGA = 1e12, 1e9
GPU_FFT_EFFICIENCY = 0.15  # cuFFT on small 2D sizes reaches a small fraction of FP32 peak (no tensor cores)


@dataclass(frozen=True)
class Hardware:
    name: str
    kind: str                    # "cpu" or "gpu"
    peak: dict                   # dense FLOP/s by math mode: fp32, tf32, bf16, fp16 (missing = not supported)
    bandwidth: float             # bytes/s of main (device) memory
    memory: float                # bytes
    alignment: dict = field(default_factory=dict)   # channel multiple that tensor cores want, by math mode
    memory_format: str = "contiguous"               # preferred layout for convolutions
    fft_rate: float = 0.0        # FLOP/s an FFT reaches (FFTs never use tensor cores); 0 = derive from fp32 peak
    direct_rate: dict = field(default_factory=dict)
    """CPU direct-conv FLOP/s by number of spatial dims: ((rate, taps), (rate, taps)) at a small and a large kernel."""
    source: str = ""

    def math_mode(self, dtype: str) -> str:
        """The arithmetic a dtype runs in here: fp32 convs use TF32 tensor cores where the GPU has them."""
        if dtype == "float32":
            return "tf32" if "tf32" in self.peak and self.kind == "gpu" else "fp32"
        mode = {"bfloat16": "bf16", "float16": "fp16"}[dtype]
        return mode if mode in self.peak else "fp32"

    def rate(self, dtype: str) -> float:
        return self.peak[self.math_mode(dtype)]

    def channel_alignment(self, dtype: str) -> int:
        if dtype in ("bfloat16", "float16"):  # 16-bit data wants 16-byte channel blocks even where it is emulated
            return max(self.alignment.get(mode, 1) for mode in ("bf16", "fp16", self.math_mode(dtype)))
        return self.alignment.get(self.math_mode(dtype), 1)

    def fft_flops_rate(self) -> float:
        return self.fft_rate or GPU_FFT_EFFICIENCY * self.peak["fp32"]


GB = 1e9

BUILTIN = {
    # NVIDIA T4 data sheet: 8.1 TFLOPS FP32, 65 TFLOPS FP16 tensor cores (no TF32/BF16), 16 GB GDDR6, 320 GB/s.
    "T4": Hardware("T4", "gpu", {"fp32": 8.1 * TERA, "fp16": 65 * TERA}, 320 * GB, 16 * GB,
                   {"fp16": 8}, "channels_last", source="NVIDIA T4 Tensor Core GPU data sheet"),
    # NVIDIA L4 data sheet: 30.3 TFLOPS FP32, 60 TF32, 121 BF16/FP16 (dense; sheet lists 2x with sparsity), 24 GB, 300 GB/s.
    "L4": Hardware("L4", "gpu", {"fp32": 30.3 * TERA, "tf32": 60 * TERA, "bf16": 121 * TERA, "fp16": 121 * TERA},
                   300 * GB, 24 * GB, {"tf32": 4, "bf16": 8, "fp16": 8}, "channels_last",
                   source="NVIDIA L4 Tensor Core GPU data sheet"),
    # NVIDIA A100 data sheet (80GB SXM): 19.5 TFLOPS FP32, 156 TF32, 312 BF16/FP16 dense, 80 GB HBM2e, 2,039 GB/s.
    "A100": Hardware("A100", "gpu", {"fp32": 19.5 * TERA, "tf32": 156 * TERA, "bf16": 312 * TERA,
                                     "fp16": 312 * TERA}, 2039 * GB, 80 * GB, {"tf32": 4, "bf16": 8, "fp16": 8},
                     "channels_last", source="NVIDIA A100 Tensor Core GPU data sheet (80GB SXM)"),
    # NVIDIA H100 data sheet (SXM): 67 TFLOPS FP32, 495 TF32, 989 BF16/FP16 dense, 80 GB HBM3, 3.35 TB/s.
    "H100": Hardware("H100", "gpu", {"fp32": 67 * TERA, "tf32": 495 * TERA, "bf16": 989 * TERA,
                                     "fp16": 989 * TERA}, 3350 * GB, 80 * GB, {"tf32": 4, "bf16": 8, "fp16": 8},
                     "channels_last", source="NVIDIA H100 Tensor Core GPU data sheet (SXM)"),
    # NVIDIA H200 data sheet (SXM): compute as H100 SXM, 141 GB HBM3e, 4.8 TB/s.
    "H200": Hardware("H200", "gpu", {"fp32": 67 * TERA, "tf32": 495 * TERA, "bf16": 989 * TERA,
                                     "fp16": 989 * TERA}, 4800 * GB, 141 * GB, {"tf32": 4, "bf16": 8, "fp16": 8},
                     "channels_last", source="NVIDIA H200 Tensor Core GPU data sheet (SXM)"),
    # NVIDIA Ada Lovelace architecture paper (RTX 4090): 82.6 TFLOPS FP32, 82.6 TF32, 165 BF16/FP16 with FP32
    # accumulate (dense), 24 GB GDDR6X, 1,008 GB/s.
    "RTX4090": Hardware("RTX4090", "gpu", {"fp32": 82.6 * TERA, "tf32": 82.6 * TERA, "bf16": 165 * TERA,
                                           "fp16": 165 * TERA}, 1008 * GB, 24 * GB,
                        {"tf32": 4, "bf16": 8, "fp16": 8}, "channels_last",
                        source="NVIDIA Ada GPU architecture white paper (GeForce RTX 4090)"),
}

# What planning assumes when no target is named: a 2-core x86 CPU as measured in PERF-FACTS (fixed numbers, so the
# generated file does not depend on the machine that compiles it).
# Rates are fitted to training-step timings on such a machine (PERF-FACTS and benchmarks/conv_choice.py): direct 2D
# ~150 GFLOP/s at 5x5 falling to ~60 at 15x15, 1D ~85 at 15 taps falling to ~40 at 63; FFT ~6 by the model's count.
GENERIC_CPU = Hardware("generic-cpu", "cpu", {"fp32": 150 * GIGA}, 20 * GB, 16 * GB, {}, "contiguous",
                       fft_rate=6 * GIGA, direct_rate={1: ((85 * GIGA, 15), (40 * GIGA, 63)),
                                                       2: ((150 * GIGA, 25), (60 * GIGA, 225)),
                                                       3: ((33 * GIGA, 27), (20 * GIGA, 125))},
                       source="nominal 2-core x86-64 CPU (torch 2.13 CPU build), used when no target is named")


class TargetError(ValueError):
    """An unknown target or a bad profile file; `suggestion` is a close known name, if any."""

    def __init__(self, message: str, suggestion: str | None = None):
        super().__init__(message)
        self.suggestion = suggestion


def cache_dir() -> Path:
    root = os.environ.get("SYMC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "symc")
    return Path(root)


def targets_dir() -> Path:
    return Path(os.environ.get("SYMC_TARGETS") or os.path.expanduser("~/.config/symc/targets"))


def known_targets() -> list[str]:
    return ["cpu"] + sorted(BUILTIN)


def resolve(target: str | None) -> Hardware:
    """The profile for a target name or a profile file; None means the generic CPU."""
    if target is None:
        return GENERIC_CPU
    if target.lower() == "cpu":
        return calibrated_cpu()
    for name, profile in BUILTIN.items():
        if name.lower() == target.lower():
            return profile
    path = Path(target)
    if path.suffix != ".toml":
        path = targets_dir() / f"{target}.toml"
    if path.is_file():
        return load_profile(path)
    if target.endswith(".toml"):
        raise TargetError(f"target profile file {target} does not exist")
    user = sorted(p.stem for p in targets_dir().glob("*.toml")) if targets_dir().is_dir() else []
    names = known_targets() + user
    raise TargetError(f"unknown target '{target}': known targets are {', '.join(names)}, or a profile file (.toml) "
                      f"— see docs/spec-language.md §7.2 'Hardware profiles of your own'", closest(target, names))


def load_profile(path: Path) -> Hardware:
    """A user profile: name, kind, tflops = {fp32 = ..., bf16 = ...}, bandwidth_gbs, memory_gb,
    [alignment = {bf16 = 8}], [memory_format = "channels_last"]."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TargetError(f"cannot read target profile {path}: {error}") from None
    missing = [key for key in ("name", "tflops", "bandwidth_gbs", "memory_gb") if key not in data]
    if missing:
        raise TargetError(f"target profile {path} lacks {', '.join(missing)}")
    tflops = data["tflops"]
    if not isinstance(tflops, dict) or "fp32" not in tflops:
        raise TargetError(f"target profile {path}: tflops must be a table with at least fp32")
    try:
        return Hardware(
            name=str(data["name"]), kind=str(data.get("kind", "gpu")),
            peak={k: float(v) * TERA for k, v in tflops.items()},
            bandwidth=float(data["bandwidth_gbs"]) * GB, memory=float(data["memory_gb"]) * GB,
            alignment={k: int(v) for k, v in data.get("alignment", {}).items()},
            memory_format=str(data.get("memory_format", "channels_last")),
            source=f"user profile {path}")
    except (TypeError, ValueError) as error:
        raise TargetError(f"target profile {path}: {error}") from None


def calibrated_cpu() -> Hardware:
    """This machine's CPU, measured once by `symc.plan.probe` and cached per machine and torch version."""
    path = cache_dir() / "cpu-profile.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return _cpu_from_measurements(data)
        except (ValueError, KeyError):
            pass
    result = subprocess.run([sys.executable, "-m", "symc.plan.probe"], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise TargetError(f"could not measure this CPU for 'target cpu': {result.stderr.strip()[-300:]}")
    data = json.loads(result.stdout)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(temporary, path)
    return _cpu_from_measurements(data)


def _cpu_from_measurements(data: dict) -> Hardware:
    return Hardware(
        name="cpu", kind="cpu", peak={"fp32": float(data["matmul_flops"])},
        bandwidth=float(data["bandwidth"]), memory=float(data["memory"]), alignment={}, memory_format="contiguous",
        fft_rate=float(data["fft_flops"]),
        direct_rate={int(k): tuple((float(rate), int(taps)) for rate, taps in v) for k, v in data["direct_flops"].items()},
        source=f"measured on this machine ({data.get('threads', '?')} threads, torch {data.get('torch', '?')})")


def describe(hardware: Hardware) -> dict:
    return asdict(hardware)
