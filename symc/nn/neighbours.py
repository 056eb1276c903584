"""Exact neighbour search for point clouds in PyG's flat layout: pos (N, D), batch (N,) -> edges (2, M), row 0 the
neighbour j and row 1 the point i that receives its message, no self loops, no edges between clouds.

Plain torch, so generated files need no compiled extension: cell lists. The points are sorted by an integer key per
cloud and cell; each point's candidates are the points of the cells that meet a ball around it, one range of sorted
points per row of cells. Candidate pairs are made a chunk at a time, so memory follows the chunk and the output, never
N^2. Cell coordinates are taken relative to each cloud's lowest corner and every ball is grown by more than the
rounding of those coordinates and of the distances, so the result equals a brute-force comparison of all pairs, also
far from the origin.

Written in the subset TorchScript compiles (typed signatures, lists rather than generators, no torch.finfo), so
scripted models carry the search as code.
"""
import math

import torch

# The search's constants are functions: TorchScript reads no numbers from module globals.
def neighbour_reach() -> int:
    """Cells are 1/2 of the search radius: in 3-D, 25 rows of cells and ~2.4 candidates per point in the ball
    (cells of the whole radius: 9 rows, ~4.6 candidates; of 1/3: 49 rows, ~1.9)."""
    return 2


def knn_surplus() -> float:
    """kNN cells are sized so a point's searched ball holds this many times k points on average, ..."""
    return 2.0


def knn_typical() -> float:
    """... which makes about this many times more candidates (cells meeting the ball)."""
    return 2.5


def knn_crowd() -> float:
    """A kNN search with this many times the typical candidates is redone with finer cells, ..."""
    return 4.0


def knn_finest() -> int:
    """... at most 2^(120 / D) times finer (copies of one point never spread out)."""
    return -120


def cell_limit() -> float:
    """Cells over all clouds, so every key fits in int64 with room for the neighbour offsets."""
    return 2.0 ** 60


def float_eps(dtype: torch.dtype) -> float:
    """torch.finfo(dtype).eps, which TorchScript lacks."""
    if dtype == torch.float64:
        return 2.220446049250313e-16
    if dtype == torch.float32:
        return 1.1920928955078125e-07
    if dtype == torch.bfloat16:
        return 0.0078125
    if dtype == torch.float16:
        return 0.0009765625
    raise ValueError(f"expected floating-point positions, got dtype {dtype}")


def float_tiny(dtype: torch.dtype) -> float:
    """torch.finfo(dtype).tiny, the smallest normal number."""
    if dtype == torch.float64:
        return 2.2250738585072014e-308
    if dtype == torch.float16:
        return 6.103515625e-05
    return 1.1754943508222875e-38  # float32 and bfloat16


def ball_volume(dims: int) -> float:
    """pi^(D/2) / Gamma(D/2 + 1), the unit ball's volume: up to 8-D the values of Python's math.gamma (TorchScript's
    gamma differs in the last bit, which would move cell sides between eager and scripted searches), beyond by the
    recurrence V(D) = V(D - 2) 2 pi / D."""
    known = [1.9999999999999998, 3.141592653589793, 4.1887902047863905, 4.934802200544679, 5.263789013914325,
             5.167712780049969, 4.7247659703314016, 4.058712126416768]
    if dims < 1:
        return 1.0
    if dims <= len(known):
        return known[dims - 1]
    at = 8 - dims % 2
    volume = known[at - 1]
    while at < dims:
        at += 2
        volume = volume * (2 * math.pi) / at
    return volume


def group_box(values: torch.Tensor, group: torch.Tensor, groups: int):
    """(G, D) lowest and highest values per group of rows (zeros for an empty group)."""
    index = group[:, None].expand(-1, values.shape[1])
    shape = [groups, values.shape[1]]
    low = torch.full(shape, math.inf, dtype=values.dtype, device=values.device)
    high = torch.full(shape, -math.inf, dtype=values.dtype, device=values.device)
    low.scatter_reduce_(0, index, values, "amin")
    high.scatter_reduce_(0, index, values, "amax")
    empty = torch.isinf(low)
    return low.masked_fill(empty, 0), high.masked_fill(empty, 0)


