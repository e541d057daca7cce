"""Per-plot statistics for all plots at once.

Plot ids are rasterized once per group of non-overlapping plots (cell centres inside the
polygon, as rasterio and rasterstats do by default), tile by tile with only the plots that
touch each tile; the cells found are gathered from every layer at once (a memory map of the
uncompressed layer files: only cells under plots are read) and reduced with numpy:
``bincount`` for counts, sums and shares, ``minimum.reduceat``/``maximum.reduceat`` over the
cells sorted by plot id for min and max.

Small plots: a plot that contains no cell centre takes the value of the cell under its
centroid (``method = "centroid"``) — stated in the result, never hidden.
Nodata: NaN cells (and the file's nodata value) are left out of every statistic; a plot with no
valid cell gets NaN, and the scoring marks it incomplete.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize

from landreg.scoring.errors import LayerError
from landreg.scoring.grid import cell_window

STATS = ("mean", "min", "max", "share", "count")


def _groups(geoms: np.ndarray) -> list[np.ndarray]:
    """Split geometries into groups whose members do not overlap (greedy colouring)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left != right
    neighbours: dict[int, list[int]] = {}
    for a, b in zip(left[pairs], right[pairs], strict=True):
        if shapely.area(shapely.intersection(geoms[a], geoms[b])) > 0:
            neighbours.setdefault(int(a), []).append(int(b))
    colour = np.zeros(len(geoms), dtype=np.int64)
    for i in sorted(neighbours):
        taken = {colour[j] for j in neighbours[i] if j < i}
        c = 0
        while c in taken:
            c += 1
        colour[i] = c
    return [np.flatnonzero(colour == c) for c in range(colour.max() + 1 if len(geoms) else 0)]


def raw_view(ds: rasterio.DatasetReader) -> np.ndarray | None:
    """A read-only memory map of an uncompressed, striped, single-band float32 GeoTIFF whose
    strips are contiguous (as ``build.write_layer`` writes them); None for anything else."""
    if ds.compression is not None or ds.count != 1 or ds.dtypes[0] != "float32":
        return None
    if ds.block_shapes[0][1] != ds.width:
        return None  # tiled
    rows = ds.block_shapes[0][0]
    n = -(-ds.height // rows)
    try:
        first = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1))
        last = int(ds.get_tag_item(f"BLOCK_OFFSET_0_{n - 1}", "TIFF", bidx=1))
    except (TypeError, ValueError):
        return None
    if last != first + (n - 1) * rows * ds.width * 4:
        return None
    return np.memmap(ds.name, dtype="<f4", mode="r", offset=first,
                     shape=(ds.height, ds.width))


TILE = 1024


def _tiles(height: int, width: int) -> list[tuple[int, int, int, int]]:
    return [(r, c, min(TILE, height - r), min(TILE, width - c))
            for r in range(0, height, TILE) for c in range(0, width, TILE)]


