"""The two factors added on the representation core: `flip` on volumes (exact) and `scale N` on sequences (zooms
of the time axis, approximate like image scale). Each touched only its factor's and its domain's modules."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import symc
from symc.testing import EXACT_TOLERANCE, check
from symc.testing.sequence import ZOOM_TOLERANCE


def compiled(text: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return symc.compile(text).new_module()


# ---------------------------------------------------------------- flip on volumes

@pytest.mark.parametrize("text, sizes", [
    ("volume 1x5x5x5; flip; invariant output 2; equivariant output 1; widths 3,3", [(5, 5, 5), (6, 7, 8)]),
    ("volume 2x6x6x6; flip; invariant output 3; widths 2,4", [(6, 6, 6), (5, 5, 5)]),
])
def test_flip_on_volumes_is_exact_at_odd_and_even_sizes(text, sizes):
    report = check(compiled(text), text, sizes=sizes)
    assert report.ok, str(report)
    assert report.max_error < EXACT_TOLERANCE
    assert {row.element for row in report.rows} == {"identity", "flip"}


def test_flip_on_a_volume_need_not_be_a_cube_and_reads_as_d1():
    c = symc.compile("volume 1x4x6x8; flip; invariant output 2; widths 2,2")
    assert c.plan.symmetry.group.name == "D1" and c.plan.symmetry.order == 2
    assert "mirror of the last axis" in c.plan.symmetry.describe()
    assert "GROUP_MOVES" in c.source
    module = c.new_module().eval()
    x = torch.randn(2, 1, 4, 6, 8)
    with torch.no_grad():
        assert torch.allclose(module(x), module(torch.flip(x, dims=(-1,))), atol=1e-5)
        # the mirror of another axis is not claimed, and a trained-looking model does not have it
        assert module(x).shape == (2, 2)


def test_octahedral_with_flip_is_the_full_octahedral_group():
    with_flip = symc.compile("volume 1x5x5x5; octahedral; flip; invariant output 2; widths 2,2")
    assert with_flip.plan.symmetry.group.name == "Oh" and with_flip.plan.symmetry.order == 48
    full = symc.compile("volume 1x5x5x5; full octahedral; invariant output 2; widths 2,2")
    assert with_flip.plan.params == full.plan.params


def test_full_octahedral_and_flip_overlap_is_a_spec_error():
    with pytest.raises(symc.SpecError, match="already contains the mirrors"):
        symc.parse("volume 1x5x5x5; full octahedral; flip; invariant output 2")


class _LeftHeavy(nn.Module):
    """Weights the last axis unevenly: its output changes when the volume is mirrored left-right."""

    def forward(self, x):
        ramp = torch.linspace(0.0, 1.0, x.shape[-1], dtype=x.dtype)
        return (x * ramp).flatten(2).mean(dim=-1).repeat(1, 2)


def test_the_tester_flags_a_volume_model_that_is_not_mirror_invariant():
    report = check(_LeftHeavy(), "volume 1x5x5x5; flip; invariant output 2")
    assert not report.ok
    assert [row.element for row in report.failures] == ["flip"]


# ---------------------------------------------------------------- scale N on sequences

SEQUENCE_SCALE = "sequence 1x64; scale 3; invariant output 2; widths 4,6"


def test_sequence_scale_compiles_runs_and_passes_its_zoom_rows():
    c = symc.compile(SEQUENCE_SCALE)
    assert c.plan.symmetry.scales == 3
    assert "approximate for zooms" in c.plan.exactness()
    assert any(layer.op == "scale_lift" for layer in c.plan.layers)
    torch.manual_seed(0)
    module = c.new_module()
    assert sum(p.numel() for p in module.parameters()) == c.plan.params
    report = check(module, SEQUENCE_SCALE)
    assert report.ok, str(report)
    zooms = [row for row in report.rows if row.element.startswith("zoom")]
    assert len(zooms) == 2 and all(row.error <= ZOOM_TOLERANCE for row in zooms)


def test_sequence_scale_keeps_time_reversal_exact():
    text = "sequence 2x48; time reversal; scale 3; invariant output 3; widths 3,3"
    report = check(compiled(text), text)
    assert report.ok, str(report)
    exact = [row for row in report.rows if row.exact]
    assert {row.element for row in exact} >= {"identity", "reversal"}
    assert max(row.error for row in exact) < EXACT_TOLERANCE


class _PlainConv1d(nn.Module):
    """A plain 1D CNN with a max over positions: shift-invariant, but blind to zooms."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.net = nn.Sequential(nn.Conv1d(1, 8, 5, padding=2), nn.ReLU(), nn.Conv1d(8, 8, 5, padding=2), nn.ReLU(),
                                 nn.Conv1d(8, 2, 5, padding=2))

    def forward(self, x):
        return self.net(x).amax(dim=-1)


def test_the_tester_flags_a_sequence_model_that_ignores_zooms():
    report = check(_PlainConv1d(), SEQUENCE_SCALE)
    zooms = [row for row in report.rows if row.element.startswith("zoom")]
    assert zooms and not report.ok
    assert any(not row.ok for row in zooms)


@pytest.mark.parametrize("text, message", [
    ("sequence 1x32; scale 3; backbone attention; invariant output 2", "'backbone attention' with 'scale 3'"),
    ("sequence 1x32; scale 3; boundary circular; invariant output 2", "'boundary circular' with 'scale 3'"),
    ("sequence 1x32; scale 3; equivariant output 2", "'equivariant' output with 'scale 3' is not supported"),
    ("sequence 1x32; scale 2; invariant output 2", "'scale 2' on sequences is not supported"),
])
def test_what_sequence_scale_does_not_lower_is_a_spec_error(text, message):
    with pytest.raises(symc.SpecError, match=message):
        symc.compile(text)