def cloud_boxes(pos: torch.Tensor, batch: torch.Tensor, groups: int):
    """(G, D) lowest corner, (G, D) extent and (G,) point count of each cloud (zeros for an empty cloud)."""
    low, high = group_box(pos, batch, groups)
    return low, high - low, torch.bincount(batch, minlength=groups)


def certain_radius(side: torch.Tensor, span: torch.Tensor) -> torch.Tensor:
    """(G,): a point whose computed distance from a target is below this lies in the target's block of cells, with
    the rounding of the cell coordinates (relative to the extent) and of the distance itself allowed for."""
    eps = float_eps(side.dtype)
    return (neighbour_reach() * side - 16 * eps * span.amax(1)) / (1 + 8 * (span.shape[1] + 4) * eps)


def cutoff_sides(cutoff: float, span: torch.Tensor) -> torch.Tensor:
    """(G,) cell sides whose certain radius is at least `cutoff`."""
    eps = float_eps(span.dtype)
    return (cutoff * (1 + 16 * (span.shape[1] + 4) * eps) + 32 * eps * span.amax(1)) / neighbour_reach()


def fitting_sides(side: torch.Tensor, span: torch.Tensor) -> torch.Tensor:
    """The cell sides (G,), widened where needed so that all clouds together have at most cell_limit() cells (a wider
    cell only adds candidates, which the distance test removes again)."""
    side = side.clamp(min=float_tiny(side.dtype))
    fits = False
    while not fits:
        extent = torch.floor(span.double() / side.double()[:, None]) + 1 + 2 * neighbour_reach()
        total = float(extent.prod(1).sum())
        fits = total <= cell_limit()
        if not fits:
            side = side * max(2.0, (total / cell_limit()) ** (1.0 / span.shape[1]))
    return side


def cell_table(pos: torch.Tensor, batch: torch.Tensor, low: torch.Tensor, side: torch.Tensor):
    """Points sorted by cell: (order (N,), sorted keys (N,), keys (N,), strides (G, D), first point of each key or
    None). A key is the cloud's first cell plus the cell's coordinates (padded by neighbour_reach() on both sides)
    times the strides, so the cells around a point are found by adding offsets to its key, and the cells along
    dimension 0 follow one another. With few cells (up to 8 per point), a table of each key's first point replaces searching."""
    cells = torch.floor((pos - low[batch]) / side[batch, None]).long() + neighbour_reach()
    top = torch.zeros_like(low, dtype=torch.long).scatter_reduce_(
        0, batch[:, None].expand(-1, pos.shape[1]), cells, "amax")
    extent = top + 1 + neighbour_reach()
    strides = torch.cumprod(extent, 1) // extent
    size = strides[:, -1] * extent[:, -1]
    ends = torch.cumsum(size, 0)
    keys = (ends - size)[batch] + (cells * strides[batch]).sum(1)
    sorted_keys, order = torch.sort(keys)
    cell_count = int(ends[-1])
    starts: torch.Tensor | None = None
    if cell_count <= 8 * pos.shape[0] + 2 ** 16:
        starts = torch.zeros(cell_count + 1, dtype=torch.long, device=pos.device)
        starts[1:] = torch.cumsum(torch.bincount(keys, minlength=cell_count), 0)
    return order, sorted_keys, keys, strides, starts


def cell_rows(dims: int, device: torch.device) -> torch.Tensor:
    """(R, D - 1): the offsets of the rows of cells around a cell, over dimensions 1..D-1 (the middle row is R // 2;
    along dimension 0 a row is one range of keys)."""
    if dims == 1:
        return torch.zeros((1, 0), dtype=torch.long, device=device)
    steps = torch.arange(-neighbour_reach(), neighbour_reach() + 1, device=device)
    return torch.stack(torch.meshgrid([steps] * (dims - 1), indexing="ij"), -1).reshape(-1, dims - 1)


def chunk_bounds(total: torch.Tensor, chunk: int, padded: bool) -> list[tuple[int, int]]:
    """[(a, b), ...] splitting rows with `total` candidates each into runs of at most `chunk` candidates (with
    `padded`, rows times the largest row, the size of a padded table); a row larger than `chunk` is a run alone."""
    bounds: list[tuple[int, int]] = []
    start, rows = 0, total.shape[0]
    ends = total if padded else torch.cumsum(total, 0)
    while start < rows:
        if padded:
            width = torch.cummax(total[start:start + chunk], 0).values
            fits = int(((torch.arange(1, width.shape[0] + 1, device=total.device) * width) <= chunk).sum())
        else:
            before = int(ends[start - 1]) if start else 0
            fits = int(torch.searchsorted(ends, torch.tensor(before + chunk, device=total.device), right=True)) - start
        stop = start + max(1, fits)
        bounds.append((start, stop))
        start = stop
    return bounds


