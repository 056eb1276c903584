"""The planner: hardware profiles, cost model, conv algorithm choice, sizing, budgets, autotune and reports."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import symc
from symc.plan import autotune as autotune_module
from symc.plan.cost import ConvShape, choose_conv, training_memory
from symc.plan.hardware import BUILTIN, GENERIC_CPU, resolve

GPUS = sorted(BUILTIN)


def conv_layers(plan):
    return [layer for layer in plan.layers if layer.op in ("lift", "group_conv")]


@pytest.mark.parametrize("gpu", GPUS)
def test_gpu_plans_align_every_conv_to_tensor_cores(gpu):
    for group in ("C8", "D3", "rotation 6", "flip"):
        plan = symc.compile(f"image 3x64x64; {group}; invariant output 10; dtype bfloat16; target {gpu}").plan
        hardware = resolve(gpu)
        align = hardware.channel_alignment("bfloat16")
        assert align == 8
        for layer in conv_layers(plan):
            assert layer.out_shape[0] % 8 == 0, (gpu, group, layer)
            assert layer.memory_format == ("channels_last" if layer.algorithm == "direct" else "contiguous")


@pytest.mark.parametrize("gpu", GPUS)
def test_large_kernels_choose_fft_and_small_ones_direct_on_every_gpu(gpu):
    hardware = resolve(gpu)
    assert choose_conv(ConvShape(8, 32, 32, (31, 31), (64, 64)), hardware, "bfloat16")[0] == "fft"
    assert choose_conv(ConvShape(8, 32, 32, (255,), (1024,)), hardware, "bfloat16")[0] == "fft"
    assert choose_conv(ConvShape(8, 32, 32, (3, 3), (64, 64)), hardware, "bfloat16")[0] == "direct"


def test_plan_chooses_fft_for_large_kernels_and_honours_the_conv_hint():
    plan = symc.compile("image 1x64x64; p4; invariant output; kernel 31").plan
    assert all(layer.algorithm == "fft" for layer in conv_layers(plan))
    assert all("fft" in layer.reason and "direct" in layer.reason for layer in conv_layers(plan))
    forced = symc.compile("image 1x64x64; p4; invariant output; kernel 31; conv direct").plan
    assert all(layer.algorithm == "direct" for layer in conv_layers(forced))
    assert all("conv direct hint" in layer.reason for layer in conv_layers(forced))


def test_fft_models_stay_exactly_equivariant_and_match_direct():
    torch.manual_seed(0)
    fft = symc.compile("image 2x21x21; D4; invariant output 3; depth 2; width 4; kernel 9; conv fft")
    assert "algorithm=\"fft\"" in fft.source
    model = fft.module.eval()
    report = symc.check(model, fft.spec)
    assert report.ok and report.max_error < 1e-4, str(report)
    direct = symc.compile("image 2x21x21; D4; invariant output 3; depth 2; width 4; kernel 9; conv direct")
    twin = direct.module.eval()
    twin.load_state_dict(model.state_dict())
    x = torch.randn(3, 2, 21, 21)
    assert torch.allclose(model(x), twin(x), atol=1e-4)


SPECS_FOR_BUDGETS = [
    "image 1x28x28; p4; invariant output 10",
    "image 3x32x32; p4m; invariant output 10",
    "image; C8; invariant output 2",
    "image; D8; invariant output 2",
    "image 1x29x29; rotation 3; invariant output 5",
    "image; translation; invariant output 3",
    "image 3x64x64; flip; invariant output 1",
    "image 3x48x48; D4; equivariant output 2",
    "image 1x33x33; C4; orientation output 2",
    "image 3x40x40; D2; equivariant output 3 fields",
]


@pytest.mark.parametrize("budget", [50_000, 200_000, 1_000_000])
@pytest.mark.parametrize("text", SPECS_FOR_BUDGETS)
def test_params_budget_lands_within_ten_percent(text, budget):
    plan = symc.compile(f"{text}; params {budget}").plan
    assert abs(plan.params - budget) <= 0.1 * budget, plan.architecture.reasons["widths"]
    assert f"{budget:,}" in plan.architecture.reasons["widths"]


def test_hints_are_respected_exactly():
    plan = symc.compile("image 1x28x28; p4; invariant output; depth 5; widths 3,5,7,9,11; kernel 7,5,5,3,3").plan
    assert plan.architecture.widths == (3, 5, 7, 9, 11)
    assert plan.architecture.kernels == (7, 5, 5, 3, 3)
    assert [layer.op for layer in conv_layers(plan)] == ["lift"] + ["group_conv"] * 4
    hinted = symc.compile("image 1x28x28; D3; invariant output; width 5; dtype bfloat16; target A100").plan
    assert hinted.architecture.widths == (5, 5, 5, 5), "explicit widths are never rounded"
    assert "not multiples of 8" in hinted.architecture.reasons["alignment"]


@pytest.mark.parametrize("text", SPECS_FOR_BUDGETS[:6])
def test_parameter_estimates_are_exact_and_flops_within_five_percent(text):
    compiled = symc.compile(text)
    model = compiled.module.eval()
    assert compiled.plan.params == sum(p.numel() for p in model.parameters())
    x = torch.randn(2, compiled.spec.domain.channels, *compiled.plan.architecture.input_size)
    model(x)  # expand and cache filters: the count below is of the forward pass alone
    with FlopCounterMode(display=False) as counter:
        model(x)
    counted = counter.get_total_flops() / 2
    assert abs(compiled.plan.flops - counted) <= 0.05 * counted


def test_training_memory_and_largest_batch():
    plan = symc.compile("image 1x28x28; p4; invariant output 10; target A100; batch 64").plan
    memory = plan.training_memory
    assert memory.batch == 64
    assert memory.total == pytest.approx(16 * plan.params + 64 * plan.memory)
    assert memory.largest_batch == int((0.9 * 80e9 - 16 * plan.params) // plan.memory)
    small = training_memory(1000, 1e9, GENERIC_CPU, "float32", 8)
    assert small.largest_batch == int((0.9 * GENERIC_CPU.memory - 16000) // 1e9)
    text = str(plan)
    assert "largest batch that fits A100" in text and "batch 64" in text


def test_unknown_target_names_the_known_ones():
    with pytest.raises(symc.SpecError, match="unknown target 'B200'.*H100") as info:
        symc.compile("image; p4; invariant output; target B200")
    assert (info.value.line, info.value.column) == (1, 37) and info.value.suggestion == 'H200'   # under 'B200'
    with pytest.raises(symc.SpecError, match="unknown target"):
        symc.compile("image; p4; invariant output", target="B200")


def test_user_profile_file(tmp_path, monkeypatch):
    profile = tmp_path / "mygpu.toml"
    profile.write_text('name = "MyGPU"\ntflops = { fp32 = 20, bf16 = 160 }\nbandwidth_gbs = 900\nmemory_gb = 32\n'
                       'alignment = { bf16 = 16 }\n')
    plan = symc.compile("image 3x32x32; D3; invariant output; dtype bfloat16", target=str(profile)).plan
    assert plan.hardware.name == "MyGPU" and plan.hardware.memory == 32e9
    assert all(layer.out_shape[0] % 16 == 0 for layer in conv_layers(plan))
    monkeypatch.setenv("SYMC_TARGETS", str(tmp_path))
    assert symc.compile("image; p4; invariant output; target mygpu").plan.hardware.name == "MyGPU"
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n')
    with pytest.raises(symc.SpecError, match="lacks tflops, bandwidth_gbs, memory_gb"):
        symc.compile("image; p4; invariant output", target=str(broken))


def test_cpu_target_is_measured_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMC_CACHE_DIR", str(tmp_path))
    plan = symc.compile("image; p4; invariant output; target cpu").plan
    cached = tmp_path / "cpu-profile.json"
    assert cached.is_file()
    data = json.loads(cached.read_text())
    assert set(data["direct_flops"]) == {"1", "2", "3"} and data["fft_flops"] > 0
    assert plan.hardware.name == "cpu" and "measured on this machine" in plan.hardware.source
    stamp = cached.stat().st_mtime_ns
    symc.compile("image; C8; invariant output; target cpu")
    assert cached.stat().st_mtime_ns == stamp, "the probe must not run again"


def test_autotune_measures_records_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMC_CACHE_DIR", str(tmp_path))
    text = "image 1x12x12; p4; invariant output 2; depth 2; width 2"
    compiled = symc.compile(text, autotune=True)
    layers = conv_layers(compiled.plan)
    assert compiled.plan.autotuned
    for layer in layers:
        names = [name for name, _ in layer.measured]
        assert names == ["direct", "direct channels_last", "fft"]
        assert layer.time == min(seconds for _, seconds in layer.measured)
        assert layer.reason.startswith("autotune:")
    cache = json.loads((tmp_path / "autotune.json").read_text())
    assert sum(len(entries) for entries in cache.values()) == 3 * len({layer.in_shape for layer in layers})

    def refuse(*args):
        raise AssertionError("cached shapes must not be measured again")
    monkeypatch.setattr(autotune_module, "measure_shape", refuse)
    again = symc.compile(text, autotune=True)
    assert [layer.algorithm for layer in conv_layers(again.plan)] == [layer.algorithm for layer in layers]
    assert symc.check(again.module.eval(), again.spec).ok


def run_cli(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "symc.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env)


def test_plan_formats_json_dot_and_png(tmp_path):
    data = json.loads(run_cli("plan", "-", "--format", "json", "--target", "H100",
                              stdin="image 1x28x28; p4; invariant output 10").stdout)
    assert data["target"] == "H100" and data["totals"]["largest_batch"] > 0
    assert data["totals"]["train_step_seconds"] > 0
    assert {"algorithm", "memory_format", "time", "reason"} <= set(data["layers"][1])
    dot = run_cli("plan", "-", "--format", "dot", stdin="image; p4; invariant output").stdout
    assert dot.startswith("digraph symc {") and "->" in dot and "lift" in dot
    png = tmp_path / "ir.png"
    result = run_cli("plan", "-", "--png", str(png), stdin="image; p4; invariant output")
    if shutil.which("dot"):
        assert result.returncode == 0 and png.read_bytes()[:4] == b"\x89PNG"
    else:
        assert result.returncode == 2 and "Graphviz" in result.stderr and not png.exists()


def test_compile_cli_target_and_autotune_flags(tmp_path):
    env = dict(os.environ, SYMC_CACHE_DIR=str(tmp_path))
    out = tmp_path / "m.py"
    result = run_cli("compile", "-", "-o", str(out), "--autotune", stdin="image 1x10x10; flip; invariant output; "
                     "depth 1; width 2", env=env)
    assert result.returncode == 0, result.stderr
    assert "autotune [" in result.stderr
    bad = run_cli("compile", "-", "-o", str(tmp_path / "x.py"), "--target", "Z80", stdin="image; p4; invariant output")
    assert bad.returncode == 2 and "unknown target 'Z80'" in bad.stderr
