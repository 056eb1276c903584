"""The constants of SO(2)/O(2) image models: the steerable filter basis their layers read. Pure text work.

HARMONICS lists, for every pair of irreps the file's layers connect, the circular harmonics of its filter basis, and
RINGS the radial profiles per kernel size, both from symc.groups.circle; the rest of the file is the grid network's.
"""
from __future__ import annotations

from ..groups.circle import RING_WIDTH, harmonic_basis, ring_frequency, ring_radii
from ..plan.plan import Plan


def _tuple_text(items) -> str:
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def _matrix_text(matrix) -> str:
    return _tuple_text([_tuple_text([f"{v:g}" for v in row]) for row in matrix])


def circle_text(plan: Plan) -> str:
    """HARMONICS and RINGS for the steerable convolutions of `plan`, with the comment that explains them."""
    group = plan.symmetry.group
    frequencies = plan.architecture.frequencies
    irreps = group.irreps(frequencies)
    kernels = sorted({data["kernel"] for _, data in plan.graph.nodes(data=True)
                      if data["op"] in ("steer_conv", "weighted_directions")})
    lines = [f"# The group {group.name}: irreps (frequency, sign) up to frequency {frequencies}. A field of frequency",
             "# k >= 1 is two channels (a, b) that a rotation by t turns by k*t; frequency 0 is a scalar (sign -1: a",
             "# pseudoscalar, which the mirror negates). The mirror reverses the columns and maps (a, b) to (a, -b).",
             "# HARMONICS[(out irrep, in irrep)] = the filter basis between them: (t, C, S) for",
             "# K(phi) = cos(t*phi) C + sin(t*phi) S, phi = atan2(col, row) of the filter tap.",
             "HARMONICS = {"]
    for out in irreps:
        for into in irreps:
            terms = harmonic_basis(out, into, group.mirrors)
            if not terms:
                continue
            items = _tuple_text([f"({h.t}, {_matrix_text(h.cos)}, {_matrix_text(h.sin)})" for h in terms])
            lines.append(f"    (({out.frequency}, {out.sign}), ({into.frequency}, {into.sign})): {items},")
    lines.append("}")
    lines.append("# RINGS[kernel] = (radius, width, highest harmonic) of each Gaussian ring of a kernel x kernel filter.")
    lines.append("RINGS = {")
    for kernel in kernels:
        rings = _tuple_text([f"({r:g}, {RING_WIDTH:g}, {ring_frequency(r, 2 * frequencies)})"
                             for r in ring_radii(kernel)])
        lines.append(f"    {kernel}: {rings},")
    lines.append("}")
    return "\n".join(lines)