def search_setup(pos: torch.Tensor, order: torch.Tensor, span: torch.Tensor, side: torch.Tensor,
                 radius: torch.Tensor, chunk: int):
    """What every block of targets of `cell_candidates` shares: (rows of cells (R, D - 1), each point's rank in the
    sorted order (N,), the ball (G,) and its slack (G,) in cell units, targets per block). The radius (G,) must not
    exceed `certain_radius(side)`."""
    dims, device = pos.shape[1], pos.device
    rows = cell_rows(dims, device)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.shape[0], device=device)
    # The ball in cell units, grown by the rounding of the cell coordinates and of the range arithmetic below.
    eps = float_eps(pos.dtype)
    extent = span.amax(1) / side + radius / side + 2 * neighbour_reach() + 2
    slack = 32 * eps * math.sqrt(dims) * extent
    ball = radius / side * (1 + 8 * (dims + 4) * eps) + slack
    return rows, rank, ball, slack, max(1, chunk // (16 * rows.shape[0]))


def cell_candidates(pos: torch.Tensor, batch: torch.Tensor,
                    table: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None],
                    low: torch.Tensor, side: torch.Tensor, rows: torch.Tensor, rank: torch.Tensor,
                    ball: torch.Tensor, slack: torch.Tensor, part: torch.Tensor):
    """For the targets `part` (T,), one block of `search_setup`'s size: (first sorted position (T, R) and count
    (T, R) of the candidates per row of cells, candidates per target (T,), where each target itself sits among its
    candidates (T,)): the points of the cells that meet the ball around each target, the target included, so every
    point whose computed distance is below the radius is a candidate. `candidate_positions` lists them.

    Per row of cells (fixed coordinates 1..D-1) the ball's half width along dimension 0 gives one range of keys; in
    3-D with a reach of 2 that is 25 ranges per target and about 2.4 times the points of the ball in candidates."""
    sorted_keys, keys, strides, starts = table[1], table[2], table[3], table[4]
    dims = pos.shape[1]
    middle = rows.shape[0] // 2
    cloud = batch[part]
    at = (pos[part] - low[cloud]) / side[cloud, None]
    own = torch.floor(at)
    reach = ball[cloud, None]
    if dims > 1:
        band = own[:, None, 1:] + rows.to(pos.dtype) - at[:, None, 1:]
        across = torch.clamp(torch.maximum(band, -band - 1), min=0).square().sum(-1)
    else:
        across = torch.zeros((part.shape[0], 1), dtype=pos.dtype, device=pos.device)
    half = torch.sqrt(torch.clamp(reach * reach - across, min=0)) + slack[cloud, None]
    first = torch.clamp(torch.floor(at[:, :1] - half) - own[:, :1], min=-neighbour_reach()).long()
    last = torch.clamp(torch.floor(at[:, :1] + half) - own[:, :1], max=neighbour_reach()).long()
    query = keys[part][:, None] + (strides[cloud][:, None, 1:] * rows).sum(-1)
    if starts is not None:
        begin = starts[query + first]
        count = starts[query + last + 1] - begin
    else:
        begin = torch.searchsorted(sorted_keys, query + first)
        count = torch.searchsorted(sorted_keys, query + last, right=True) - begin
    count = torch.where(across <= reach * reach, count, 0)
    total = count.sum(1)
    itself = (torch.cumsum(count, 1) - count)[:, middle] + rank[part] - begin[:, middle]
    return begin, count, total, itself


