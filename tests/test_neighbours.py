"""symc/nn/neighbours.py against brute force over all pairs: radius and kNN graphs in 1-D to 3-D, batched clouds in
any order, uneven densities, duplicates, empty and one-point clouds, far from the origin, both float dtypes, tiny
chunks; and the copy the generated files inline runs on its own.

The brute force computes each distance as the search does (squared differences summed dimension by dimension, root), so near-ties among
the k nearest fall the same way; torch.cdist rounds differently in the last bit, and is compared where ties at the
cutoff are improbable."""
import ast
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symc.emit.inline import NN_DIR, layer_source
from symc.nn.neighbours import knn_graph, radius_graph


def all_distances(pos, batch):
    """(N, N) distances, inf between clouds and on the diagonal."""
    dist = sum((pos[None, :, d] - pos[:, None, d]).square() for d in range(pos.shape[1])).sqrt()
    if batch is not None:
        dist = dist.masked_fill(batch[:, None] != batch[None], math.inf)
    return dist.fill_diagonal_(math.inf)


def codes(edges, rows):
    """Each edge (j, i) as one sorted number."""
    return torch.sort(edges[0] * rows + edges[1]).values


def check_shape(edges, pos, batch):
    """Long (2, M), sorted by target, no self loops, no repeated edge, no edge between clouds."""
    assert edges.dtype == torch.long and edges.shape[0] == 2
    source, target = edges
    assert bool((target[1:] >= target[:-1]).all())
    assert bool((source != target).all())
    assert torch.unique(codes(edges, pos.shape[0])).shape[0] == edges.shape[1]
    if batch is not None:
        assert bool((batch[source] == batch[target]).all())


def check_radius(pos, cutoff, batch=None, **options):
    edges = radius_graph(pos, cutoff, batch, **options)
    check_shape(edges, pos, batch)
    near = all_distances(pos, batch) < cutoff
    assert torch.equal(codes(edges, pos.shape[0]), codes(near.nonzero().T.flip(0), pos.shape[0]))
    return edges


def check_nearest(edges, pos, batch, k, cutoff=None):
    """Each target's distances are the k smallest of its row (ties may pick either point)."""
    check_shape(edges, pos, batch)
    dist = all_distances(pos, batch)
    if cutoff is not None:
        dist = dist.masked_fill(dist >= cutoff, math.inf)
    width = min(k, pos.shape[0])
    expected = torch.sort(dist, 1).values[:, :width]
    got = torch.full((pos.shape[0], width), math.inf, dtype=pos.dtype)
    source, target = edges
    count = torch.bincount(target, minlength=pos.shape[0])
    assert bool((count <= k).all())
    column = torch.arange(edges.shape[1]) - (torch.cumsum(count, 0) - count)[target]
    got[target, column] = dist[target, source]
    assert torch.equal(torch.sort(got, 1).values, expected)


def check_knn(pos, k, batch=None, cutoff=None, **options):
    edges = knn_graph(pos, k, batch, cutoff=cutoff, **options)
    check_nearest(edges, pos, batch, k, cutoff)
    return edges


def check_max_neighbours(pos, cutoff, limit, batch=None, **options):
    """max_neighbours keeps the nearest `limit` within the cutoff: the kNN answer cut at the cutoff."""
    edges = radius_graph(pos, cutoff, batch, max_neighbours=limit, **options)
    check_nearest(edges, pos, batch, limit, cutoff)
    return edges


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("count", [0, 1, 2, 7, 300])
def test_random_clouds(dims, count):
    torch.manual_seed(dims * 1000 + count)
    pos = torch.rand(count, dims) * 10
    check_radius(pos, 1.3)
    check_radius(pos, 20.0)
    check_knn(pos, 5)
    check_knn(pos, 5, cutoff=1.0)
    check_max_neighbours(pos, 2.0, 3)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_radius_matches_cdist(dims):
    torch.manual_seed(10 + dims)
    for dtype in (torch.float32, torch.float64):
        pos = torch.rand(800, dims, dtype=dtype) * 10 - 3
        batch = torch.randint(0, 3, (800,))
        dist = torch.cdist(pos, pos, compute_mode="donot_use_mm_for_euclid_dist")
        near = (dist < 0.9) & (batch[:, None] == batch[None]) & ~torch.eye(800, dtype=torch.bool)
        edges = radius_graph(pos, 0.9, batch)
        assert torch.equal(codes(edges, 800), codes(near.nonzero().T.flip(0), 800))


@pytest.mark.parametrize("dims", [2, 3, 5])
def test_batched_clouds_in_any_order(dims):
    torch.manual_seed(dims)
    pos = torch.rand(500, dims) * 4
    batch = torch.randint(0, 5, (500,))
    batch[batch == 3] = 4          # cloud 3 is empty
    batch[0] = 6                   # cloud 6 is one point, cloud 5 is empty too
    pos[batch == 2] += 1e3         # clouds far apart in space
    for cutoff in (0.5, 1.2):
        check_radius(pos, cutoff, batch)
        check_max_neighbours(pos, cutoff, 4, batch)
    for k in (1, 6, 150):          # 150 exceeds some clouds: all of them
        check_knn(pos, k, batch)
    check_knn(pos, 6, batch, cutoff=0.3)


def test_uneven_density():
    """A tight cluster among scattered far points: kNN cells sized by the mean density would hold the whole cluster;
    the far points' neighbours lie way beyond their first cells."""
    torch.manual_seed(1)
    pos = torch.cat([torch.randn(2500, 3) * 1e-3, torch.rand(40, 3) * 2e3 - 1e3, torch.randn(200, 3) * 5 + 300])
    pos = pos[torch.randperm(pos.shape[0])]
    check_knn(pos, 8)
    check_knn(pos, 8, cutoff=100.0)
    check_radius(pos, 3e-4)
    check_radius(pos, 40.0)
    check_max_neighbours(pos, 3e-4, 5)
    check_max_neighbours(pos, 40.0, 5)


