"""Per-plot statistics for all plots at once.

Plot ids are rasterized once per group of non-overlapping plots over the plots' window (cell
centres inside the polygon, as rasterio and rasterstats do by default); each layer is then
reduced with numpy in one pass: ``bincount`` for counts, sums and shares, ``minimum.reduceat`` /
``maximum.reduceat`` over the cells sorted by plot id for min and max.

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
        ``{name: statistic}`` (mean/min/max/share); default: all of mean, min, max.

    Returns
    -------
    DataFrame indexed by plot id with a column ``<layer>_<stat>`` per layer and statistic,
    ``<layer>_count`` (valid cells) and ``method`` ("cells" or "centroid").
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
        data = {}
        for n, ds in opened.items():
            arr = ds.read(1, window=win, boundless=False)  # kept in its own dtype (float32)
            if ds.nodata is not None and not np.isnan(ds.nodata):
                arr = np.where(arr == ds.nodata, np.nan, arr).astype(np.float32)
            data[n] = arr
        acc = {n: {s: np.full(len(ids), np.nan) for s in ("mean", "min", "max")} | {
            "count": np.zeros(len(ids))} for n in names}
        hit = np.zeros(len(ids), dtype=bool)
        for group in _groups(geoms):
            labels = rasterize(((geoms[i], int(i) + 1) for i in group), out_shape=shape,
                               transform=transform, fill=0, dtype="int32")
            flat = labels.ravel()
            inside = np.flatnonzero(flat)
            if inside.size == 0:
                continue
            lab = flat[inside] - 1
            order = np.argsort(lab, kind="stable")
            lab_sorted = lab[order]
            hit[np.unique(lab_sorted)] = True
            for n in names:
                vals = data[n].ravel()[inside][order].astype(np.float64)
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
                v[ok] = data[n][rows[ok], cols[ok]]
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