def candidate_positions(begin: torch.Tensor, count: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """(M,) the sorted positions of the candidates of a run of targets (rows of `cell_candidates`' begin, count and
    total), grouped by target."""
    lengths = count.reshape(-1)
    size = int(total.sum())
    return torch.repeat_interleave(begin.reshape(-1) - (torch.cumsum(lengths, 0) - lengths), lengths,
                                   output_size=size) + torch.arange(size, device=begin.device)


def candidate_distances(pos: torch.Tensor, columns: torch.Tensor, targets: torch.Tensor, total: torch.Tensor,
                        flat: torch.Tensor) -> torch.Tensor:
    """(M,) distance from each target to each of its candidates, in pos's dtype: the squared differences summed over
    dimensions 0, 1, ... in turn, then the root. `columns` (D, N) holds the sorted points' coordinates, so each pass
    makes vectors of M, not (M, D) tables."""
    total_sq = torch.empty(0, dtype=pos.dtype, device=pos.device)
    for dim in range(pos.shape[1]):
        centre = torch.repeat_interleave(pos[targets, dim], total, output_size=flat.shape[0])
        step = columns[dim].index_select(0, flat).sub_(centre)
        total_sq = step.square_() if dim == 0 else total_sq.addcmul_(step, step)
    return total_sq.sqrt_()


def padded_nearest(dist: torch.Tensor, targets: torch.Tensor, total: torch.Tensor, itself: torch.Tensor,
                   count: int):
    """(T, min(count, width)) the smallest finite distances per target and the candidate index (M,) of each: the
    distances laid into a (T, width) table, inf where a target has fewer candidates and at the target itself."""
    rows, width = targets.shape[0], max(1, int(total.max()))
    first = torch.cumsum(total, 0) - total
    table = torch.full([rows * width], math.inf, dtype=dist.dtype, device=dist.device)
    shift = torch.arange(rows, device=dist.device) * width - first
    table[torch.repeat_interleave(shift, total, output_size=dist.shape[0])
          + torch.arange(dist.shape[0], device=dist.device)] = dist
    table[torch.arange(rows, device=dist.device) * width + itself] = math.inf
    near, column = torch.topk(table.reshape(rows, width), min(count, width), 1, largest=False)
    return near, (first[:, None] + column).clamp(max=max(0, dist.shape[0] - 1))


def radius_graph(pos: torch.Tensor, cutoff: float, batch: torch.Tensor | None = None,
                 max_neighbours: int | None = None, chunk: int = 2 ** 22) -> torch.Tensor:
    """(2, M) edges (j, i), j != i in i's cloud with |x_i - x_j| < cutoff, sorted by i; with `max_neighbours`, only
    the nearest that many per i. Exact; memory is about `chunk` candidate pairs plus the edges."""
    with torch.no_grad():
        pos = pos.detach()
        rows, dims = pos.shape[0], pos.shape[1]
        empty = torch.zeros((2, 0), dtype=torch.long, device=pos.device)
        if rows == 0 or not cutoff > 0 or (max_neighbours is not None and max_neighbours < 1):
            return empty
        if batch is None:
            batch = torch.zeros(rows, dtype=torch.long, device=pos.device)
        groups = int(batch.max()) + 1
        low, span, _ = cloud_boxes(pos, batch, groups)
        side = cutoff_sides(cutoff, span)
        side = fitting_sides(torch.where(torch.isinf(side), span.amax(1) * dims + 1, side), span)
        table = cell_table(pos, batch, low, side)
        order = table[0]
        columns = pos[order].T.contiguous()
        found: list[tuple[torch.Tensor, torch.Tensor]] = []
        narrow = torch.int32 if rows < 2 ** 31 else torch.long    # edges wait in int32 until placed
        offsets, rank, ball, slack, block = search_setup(pos, order, span, side,
                                                            certain_radius(side, span).clamp(max=cutoff), chunk)
        for start in range(0, rows, block):
            part = order[start:start + block]
            begin, count, total, itself = cell_candidates(pos, batch, table, low, side, offsets, rank, ball, slack,
                                                          part)
            for a, b in chunk_bounds(total, chunk, max_neighbours is not None):
                targets, run = part[a:b], total[a:b]
                flat = candidate_positions(begin[a:b], count[a:b], run)
                dist = candidate_distances(pos, columns, targets, run, flat)
                if max_neighbours is None:
                    keep = dist < cutoff
                    keep[torch.cumsum(run, 0) - run + itself[a:b]] = False
                    keep = keep.nonzero().squeeze(1)
                    found.append((order[flat[keep]].to(narrow),
                                  torch.repeat_interleave(targets, run, output_size=flat.shape[0])[keep].to(narrow)))
                else:
                    near, index = padded_nearest(dist, targets, run, itself[a:b], max_neighbours)
                    keep = near < cutoff
                    found.append((order[flat[index[keep]]].to(narrow),
                                  targets[:, None].expand_as(near)[keep].to(narrow)))
        # Runs came in cell order, each target's edges together: move each run to its target's place in index order.
        per_target = torch.zeros(rows, dtype=torch.long, device=pos.device)
        for pair in found:
            per_target += torch.bincount(pair[1], minlength=rows)
        place = torch.cumsum(per_target, 0) - per_target
        in_order = per_target[order]
        arrived = torch.empty_like(place)
        arrived[order] = torch.cumsum(in_order, 0) - in_order
        edges = torch.empty((2, int(per_target.sum())), dtype=torch.long, device=pos.device)
        offset = 0
        while len(found) > 0:
            source, target = found.pop(0)
            target = target.long()
            slot = place[target] - arrived[target] + torch.arange(offset, offset + target.shape[0], device=pos.device)
            edges[0, slot] = source.long()
            edges[1, slot] = target
            offset += target.shape[0]
        return edges


def density_radius(span: torch.Tensor, points: torch.Tensor, k: int) -> torch.Tensor:
    """(G,) the radius holding knn_surplus() * k points at the mean density of `points` in boxes of extent `span`
    (zero for a box of no extent). Flat extents (points on a plane, a line) count as wide as that radius, so the
    density is the one within the plane."""
    dims = span.shape[1]
    ball = ball_volume(dims)
    widest = span.amax(1)
    radius = widest
    for _ in range(4):
        box = torch.maximum(span, torch.maximum(radius, widest * 2.0 ** -20)[:, None]).prod(1)
        radius = (knn_surplus() * k * box / (ball * points.clamp(min=1))) ** (1.0 / dims)
    return torch.where(widest > 0, radius, torch.zeros_like(radius))


def knn_graph(pos: torch.Tensor, k: int, batch: torch.Tensor | None = None, cutoff: float | None = None,
              chunk: int = 2 ** 22) -> torch.Tensor:
    """(2, M) edges (j, i) to the k nearest j != i of each i in its cloud (all of them in a cloud of k points or
    fewer; with `cutoff`, only those with |x_i - x_j| < cutoff), sorted by i. Exact (ties broken either way).

    Cells are sized from each cloud's mean density, and a point is settled when its k-th distance is below the
    radius searched (or the search held its whole cloud, or the cutoff). The rest search again at a level of cells
    2^(l / D) times as wide (a level doubles the points in a ball): wider, as far as their k-th distance so far says
    is enough, or finer, before any distance, for points with far more candidates than typical (a tight cluster).
    Each level sorts only the points near its targets. Uneven clouds stay exact and near linear; what stays costly
    is many copies of one point (their count squared) and points whose k nearest lie beyond a dense cluster (they
    see all of it)."""
    with torch.no_grad():
        pos = pos.detach()
        rows, dims = pos.shape[0], pos.shape[1]
        if rows == 0 or k < 1 or (cutoff is not None and not cutoff > 0):
            return torch.zeros((2, 0), dtype=torch.long, device=pos.device)
        if batch is None:
            batch = torch.zeros(rows, dtype=torch.long, device=pos.device)
        groups = int(batch.max()) + 1
        low, span, points = cloud_boxes(pos, batch, groups)
        base = density_radius(span, points, k)
        base = torch.where(base > 0, base, torch.ones_like(base)) / neighbour_reach()
        widest_side = None if cutoff is None else cutoff_sides(cutoff, span)
        typical = knn_typical() * knn_surplus() * k     # candidates per point at the right level
        crowd = max(64, int(knn_crowd() * typical))
        found = torch.full((rows, k), -1, dtype=torch.long, device=pos.device)
        level = torch.zeros(rows, dtype=torch.long, device=pos.device)
        pending = torch.ones(rows, dtype=torch.bool, device=pos.device)
        fresh = torch.ones(rows, dtype=torch.bool, device=pos.device)  # not searched yet: may still go finer
        while bool(pending.any()):
            step = int(level[pending].min())
            here = pending & (level == step)
            side = base * 2.0 ** (step / dims)           # a level up doubles the points in a ball
            if widest_side is not None:
                side = torch.minimum(side, widest_side)
            # Only the points near this level's targets: the box of the targets of each cloud grown by more than
            # the radius searched, so cells stay few also when finer cells are wanted for a tight cluster only.
            has = torch.zeros(groups, dtype=torch.bool, device=pos.device)
            has[batch[here]] = True
            near_low, near_span, _ = cloud_boxes(pos[here], batch[here], groups)
            magnitude = torch.maximum(near_low.abs(), (near_low + near_span).abs())
            margin = (neighbour_reach() + 2) * side[:, None] + 4 * float_eps(pos.dtype) * magnitude
            # Cells finer than the positions' own resolution there would not part duplicates any further.
            resolution = 64 * float_eps(pos.dtype) * magnitude
            finest = torch.ceil(dims * torch.log2(resolution.amax(1) / base)).clamp(min=knn_finest()).long()
            inside = has[batch] & ((pos >= (near_low - margin)[batch])
                                   & (pos <= (near_low + near_span + margin)[batch])).all(1)
            sub = inside.nonzero().squeeze(1)
            sub_pos, sub_batch = pos[sub], batch[sub]
            sub_low, sub_span, _ = cloud_boxes(sub_pos, sub_batch, groups)
            fitted = fitting_sides(side, sub_span)
            spread = fitted > side                      # cells had to widen: finer levels would not help here
            reach = torch.minimum(certain_radius(fitted, sub_span), (neighbour_reach() + 1) * side)
            if cutoff is not None:
                reach = reach.clamp(max=cutoff)
            table = cell_table(sub_pos, sub_batch, sub_low, fitted)
            order = table[0]
            columns = sub_pos[order].T.contiguous()
            limit = torch.where(fresh[sub] & (step > finest[sub_batch]) & ~spread[sub_batch], crowd, rows)
            chosen = order[here[sub][order]]
            offsets, rank, ball, slack, block = search_setup(sub_pos, order, sub_span, fitted, reach, chunk)
            for start in range(0, chosen.shape[0], block):
                part = chosen[start:start + block]
                begin, count, total, itself = cell_candidates(sub_pos, sub_batch, table, sub_low, fitted, offsets,
                                                              rank, ball, slack, part)
                over = total > limit[part]
                if bool(over.any()):
                    # Crowded (a tight cluster): finer cells, as fine as a uniform density in the ball would want.
                    targets = sub[part[over]]
                    finer = step + torch.floor(torch.log2(typical / total[over]))
                    level[targets] = torch.maximum(finer.clamp(max=step - 1),
                                                   finest[batch[targets]].to(finer.dtype)).long()
                    keep = ~over
                    part, begin, count, total, itself = part[keep], begin[keep], count[keep], total[keep], itself[keep]
                for a, b in chunk_bounds(total, chunk, True):
                    local, run = part[a:b], total[a:b]
                    targets = sub[local]
                    cloud = batch[targets]
                    flat = candidate_positions(begin[a:b], count[a:b], run)
                    dist = candidate_distances(sub_pos, columns, local, run, flat)
                    near, index = padded_nearest(dist, targets, run, itself[a:b], k)
                    valid = near < (math.inf if cutoff is None else cutoff)
                    settled = run == points[cloud]
                    # Too few found: widen by the ratio of counts; else the k-th distance found bounds the true one.
                    wider = torch.ceil(torch.log2((k + 1) / (valid.sum(1) + 1))).long().clamp(min=1)
                    if near.shape[1] == k:
                        settled |= valid[:, -1] & (near[:, -1] < reach[cloud])
                        ratio = torch.ceil(dims * torch.log2((near[:, -1] / reach[cloud] * 1.01).clamp(min=1.0)))
                        wider = torch.where(valid[:, -1], ratio.long().clamp(min=1), wider)
                    if cutoff is not None:
                        settled |= reach[cloud] >= cutoff
                    neighbours = torch.where(valid, sub[order[flat[index]]], -1)
                    done = targets[settled]
                    found[done, :near.shape[1]] = neighbours[settled]
                    pending[done] = False
                    level[targets[~settled]] = step + wider[~settled]
                    fresh[targets] = False
        keep = found >= 0
        edges = torch.empty((2, int(keep.sum())), dtype=torch.long, device=pos.device)
        torch.masked_select(found, keep, out=edges[0])
        torch.masked_select(torch.arange(rows, device=pos.device)[:, None].expand(-1, k), keep, out=edges[1])
        return edges