def test_duplicates():
    torch.manual_seed(2)
    pos = torch.randint(0, 4, (400, 2)).float()
    check_radius(pos, 1.0)                        # exactly 1 apart: out (strictly below the cutoff)
    check_radius(pos, 1.5)
    check_knn(pos, 10)
    check_knn(pos, 60)
    same = torch.zeros(50, 3)                      # all points in one place
    check_radius(same, 1e-6)
    check_knn(same, 7)
    check_max_neighbours(same, 1.0, 3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_far_from_origin(dtype):
    torch.manual_seed(3)
    pos = (torch.rand(600, 3, dtype=dtype) * 20 + torch.tensor([1e4, -1e4, 3e4], dtype=dtype))
    batch = torch.randint(0, 3, (600,))
    check_radius(pos, 2.0, batch)
    check_knn(pos, 9, batch)
    check_max_neighbours(pos, 3.0, 5, batch)


def test_float64_and_flat_clouds():
    torch.manual_seed(4)
    pos = torch.rand(500, 3, dtype=torch.float64) * 10
    assert radius_graph(pos, 1.0).shape[1] > 0
    check_radius(pos, 1.0)
    check_knn(pos, 12)
    plane = torch.cat([torch.rand(500, 2) * 10, torch.zeros(500, 1)], 1)   # a plane in 3-D
    check_knn(plane, 12)
    check_radius(plane, 0.7)
    line = torch.cat([torch.rand(300, 1) * 50, torch.full((300, 2), 7.0)], 1)
    check_knn(line, 4)


def test_infinite_and_empty_arguments():
    torch.manual_seed(5)
    pos = torch.rand(30, 3)
    batch = torch.tensor([0] * 12 + [1] * 18)
    assert check_radius(pos, math.inf, batch).shape[1] == 12 * 11 + 18 * 17
    assert check_knn(pos, 100, batch).shape[1] == 12 * 11 + 18 * 17
    assert radius_graph(pos, 0.0).shape == (2, 0)
    assert knn_graph(pos, 0).shape == (2, 0)
    assert radius_graph(torch.zeros(0, 3), 1.0).shape == (2, 0)
    assert knn_graph(torch.zeros(0, 2), 3).shape == (2, 0)
    assert knn_graph(torch.zeros(1, 2), 3).shape == (2, 0)


def test_tiny_chunks_give_the_same_edges():
    torch.manual_seed(6)
    pos = torch.rand(150, 3) * 3
    batch = torch.randint(0, 2, (150,))
    for options in ({}, {"max_neighbours": 5}):
        default = radius_graph(pos, 1.0, batch, **options)
        for chunk in (1, 37, 1000):
            small = radius_graph(pos, 1.0, batch, chunk=chunk, **options)
            check_shape(small, pos, batch)
            if not options:
                assert torch.equal(codes(small, 150), codes(default, 150))
            else:
                check_nearest(small, pos, batch, 5, 1.0)
    for chunk in (1, 37, 1000):
        check_nearest(knn_graph(pos, 7, batch, chunk=chunk), pos, batch, 7)


def test_no_gradient_through_the_search():
    pos = torch.rand(50, 3, requires_grad=True)
    edges = radius_graph(pos, 0.5)
    assert not edges.requires_grad
    knn_graph(pos, 3).sum()


def test_the_inlined_copy_runs_alone():
    """Generated files carry this source: torch and math only, top-level definitions, and the copy still works."""
    tree = ast.parse((NN_DIR / "neighbours.py").read_text())
    imports = [alias.name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
               for alias in node.names]
    assert sorted(imports) == ["math", "torch"]
    namespace = {"math": math, "torch": torch}
    exec(layer_source({"radius_graph", "knn_graph"}), namespace)
    torch.manual_seed(7)
    pos = torch.rand(200, 3) * 4
    assert torch.equal(namespace["radius_graph"](pos, 0.8), radius_graph(pos, 0.8))
    assert torch.equal(namespace["knn_graph"](pos, 5), knn_graph(pos, 5))


coordinate = st.integers(-12, 12).map(lambda v: v / 4)   # exact in binary: ties at the cutoff are real ties


@st.composite
def clouds(draw):
    dims = draw(st.integers(1, 3))
    count = draw(st.integers(0, 40))
    pos = torch.tensor(draw(st.lists(st.lists(coordinate, min_size=dims, max_size=dims), min_size=count,
                                     max_size=count)), dtype=torch.float32).reshape(count, dims)
    batch = torch.tensor(draw(st.lists(st.integers(0, 3), min_size=count, max_size=count)), dtype=torch.long)
    return pos, batch


@settings(max_examples=50, deadline=None)
@given(cloud=clouds(), cutoff=st.sampled_from([0.25, 0.5, 1.0, 1.75, 4.0]), k=st.integers(1, 6),
       chunk=st.sampled_from([1, 5, 2 ** 22]), batched=st.booleans())
def test_property_exact_on_small_grids(cloud, cutoff, k, chunk, batched):
    pos, batch = cloud
    batch = batch if batched else None
    check_radius(pos, cutoff, batch, chunk=chunk)
    check_max_neighbours(pos, cutoff, k, batch, chunk=chunk)
    check_knn(pos, k, batch, chunk=chunk)
    check_knn(pos, k, batch, cutoff=cutoff, chunk=chunk)
