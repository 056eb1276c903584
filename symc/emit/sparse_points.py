"""Source for sparse point-cloud models forward(pos, features=None, batch=None) (PyG's flat layout): neighbour
search, embedding, PaiNN-style interactions over the edges, heads."""
from __future__ import annotations

from ..domains.point_cloud import is_sparse
from ..groups.o3 import natural
from ..plan.plan import Plan
from .common import assemble, head_expression, model_class, returns
from .grid import chains
from .points import emit_point_source, irreps_code_constants


def emit_point_cloud_source(plan: Plan) -> str:
    """Point clouds: sparse with a cutoff or neighbour count, dense (all pairs) otherwise."""
    if not is_sparse(plan.spec):
        return emit_point_source(plan)
    return emit_sparse_point_source(plan)


def emit_sparse_point_source(plan: Plan) -> str:
    spec, symmetry, graph, arch = plan.spec, plan.symmetry, plan.graph, plan.architecture
    dim, channels = spec.domain.dim, spec.domain.channels
    used = {"check_sparse_point_input", "group_count", "safe_length", "radial_basis", "PointEmbedding",
            "SparseInteraction"}
    trunk, heads = chains(graph)
    embed = next(graph.nodes[n] for n in trunk if graph.nodes[n]["op"] == "point_embed")
    layers = [graph.nodes[n] for n in trunk if graph.nodes[n]["op"] == "interaction"]
    first = layers[0]
    constants = [f"CUTOFF = {arch.cutoff!r}  # neighbours within this distance (0.0: none given)" if arch.cutoff else
                 "",
                 f"NEIGHBOURS = {arch.neighbours}  # the nearest points kept per point" if arch.neighbours else "",
                 f"RADIAL_RANGE = {arch.radial_range!r}  # the radial basis spans this distance, fading to 0 there",
                 f"RADIAL_BASIS = {first['basis']}  # Bessel functions per distance",
                 f"EDGE_CHUNK = {arch.edge_chunk}  # edges whose messages are computed at once (memory, not results)"]
    constants = "\n".join(c for c in constants if c)
    if arch.cutoff:
        used.add("radius_graph")
        search = ("radius_graph(pos, self.cutoff, batch" +
                  (", max_neighbours=self.neighbours" if arch.neighbours else "") +
                  ")  # (2, M): row 0 the neighbour j, row 1 the point i")
    else:
        used.add("knn_graph")
        search = "knn_graph(pos, self.neighbours, batch)  # (2, M): row 0 the neighbour j, row 1 the point i"
    rows = [f'            SparseInteraction({d["width"]}, RADIAL_BASIS, {d["extra"]}, handed={d["handed"]}, '
            f'neighbours={d["neighbours"]}, chunk=EDGE_CHUNK, activation="{d["activation"]}"),' for d in layers]
    lines = [f"        self.embed = PointEmbedding({channels}, {embed['out_features']}, {dim}, "
             f"rotations={embed['rotations']}, about_origin={embed['about_origin']}, radial_range=RADIAL_RANGE)",
             "        self.layers = torch.nn.ModuleList([\n" + "\n".join(rows) + "\n        ])",
             "        # attributes, not globals: TorchScript reads no numbers from module globals",
             "        self.radial_range, self.radial_basis = float(RADIAL_RANGE), RADIAL_BASIS"]
    if arch.cutoff:
        lines.append("        self.cutoff = float(CUTOFF)")
    if arch.neighbours:
        lines.append("        self.neighbours = NEIGHBOURS")
    expressions, irreps_heads = [], []
    for index, chain in enumerate(heads):
        kind = graph.nodes[chain[-1]]["kind"]
        data = graph.nodes[chain[0]]
        name = f"output{index}_{kind.replace(' ', '_')}_head" if len(heads) > 1 else "head"
        if kind == "invariant":
            used.add("cloud_pool")
            pool = graph.nodes[chain[1]]["mode"]
            lines.append(f"        self.{name} = {head_expression(data)}")
            expressions.append(f'cloud_pool(self.{name}(h), batch, clouds, "{pool}")')
        elif kind == "equivariant":
            lines.append(f"        self.{name} = torch.nn.Linear({data['in_features']}, {data['out_features']})")
            expressions.append(f"self.{name}(h)")
        elif kind == "vector":
            used.add("GatedVectors")
            lines.append(f"        self.{name} = GatedVectors({data['in_features']}, 1, bounded=False)")
            expressions.append(f"self.{name}(h, v)[:, 0]  # (N, {dim}): turns with the points")
        else:
            used.add("SparseIrrepsHead")
            irreps_heads.append(data)
            irreps = [tuple(term) for term in data["irreps"]]
            lines.append(f"        self.{name} = SparseIrrepsHead({data['in_features']}, {data['channels']}, "
                         f"{irreps!r}, per_cloud={data['per_cloud']}, harmonics=HARMONICS, couplings=COUPLINGS)")
            expressions.append(f"self.{name}(h, v, batch, clouds)")
    if irreps_heads:
        used.add("symmetric_matrix")  # the helper: '1x0e+1x2e' as a symmetric 3x3 matrix
        degrees = {l for d in irreps_heads for _, l, _ in d["irreps"] if l > 0}
        coupled = {l for d in irreps_heads for _, l, p in d["irreps"] if l > 0 and not natural(l, p)}
        constants += "\n\n" + irreps_code_constants(degrees, coupled, dim)
    extra = first["extra"]
    where = ("translations are in the group: only differences of positions enter" if symmetry.translation else
             "positions about the origin enter the embedding (no translations in the group)")
    signature = "pos: torch.Tensor, features: torch.Tensor | None = None, batch: torch.Tensor | None = None"
    model = model_class(
        plan, "\n".join(lines), signature,
        f'        """pos (N, {dim}) coordinates' + (f"; features (N, {channels})" if channels else "") +
        '; batch (N,) the cloud of each point (None: one cloud)."""\n'
        f'        check_sparse_point_input(pos, features, batch, {dim}, {channels}, "{arch.layout}")\n'
        "        clouds = group_count(batch, pos.shape[0])\n"
        "        if batch is None:\n"
        "            batch = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)\n"
        f"        edges = {search}\n"
        "        source, target = edges[0], edges[1]\n"
        "        diff = pos.index_select(0, target) - pos.index_select(0, source)  # x_i - x_j: turns with the points\n"
        "        distance = safe_length(diff)\n"
        "        unit = diff / distance.unsqueeze(-1)\n"
        "        radial = radial_basis(distance, self.radial_range, self.radial_basis)\n"
        + ("        # no rotation group: the edge's direction is a feature, faded out with the same envelope\n"
           "        radial = torch.cat([radial, diff / self.radial_range * "
           "smooth_envelope(distance / self.radial_range)"
           ".unsqueeze(-1)], dim=-1)\n" if extra else "")
        + f"        h, v = self.embed(pos, {'features' if channels else 'None'})  # {where}\n"
        "        for layer in self.layers:\n"
        "            h, v = layer(h, v, source, target, unit, radial)\n"
        + returns(expressions))
    if extra:
        used.add("smooth_envelope")
    return assemble(plan, constants, used, model)