def _cells(geoms: np.ndarray, group: np.ndarray, transform: rasterio.Affine,
           height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(plot index, flat cell index) of every cell centre inside the group's plots.

    The raster is processed in tiles of ``TILE`` × ``TILE`` cells; each tile burns only the
    plots that touch it (one STRtree query for all tiles), so the cost follows the plots, not
    the size of the raster.
    """
    tiles = _tiles(height, width)
    boxes = []
    for r, c, h, w in tiles:
        x0, y0 = transform * (c, r + h)
        x1, y1 = transform * (c + w, r)
        boxes.append(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    tree = shapely.STRtree(geoms[group])
    tile_idx, member = tree.query(np.array(boxes), predicate="intersects")
    labels_out, cells_out = [], []
    for t in np.unique(tile_idx):
        r, c, h, w = tiles[t]
        members = group[member[tile_idx == t]]
        tile_transform = transform * rasterio.Affine.translation(c, r)
        burnt = rasterize(((geoms[i], int(i) + 1) for i in members), out_shape=(h, w),
                          transform=tile_transform, fill=0, dtype="int32")
        flat = burnt.ravel()
        inside = np.flatnonzero(flat)
        if inside.size:
            labels_out.append(flat[inside] - 1)
            cells_out.append((r + inside // w) * width + (c + inside % w))
    if not labels_out:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(labels_out).astype(np.int64), np.concatenate(cells_out)


def zonal_stats(plots: gpd.GeoDataFrame, layers: dict[str, Path],
                stats: dict[str, str] | None = None) -> pd.DataFrame:
    """Statistics of every plot on every layer.

    Parameters
    ----------
    plots:
        Polygons in the layers' CRS with an integer ``id`` column.
    layers:
        ``{name: GeoTIFF path}``; all on the same grid.
    stats:
        Unused; every statistic (mean, min, max, share, count) is computed in the same pass.

    Returns
    -------
    DataFrame indexed by plot id with ``<layer>_mean|min|max|share|count`` per layer and
    ``method`` ("cells" or "centroid").
    """
    ids = plots["id"].to_numpy(dtype=np.int64)
    geoms = plots.geometry.to_numpy()
    out = pd.DataFrame(index=pd.Index(ids, name="id"))
    out["method"] = "cells"
    if len(plots) == 0:
        return out
    names = list(layers)
    opened = {n: rasterio.open(layers[n]) for n in names}
    try:
        ref = opened[names[0]]
        for n, ds in opened.items():
            if ds.crs is None:
                raise LayerError(f"layer {n} has no CRS", field=n)
            if ds.transform != ref.transform or ds.shape != ref.shape or ds.crs != ref.crs:
                raise LayerError(f"layer {n} is not on the grid of {names[0]}: rebuild the "
                                 "layers (landreg layers build)", field=n)
        win = cell_window(ref.transform, ref.width, ref.height, tuple(plots.total_bounds))
        transform = ref.window_transform(win)
        shape = (int(win.height), int(win.width))
        row0, col0 = int(win.row_off), int(win.col_off)
        views = {}
        for n, ds in opened.items():
            raw = raw_view(ds)
            if raw is None:  # e.g. a compressed file: read the plots' window once
                views[n] = ds.read(1, window=win)
            else:
                views[n] = raw[row0:row0 + shape[0], col0:col0 + shape[1]]
        nodata = {n: ds.nodata for n, ds in opened.items()
                  if ds.nodata is not None and not np.isnan(ds.nodata)}

        def gather(n: str, r: np.ndarray, c: np.ndarray) -> np.ndarray:
            v = np.asarray(views[n][r, c], dtype=np.float64)
            if n in nodata:
                v[v == nodata[n]] = np.nan
            return v

        acc = {n: {s: np.full(len(ids), np.nan) for s in ("mean", "min", "max")} | {
            "count": np.zeros(len(ids))} for n in names}
        hit = np.zeros(len(ids), dtype=bool)
        # every (plot, cell) pair of every group first, then one gather and one reduction per
        # layer: plots of different groups may share cells, each keeps its own
        pairs = [_cells(geoms, group, transform, shape[0], shape[1]) for group in _groups(geoms)]
        lab = np.concatenate([p[0] for p in pairs]) if pairs else np.empty(0, np.int64)
        cells = np.concatenate([p[1] for p in pairs]) if pairs else np.empty(0, np.int64)
        if lab.size:
            order = np.argsort(lab, kind="stable")
            lab_sorted, cells_sorted = lab[order], cells[order]
            hit[np.unique(lab_sorted)] = True
            rr, cc = np.divmod(cells_sorted, shape[1])
            for n in names:
                vals = gather(n, rr, cc)
                valid = ~np.isnan(vals)
                lv, vv = lab_sorted[valid], vals[valid]
                count = np.bincount(lv, minlength=len(ids)).astype(float)
                total = np.bincount(lv, weights=vv, minlength=len(ids))
                has = count > 0
                a = acc[n]
                a["count"][has] = count[has]
                a["mean"][has] = total[has] / count[has]
                if vv.size:
                    starts = np.flatnonzero(np.r_[True, lv[1:] != lv[:-1]])
                    who = lv[starts]
                    a["min"][who] = np.minimum.reduceat(vv, starts)
                    a["max"][who] = np.maximum.reduceat(vv, starts)
        missed = np.flatnonzero(~hit)
        if missed.size:  # smaller than a cell: the cell under the centroid
            cent = shapely.centroid(geoms[missed])
            rows, cols = rasterio.transform.rowcol(transform, shapely.get_x(cent),
                                                   shapely.get_y(cent))
            rows, cols = np.asarray(rows), np.asarray(cols)
            ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
            for n in names:
                v = np.full(missed.size, np.nan)
                v[ok] = gather(n, rows[ok], cols[ok])
                a = acc[n]
                for s in ("mean", "min", "max"):
                    a[s][missed] = v
                a["count"][missed] = (~np.isnan(v)).astype(float)
            out.iloc[missed, out.columns.get_loc("method")] = "centroid"
        for n in names:
            for s in ("mean", "min", "max", "count"):
                out[f"{n}_{s}"] = acc[n][s]
            out[f"{n}_share"] = acc[n]["mean"]
    finally:
        for ds in opened.values():
            ds.close()
    return out
