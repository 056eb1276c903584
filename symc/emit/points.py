"""Source for point-cloud models forward(pos, features=None): embedded invariants, EGNN layers, heads."""
from __future__ import annotations

from ..groups import o2
from ..groups.o3 import clebsch_gordan, harmonic_coefficients, natural
from ..plan.plan import Plan
from .common import assemble, model_class, returns, token_heads
from .grid import chains


def emit_point_source(plan: Plan) -> str:
    spec = plan.spec
    symmetry = plan.symmetry
    graph = plan.graph
    used = {"check_point_input", "cloud_centre", "EGNNLayer"}
    trunk, heads = chains(graph)
    embed = next(graph.nodes[n] for n in trunk if graph.nodes[n]["op"] == "embed")
    layers = [graph.nodes[n] for n in trunk if graph.nodes[n]["op"] == "egnn"]
    pseudo = layers[0]["pseudo"]
    if pseudo:
        used.update({"pseudo_scalars", "handedness"})
    rows = [f'            EGNNLayer({d["width"]}, pseudo={d["pseudo"]}, update_coords={d["update_coords"]}, '
            f'about_origin={d["about_origin"]}, activation="{d["activation"]}"'
            + (f', free_inputs={d["free_inputs"]}' if d.get("free_inputs") else "") + "),"  # approximate symmetries
            for d in layers]
    lines = [f"        self.embed = torch.nn.Linear({embed['in_features']}, {embed['out_features']})",
             "        self.layers = torch.nn.ModuleList([\n" + "\n".join(rows) + "\n        ])"]
    irreps_heads = {i for i, chain in enumerate(heads) if graph.nodes[chain[0]]["op"] == "irreps_head"}
    head_lines, expressions = token_heads(plan, trunk, [c for i, c in enumerate(heads) if i not in irreps_heads],
                                          "{}", "", used)
    constants = ""
    if irreps_heads:
        irreps_lines, constants = irreps_code(graph, heads, irreps_heads, used, spec.domain.dim)
        head_lines += irreps_lines
        others = iter(expressions)
        expressions = [f"self.{irreps_name(graph, heads[i])}(h, rel)" if i in irreps_heads else next(others)
                       for i in range(len(heads))]
    free_lines, expressions = free_readouts(graph, heads, expressions, used)
    head_lines += free_lines
    dim, channels = spec.domain.dim, spec.domain.channels
    if symmetry.rigid:
        invariants = "rel.pow(2).sum(dim=-1, keepdim=True)  # squared distance to the centre: invariant"
    else:
        invariants = "rel  # no rotation group declared: coordinates relative to the centre are features"
    where = "the centroid (translations are in the group)" if symmetry.translation else "the origin"
    model = model_class(
        plan, "\n".join(lines + head_lines), "pos: torch.Tensor, features: torch.Tensor | None = None",
        f'        """pos (B, N, {dim}) coordinates' + (f"; features (B, N, {channels})" if channels else "") + '."""\n'
        f'        check_point_input(pos, features, {dim}, {channels}, "{plan.architecture.layout}")\n'
        f"        centre = cloud_centre(pos, {symmetry.translation})  # {where}\n"
        "        rel = pos - centre\n"
        f"        h = {invariants}\n"
        + ("        h = torch.cat([h, handedness(pos, centre).unsqueeze(1).expand(-1, h.shape[1], -1)], dim=-1)"
           "  # mirrors negate it\n" if pseudo else "")
        + ("        assert features is not None  # checked above; TorchScript needs it said\n"
           "        h = torch.cat([features.to(h.dtype), h], dim=-1)\n" if channels else "")
        + "        h = self.embed(h)\n"
        + (f"        signs = pseudo_scalars(pos, centre)  # {'signed volumes' if dim == 3 else 'signed areas'}: "
           "negated by mirrors\n" if pseudo else "        signs = None\n")
        + "        x = rel  # coordinates are updated about the centre: no round-off from a far-away origin\n"
        "        for layer in self.layers:\n"
        + ("            h, x = layer(h, x, signs, pos)  # the free path sees the raw coordinates\n" if free_lines else
           "            h, x = layer(h, x, signs)\n")
        + returns(expressions))
    return assemble(plan, constants, used, model)


