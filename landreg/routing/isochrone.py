"""Isochrones as contours of a drive-time field: where ``minutes`` reach a target.

A point's drive time is the time of its nearest main-component vertex plus a straight access
leg to it at the network's access speed — the rule plots (``plot_reach``), the "within N
min" filter and the drive-time layers use. An isochrone is the set of points whose time is at
most ``minutes`` and whose access leg is at most :data:`CAP_M` (no zone is drawn through
roadless land far from every road).

Built once per network version and process (:func:`access_grid`): a grid of :data:`GRID_M`
cells over the network with each cell centre's nearest vertex and its distance. An isochrone
is then one gather (the vertices' seconds, cached per target by the caller), a crop to the
reached cells and a filled contour at the level (contourpy, marching squares with linear
interpolation: the edge lies between cells, not on their staircase), simplified by
:data:`SIMPLIFY_M`. No union of thousands of overlapping discs: a polygon costs a few ms
whatever the number of vertices reached. Edges are accurate to about one cell where the time
jumps (between two vertices' areas, at the cap), better where it is smooth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import contourpy
import numpy as np
import shapely
from simplification.cutil import simplify_coords_idx

from landreg.routing.network import Network

#: Grid cell (m): under a pixel of the map at region scale (~300 m at zoom 9); 0.8 M cells.
#: The simplification's cost grows with the contour's points, so 150 m costs 1.5 times more.
GRID_M = 200.0
#: Longest access leg drawn (m) from a vertex (30 km/h: 6 minutes).
CAP_M = 3000.0
#: Simplification (m) of the contours: under the map's pixel at region scale.
SIMPLIFY_M = 50.0
#: Beyond the cap, the field rises this many times faster than the access leg: a continuous
#: field whose contour stops at the cap (overshoot < CAP_M / STEEP even at 3 hours).
STEEP = 1000.0
#: Rows of the grid built at a time (a few MB of temporaries).
GRID_ROWS = 64
#: Seconds given to unreachable vertices (never inside any zone).
UNREACHED_S = 1e9


@dataclass(frozen=True)
class AccessGrid:
    """Cell centres (1-D x and y, ascending), each cell's nearest main vertex (index into the
    main vertices) and its distance (m)."""

    xs: np.ndarray
    ys: np.ndarray
    nearest: np.ndarray  # (ny, nx) int32
    dist: np.ndarray     # (ny, nx) float32
    leg: np.ndarray      # (ny, nx) float64: seconds of the access leg, steep beyond the cap


@lru_cache(maxsize=2)
def _grid(version: str, coords: bytes, res: float, cap: float, speed_ms: float) -> AccessGrid:
    from scipy.spatial import cKDTree

    xy = np.frombuffer(coords).reshape(-1, 2)
    lo, hi = xy.min(axis=0) - cap - 2 * res, xy.max(axis=0) + cap + 2 * res
    xs = np.arange(lo[0], hi[0] + res, res)
    ys = np.arange(lo[1], hi[1] + res, res)
    # Cells farther than the cap and two cells from every vertex are never in a zone nor
    # next to a cell in one (whose value a contour interpolates): their exact nearest vertex
    # does not matter, and the tree stops looking at that bound (half the cells, half the CPU)
    far_m = cap + 2 * res
    tree = cKDTree(xy)
    shape = (len(ys), len(xs))
    nearest = np.empty(shape, dtype=np.int32)
    dist = np.empty(shape, dtype=np.float32)
    leg = np.empty(shape, dtype=np.float64)
    # in blocks of rows: the whole grid's cell centres, distances and indices at once were
    # ~25 MB of temporaries above the result, at the top of a worker's first isochrone
    for r0 in range(0, len(ys), GRID_ROWS):
        gx, gy = np.meshgrid(xs, ys[r0:r0 + GRID_ROWS])
        d, i = tree.query(np.column_stack([gx.ravel(), gy.ravel()]),
                          distance_upper_bound=far_m)
        far = ~np.isfinite(d)
        d[far], i[far] = far_m, 0
        rows = slice(r0, r0 + gx.shape[0])
        d = d.reshape(gx.shape)
        nearest[rows], dist[rows] = i.reshape(gx.shape), d
        leg[rows] = (d + np.maximum(d - cap, 0.0) * STEEP) / speed_ms
    return AccessGrid(xs, ys, nearest, dist, leg)


def access_grid(net: Network, res: float = GRID_M, cap: float = CAP_M) -> AccessGrid:
    """The nearest-vertex grid of ``net`` (built once per network version and process:
    ~0.2 s CPU, 12 MB at 200 m)."""
    return _grid(net.version, np.ascontiguousarray(net.vertices[net.main]).tobytes(),
                 float(res), float(cap), float(net.access_speed_ms))


def zones(net: Network, seconds: np.ndarray, minutes: list[int], res: float = GRID_M,
          cap: float = CAP_M) -> dict[int, shapely.Geometry]:
    """The area (EPSG:25833) within each of ``minutes`` of a target whose seconds from every
    main vertex are ``seconds`` (in the order of ``net.vertices[net.main]``; inf or NaN when
    unreachable). Minutes that reach nothing are left out."""
    grid = access_grid(net, res, cap)
    s = np.where(np.isfinite(seconds), seconds, UNREACHED_S)
    out: dict[int, shapely.Geometry] = {}
    top = max(minutes) * 60.0
    # one crop for all the minutes: the cells whose vertex is reached within the largest
    at = s[grid.nearest]  # each cell's vertex's seconds, gathered once
    reached = (at <= top) & (grid.dist <= cap)
    if not reached.any():
        return out
    rows, cols = np.flatnonzero(reached.any(axis=1)), np.flatnonzero(reached.any(axis=0))
    r0, r1 = max(rows[0] - 1, 0), min(rows[-1] + 2, len(grid.ys))
    c0, c1 = max(cols[0] - 1, 0), min(cols[-1] + 2, len(grid.xs))
    field = at[r0:r1, c0:c1] + grid.leg[r0:r1, c0:c1]
    gen = contourpy.contour_generator(grid.xs[c0:c1], grid.ys[r0:r1], field,
                                      fill_type=contourpy.FillType.OuterOffset)
    for m in sorted(set(minutes), reverse=True):
        level = m * 60.0
        if not (field <= level).any():
            continue
        out[m] = _polygon(*gen.filled(-np.inf, level))
    return out


def _polygon(points: list[np.ndarray], offsets: list[np.ndarray]) -> shapely.Geometry:
    """contourpy's filled polygons (each an outer ring and its holes) as one simplified
    (Multi)Polygon. The rings are simplified as lines (:func:`simplify_rings`):
    GEOS simplifies a polygon by re-noding it (buffer(0)), 20 times slower here, and even its
    line simplification cost half of a cold isochrone. The result is checked, and a pinched
    neck (rare) gets the topology-preserving simplification of the whole instead."""
    ring_xy = [p[o[k]:o[k + 1]] for p, o in zip(points, offsets, strict=True)
               for k in range(len(o) - 1)]
    owner = np.repeat(np.arange(len(points)), [len(o) - 1 for o in offsets])
    outer = np.concatenate([[True] + [False] * (len(o) - 2) for o in offsets])
    xy = np.concatenate(ring_xy)
    ends = np.cumsum([len(r) for r in ring_xy])
    starts = np.r_[0, ends[:-1]]
    ring = np.repeat(np.arange(len(ring_xy)), ends - starts)
    keep = simplify_rings(xy, starts, ends, SIMPLIFY_M)
    # a ring simplified below a triangle is gone; an outer ring takes its holes with it
    ok = np.bincount(ring[keep], minlength=len(ring_xy)) >= 4
    ok &= ok[outer][owner]
    sel = keep & ok[ring]
    simple = shapely.linearrings(xy[sel], indices=np.unique(ring[sel], return_inverse=True)[1])
    polys = shapely.polygons(simple, indices=np.unique(owner[ok], return_inverse=True)[1])
    area = polys[0] if len(polys) == 1 else shapely.multipolygons(polys)
    if not area.is_valid:
        rings = shapely.linearrings(xy, indices=ring)
        whole = shapely.multipolygons(shapely.polygons(rings, indices=owner))
        area = shapely.simplify(whole, SIMPLIFY_M, preserve_topology=True)
    return area


def simplify_rings(xy: np.ndarray, starts: np.ndarray, ends: np.ndarray, tol: float
                   ) -> np.ndarray:
    """Douglas–Peucker of many closed rings: which points of ``xy`` to keep (a mask) so that
    every point dropped lies within ``tol`` of the kept ring (ring ``k`` is
    ``xy[starts[k]:ends[k]]``, its last point equal to its first).

    The ``simplification`` package (Rust, the ``geo`` crate's Ramer–Douglas–Peucker) keeps
    the same vertices as GEOS's line simplification at about a tenth of its CPU: GEOS was half
    of a cold isochrone for the nearest station (~24,000 contour points)."""
    keep = np.zeros(len(xy), dtype=bool)
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        idx = simplify_coords_idx(np.ascontiguousarray(xy[s:e], dtype=np.float64), tol)
        keep[s + np.asarray(idx, dtype=np.int64)] = True
    return keep


__all__ = ["CAP_M", "GRID_M", "SIMPLIFY_M", "AccessGrid", "access_grid", "simplify_rings",
           "zones"]
