"""Drive-time rasters for the region-wide suitability surface (criteria ``build.kind: drivetime``).

Each cell gets the minutes of its nearest network vertex (main component) plus a straight
access leg from the cell centre to that vertex at the network's access speed — the same rule
plots are measured with in the database. Vertex times come from scipy's Dijkstra on the same
:class:`~landreg.routing.network.Network` pgRouting is loaded with: layers are built from files
without a database (their cache is keyed by file content), and on ~1,500 vertices a Dijkstra
takes about 10 ms. The nearest vertex of every cell is one Euclidean distance transform of a
raster of vertices (exact to half a cell), shared by all targets.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from landreg.routing.network import Network, load_network
from landreg.scoring.grid import Grid

#: Vertices this far outside the grid still serve as access points for cells at its edge.
MARGIN_M = 5000.0


@lru_cache(maxsize=1)
def _nearest(version: str, grid: Grid, coords: bytes
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(distance m, row index, col index, pad) of each cell's nearest vertex cell."""
    from scipy import ndimage  # building only (this module is imported for cache keys)

    xy = np.frombuffer(coords).reshape(-1, 2)
    pad = int(np.ceil(MARGIN_M / grid.res))
    h, w = grid.height + 2 * pad, grid.width + 2 * pad
    col = np.floor((xy[:, 0] - (grid.x0 - pad * grid.res)) / grid.res).astype(int)
    row = np.floor(((grid.y1 + pad * grid.res) - xy[:, 1]) / grid.res).astype(int)
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    mask = np.ones((h, w), dtype=bool)
    mask[row[inside], col[inside]] = False
    dist, (iy, ix) = ndimage.distance_transform_edt(mask, sampling=grid.res,
                                                    return_indices=True)
    sl = (slice(pad, pad + grid.height), slice(pad, pad + grid.width))
    return (dist[sl].astype(np.float32), iy[sl].astype(np.int32), ix[sl].astype(np.int32), pad)


def drivetime_layer(network: Network, target: str, grid: Grid) -> np.ndarray:
    """Minutes from every cell of ``grid`` to ``target`` (float32)."""
    main = np.flatnonzero(network.main)
    xy = network.vertices[main]
    dist, iy, ix, pad = _nearest(network.version, grid, xy.tobytes())
    seconds = network.vertex_seconds(target)[main]
    h, w = grid.height + 2 * pad, grid.width + 2 * pad
    col = np.floor((xy[:, 0] - (grid.x0 - pad * grid.res)) / grid.res).astype(int)
    row = np.floor(((grid.y1 + pad * grid.res) - xy[:, 1]) / grid.res).astype(int)
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    best = np.full((h, w), np.inf)
    np.minimum.at(best, (row[inside], col[inside]), seconds[inside])
    out = (best[iy, ix] + dist / network.access_speed_ms) / 60.0
    return np.where(np.isfinite(out), out, np.nan).astype(np.float32)


def release() -> None:
    """Forget the cached nearest-vertex arrays (after a build)."""
    _nearest.cache_clear()


def network_files(layers_dir: Path) -> list[Path]:
    """The files a drive-time layer depends on (for the layer cache key)."""
    from landreg.routing.network import NETWORK_FILE, SPEEDS_FILE, source_path

    return [layers_dir / NETWORK_FILE, layers_dir / SPEEDS_FILE, source_path(layers_dir)]


def build(layers_dir: Path, target: str, grid: Grid) -> np.ndarray:
    """The drive-time layer of ``target`` for the network configured in ``layers_dir``."""
    net = load_network(layers_dir)
    if target not in net.targets:
        from landreg.scoring.errors import LayerError

        raise LayerError(f"drive time to {target!r}: road_network.yaml has no such target "
                         f"(targets: {', '.join(net.targets)})", field="to", value=target)
    return drivetime_layer(net, target, grid)