def free_readouts(graph, heads, expressions: list[str], used: set[str]) -> tuple[list[str], list[str]]:
    """Approximate symmetries: each head's free readout of features times raw coordinates, added to its output
    (symc.plan.approximate); nothing otherwise."""
    lines, out = [], list(expressions)
    for index, chain in enumerate(heads):
        data = next((graph.nodes[n] for n in chain if graph.nodes[n]["op"] == "output"), {})
        if "free_readout" in data:
            used.add("FreeReadout")
            width, dim, size, per_cloud = data["free_readout"]
            lines.append(f"        self.free_readout{index} = FreeReadout({width}, {dim}, {size}, per_cloud={per_cloud})")
            out[index] = f"{expressions[index]} + self.free_readout{index}(h, pos)"
    return lines, out


def irreps_name(graph, chain) -> str:
    return "cloud_irreps_head" if graph.nodes[chain[0]]["per_cloud"] else "irreps_head"


def irreps_code(graph, heads, indices, used: set[str], dim: int = 3) -> tuple[list[str], str]:
    """The constructor lines of the irreps heads, and the constants they read: the solid harmonics and the
    Clebsch-Gordan couplings of the degrees they use, in e3nn's basis (symc.groups.o3)."""
    used.update({"IrrepsHead", "symmetric_matrix"})  # the helper: '1x0e+1x2e' as a symmetric 3x3 matrix
    lines, degrees, coupled = [], set(), set()
    for i in sorted(indices):
        data = graph.nodes[heads[i][0]]
        irreps = tuple(tuple(term) for term in data["irreps"])
        degrees.update(l for _, l, _ in irreps if l > 0)
        coupled.update(l for _, l, p in irreps if l > 0 and not natural(l, p))
        lines.append(f"        self.{irreps_name(graph, heads[i])} = IrrepsHead({data['in_features']}, "
                     f"{data['channels']}, {list(irreps)!r}, per_cloud={data['per_cloud']}, harmonics=HARMONICS, "
                     f'couplings=COUPLINGS, activation="{data["activation"]}")')
    return lines, irreps_code_constants(degrees, coupled, dim)


def irreps_code_constants(degrees: set[int], coupled: set[int], dim: int = 3) -> str:
    """HARMONICS and COUPLINGS: the solid harmonics of `degrees` and the l x 1 -> l couplings of `coupled`, in
    e3nn's basis (symc.groups.o3); on 2-D points the circular harmonics of symc.groups.o2, and no couplings
    (pseudoscalars give the unnatural parities)."""
    if dim == 2:
        harmonics = ",\n".join(f"    {l}: {_nested(o2.harmonic_coefficients(l))}" for l in sorted(degrees))
        return ("# Circular harmonics of O(2): HARMONICS[l] holds the coefficients of Re z^l and Im z^l, z = x + iy,\n"
                "# in the monomials x^a y^(l - a), a from l down to 0.\n"
                f"HARMONICS = {{\n{harmonics}\n}}\n"
                "# 2-D points have no l x 1 -> l couplings: unnatural parities are pseudoscalars times Y^l.\n"
                "COUPLINGS = {}")
    harmonics = ",\n".join(f"    {l}: {_nested(harmonic_coefficients(l))}" for l in sorted(degrees))
    couplings = ",\n".join(f"    {l}: {_nested(clebsch_gordan(l, 1, l))}" for l in sorted(coupled))
    return ("# Real solid harmonics in e3nn's basis (component normalization): HARMONICS[l][l + m] holds Y^l_m's\n"
            "# coefficients in the monomials x^a y^b z^c of degree l, a from l down to 0, then b from l - a down to 0.\n"
            f"HARMONICS = {{\n{harmonics}\n}}\n"
            "# Couplings of degrees l x 1 -> l (e3nn's wigner_3j(l, 1, l) up to sign): unnatural parities.\n"
            + (f"COUPLINGS = {{\n{couplings}\n}}" if couplings else "COUPLINGS = {}"))


def _nested(array) -> str:
    """A numpy array as nested lists of floats, exactly (repr round-trips)."""
    if array.ndim == 1:
        return "[" + ", ".join(repr(float(v)) for v in array) + "]"
    return "[" + ", ".join(_nested(row) for row in array) + "]"
