"""Source for point-cloud models forward(pos, features=None): embedded invariants, EGNN layers, heads."""
from __future__ import annotations

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
            f'about_origin={d["about_origin"]}, activation="{d["activation"]}"),' for d in layers]
    lines = [f"        self.embed = torch.nn.Linear({embed['in_features']}, {embed['out_features']})",
             "        self.layers = torch.nn.ModuleList([\n" + "\n".join(rows) + "\n        ])"]
    head_lines, expressions = token_heads(plan, trunk, heads, "{}", "", used)
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
        "            h, x = layer(h, x, signs)\n"
        + returns(expressions))
    return assemble(plan, "", used, model)
