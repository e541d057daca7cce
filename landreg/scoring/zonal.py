"""Per-plot statistics for all plots at once.

A cell belongs to a plot when its centre lies inside the polygon — the rule of GDAL's
rasterizer (rasterio, rasterstats), reproduced exactly and vectorised over all plots at once:
every polygon edge is intersected with the rows of cell centres it crosses, the crossings of
each plot and row are sorted and paired (even–odd, so holes and multipolygons hold), and each
pair is a run of cells. GDAL's own arithmetic is used (pixel coordinates from the inverse
geotransform, a crossing rounds to the nearest cell edge), so the cells are the ones
``rasterio.features.rasterize`` burns; the one case GDAL treats specially — a horizontal edge
lying exactly on a row of cell centres — is handed to GDAL itself for the plots that have one.

The runs of all plots are found once per call and shared by every layer (all layers are on
one grid). Sorted by row and column — the order of the layer file — they are expanded into the
flat cell indices of all plots; each layer is then one gather front to back (a memory map of
the uncompressed layer file: only the pages under plots are read) into one reused scratch
array, one ``reduceat`` per statistic over the runs and one over each plot's runs. Min and max
are exact, sums float64. Plots may overlap: each keeps its own cells. The cost follows the
cells under plots, not the size of the raster; about half of it is the kernel mapping the
pages of each layer, which no reordering avoids.

Small plots: a plot that contains no cell centre takes the value of the cell under its
centroid (``method = "centroid"``) — stated in the result, never hidden.
Nodata: NaN cells (and the file's nodata value) are left out of every statistic; a plot with no
valid cell gets NaN, and the scoring marks it incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window

from landreg.scoring.errors import LayerError
from landreg.scoring.grid import cell_window

STATS = ("mean", "min", "max", "share", "count")


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


def _edges(geoms: np.ndarray, transform: rasterio.Affine) -> tuple[np.ndarray, ...]:
    """Every edge of every ring in pixel coordinates: (plot index, x1, y1, x2, y2).

    Pixel coordinates are computed as GDAL's inverse geotransform does
    (``-x0/a + x * (1/a)``), so ties fall the same way as in GDAL.
    """
    parts, part_plot = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    px = -transform.c / transform.a + xy[:, 0] * (1.0 / transform.a)
    py = -transform.f / transform.e + xy[:, 1] * (1.0 / transform.e)
    same = ring[1:] == ring[:-1]  # consecutive vertices of one ring (rings are closed)
    plot = part_plot[ring_part[ring[:-1][same]]]
    return plot, px[:-1][same], py[:-1][same], px[1:][same], py[1:][same]


def _runs_gdal(geoms: np.ndarray, which: np.ndarray, transform: rasterio.Affine,
               height: int, width: int) -> tuple[np.ndarray, ...]:
    """Runs of cells of the plots ``which``, burnt by GDAL itself (one small window each)."""
    out: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    for i in which:
        win = cell_window(transform, width, height, shapely.bounds(geoms[i]))
        r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
        mask = rasterize([(geoms[i], 1)], out_shape=(h, w), fill=0, dtype="uint8",
                         transform=transform * rasterio.Affine.translation(c0, r0))
        step = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
        r_in, c_in = np.nonzero(step == 1)
        _r_out, c_out = np.nonzero(step == -1)  # row-major: pairs line up with the starts
        out.append((int(i), r0 + r_in, c0 + c_in, c0 + c_out))
    if not out:
        return (np.empty(0, np.int64),) * 4
    return (np.concatenate([np.full(len(r), i) for i, r, _a, _b in out]),
            np.concatenate([r for _i, r, _a, _b in out]),
            np.concatenate([a for _i, _r, a, _b in out]),
            np.concatenate([b for _i, _r, _a, b in out]))


def runs(geoms: np.ndarray, transform: rasterio.Affine, height: int,
         width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(plot index, row, first column, end column) of every run of cells whose centres lie
    inside a plot, sorted by plot, row and column; the cells GDAL's rasterizer would burn for
    each plot on its own, clipped to the raster."""
    plot, x1, y1, x2, y2 = _edges(geoms, transform)
    # a horizontal edge exactly on a row of cell centres: GDAL has a rule of its own (it burns
    # a bottom edge traversed right to left); let GDAL burn those few plots
    flat = y1 == y2
    tie = flat & (np.floor(y1) + 0.5 == y1) & (y1 > 0) & (y1 < height)
    special = np.unique(plot[tie])
    keep = ~flat & ~np.isin(plot, special)
    plot, x1, y1, x2, y2 = plot[keep], x1[keep], y1[keep], x2[keep], y2[keep]
    down = y1 > y2  # orient every edge from its lower to its higher pixel y, as GDAL does
    lx, ly = np.where(down, x2, x1), np.where(down, y2, y1)
    hx, hy = np.where(down, x1, x2), np.where(down, y1, y2)
    # rows whose centre y + 0.5 lies in [ly, hy): first = ceil(ly - 0.5), end = ceil(hy - 0.5)
    first = np.clip(np.ceil(ly - 0.5), 0, height).astype(np.int64)
    end = np.clip(np.ceil(hy - 0.5), 0, height).astype(np.int64)
    n = np.maximum(end - first, 0)
    edge = np.repeat(np.arange(len(n)), n)
    row = first[edge] + (np.arange(edge.size) - np.repeat(np.cumsum(n) - n, n))
    dy = row + 0.5
    cross = (dy - ly[edge]) * (hx[edge] - lx[edge]) / (hy[edge] - ly[edge]) + lx[edge]
    col = np.floor(cross + 0.5).astype(np.int64)
    p = plot[edge]
    # sort by plot, row and column as one integer key (a fraction of a three-key lexsort);
    # columns off the raster clip to one step beyond it, where they clip to its edge anyway
    key = (p * height + row) * (width + 3) + (np.clip(col, -1, width + 1) + 1)
    order = np.argsort(key, kind="stable")
    p, row, col = p[order], row[order], col[order]
    # crossings pair up within each plot and row (each ring crosses a row an even number of
    # times under the half-open rule): (0, 1), (2, 3), …
    p, row, c0, c1 = p[0::2], row[0::2], np.clip(col[0::2], 0, width), np.clip(col[1::2], 0,
                                                                                width)
    if special.size:
        gp, gr, g0, g1 = _runs_gdal(geoms, special, transform, height, width)
        p, row, c0, c1 = (np.concatenate(a) for a in ((p, gp), (row, gr), (c0, g0), (c1, g1)))
        order = np.lexsort((c0, row, p))
        p, row, c0, c1 = p[order], row[order], c0[order], c1[order]
    ok = c1 > c0
    return p[ok], row[ok], c0[ok], c1[ok]


@dataclass
class _Cells:
    """Every cell of every plot, laid out as the raster is: the runs of all plots sorted by row
    and column (plots may overlap: each keeps its own runs), so a layer is read front to back.

    ``flat[run_starts[k]:run_starts[k + 1]]`` are the cells of run ``k`` (raster order);
    ``back`` lists the runs in plot order (by plot, row and column) as positions in raster
    order, and ``plot_starts`` is each hit plot's first run in ``back``: a statistic of the
    runs, taken in ``back`` order, reduces at ``plot_starts`` to the statistic of the plots.
    """

    flat: np.ndarray  # flat cell index in the raster (row * width + col), runs in raster order
    run_starts: np.ndarray  # offset of each run (raster order) in ``flat``
    back: np.ndarray  # the runs in plot order, as positions in raster order
    plot_starts: np.ndarray  # offset of each hit plot's first run in ``back``
    hit: np.ndarray  # plot positions with at least one cell, ascending
    ncells: np.ndarray  # cells per hit plot
    window: Window | None  # the cells the plots touch (for layers read through GDAL)
    missed: np.ndarray  # plot positions without a cell centre inside, on the raster
    m_rows: np.ndarray  # the cell under each missed plot's centroid
    m_cols: np.ndarray

    def per_plot(self, ufunc: np.ufunc, per_run: np.ndarray) -> np.ndarray:
        """Reduce a statistic of every run (raster order) to one per hit plot."""
        return ufunc.reduceat(per_run[self.back], self.plot_starts)


def _plot_cells(geoms: np.ndarray, transform: rasterio.Affine, height: int,
                width: int) -> _Cells:
    p, row, c0, c1 = runs(geoms, transform, height, width)
    length = c1 - c0
    first = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if p.size else np.empty(0, np.int64)
    hit = p[first]
    ncells = np.add.reduceat(length, first) if p.size else np.empty(0, np.int64)
    # raster order: gathering cells front to back touches each page of a layer once, in
    # order, instead of jumping a whole row (a page or more) between the rows of a plot
    order = np.argsort(row * width + c0, kind="stable")
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    r_len = length[order]
    run_starts = np.cumsum(r_len) - r_len
    flat = np.repeat(row[order] * width + c0[order] - run_starts, r_len)
    flat += np.arange(flat.size)  # in place: one array of millions of cells fewer
    missed = np.setdiff1d(np.arange(len(geoms)), hit)
    m_rows = m_cols = np.empty(0, np.int64)
    if missed.size:  # smaller than a cell: the cell under the centroid
        cent = shapely.centroid(geoms[missed])
        m_rows, m_cols = (np.asarray(a, dtype=np.int64) for a in rasterio.transform.rowcol(
            transform, shapely.get_x(cent), shapely.get_y(cent)))
        ok = (m_rows >= 0) & (m_rows < height) & (m_cols >= 0) & (m_cols < width)
        missed, m_rows, m_cols = missed[ok], m_rows[ok], m_cols[ok]
    window = None
    if flat.size or missed.size:
        rows = np.r_[row, m_rows]
        cols = np.r_[c0, c1 - 1, m_cols]
        window = Window(int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1),
                        int(rows.max() - rows.min() + 1))
    return _Cells(flat, run_starts, back, first, hit, ncells, window, missed, m_rows, m_cols)


class _Buffers:
    """Scratch arrays of one cell per plot cell, reused from layer to layer: a fresh array of
    millions of cells costs a page fault per 4 KiB on first touch, every layer again."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._f32: np.ndarray | None = None
        self._f64: np.ndarray | None = None

    def f32(self) -> np.ndarray:
        """The float32 scratch array (the gathered cells)."""
        if self._f32 is None:
            self._f32 = np.empty(self.size, np.float32)
        return self._f32

    def f64(self, vals: np.ndarray) -> np.ndarray:
        """``vals`` as float64 (a copy into the float64 scratch array)."""
        if self._f64 is None:
            self._f64 = np.empty(self.size, np.float64)
        np.copyto(self._f64, vals)
        return self._f64


def _layer_stats(ds: rasterio.DatasetReader, cells: _Cells, n: int,
                 want: set[str], bufs: _Buffers) -> dict[str, np.ndarray]:
    """The statistics ``want`` (of mean, min, max) and count of one layer for ``n`` plots.

    Each statistic is taken per run (a contiguous slice of the gathered cells) and then per
    plot over its runs; min and max are exact, sums are float64 throughout.
    """
    nodata = ds.nodata if ds.nodata is not None and not np.isnan(ds.nodata) else None
    raw = raw_view(ds)
    if raw is not None:  # only the pages under plots are read, front to back
        # (mode="clip" only spares numpy a buffered copy: every index is inside the raster)
        vals = np.take(raw.reshape(-1), cells.flat, out=bufs.f32(), mode="clip")
        small = raw[cells.m_rows, cells.m_cols]
    elif cells.window is not None:  # e.g. a compressed file: read the plots' window once
        data = ds.read(1, window=cells.window)
        r0, k0 = int(cells.window.row_off), int(cells.window.col_off)
        rr, cc = np.divmod(cells.flat, ds.width)
        vals = data[rr - r0, cc - k0]
        small = data[cells.m_rows - r0, cells.m_cols - k0]
    else:
        vals = small = np.empty(0)
    if vals.dtype != np.float32:
        vals = vals.astype(np.float64)
    small = np.asarray(small, dtype=np.float64)
    if nodata is not None:
        vals[vals == nodata] = np.nan  # vals is this function's own (scratch or a copy)
        small[small == nodata] = np.nan
    res = {s: np.full(n, np.nan) for s in want} | {"count": np.zeros(n)}
    if vals.size:
        at, per_plot = cells.run_starts, cells.per_plot
        # sums in float64 (a float32 sum of 30,000 cells loses digits); min and max as stored
        part = {}
        if "mean" in want:
            part["mean"] = per_plot(np.add, np.add.reduceat(bufs.f64(vals), at))
        if "min" in want:
            part["min"] = per_plot(np.minimum, np.minimum.reduceat(vals, at))
        if "max" in want:
            part["max"] = per_plot(np.maximum, np.maximum.reduceat(vals, at))
        # NaN propagates through each of these: a NaN result means nodata under that plot
        probe = next(iter(part.values())) if part else per_plot(np.add,
                                                                np.add.reduceat(vals, at))
        if np.isnan(probe).any():  # nodata under some plot: leave those cells out
            nan = np.isnan(vals)
            count = per_plot(np.add, np.add.reduceat(~nan, at, dtype=np.int64))
            if "mean" in want:
                part["mean"] = per_plot(np.add, np.add.reduceat(
                    np.where(nan, 0.0, bufs.f64(vals)), at))
            if "min" in want:
                part["min"] = per_plot(np.fmin, np.fmin.reduceat(vals, at))
            if "max" in want:
                part["max"] = per_plot(np.fmax, np.fmax.reduceat(vals, at))
        else:
            count = cells.ncells
        res["count"][cells.hit] = count
        if "mean" in want:
            with np.errstate(invalid="ignore", divide="ignore"):
                res["mean"][cells.hit] = np.where(count > 0, part["mean"] / count, np.nan)
        for s in ("min", "max"):
            if s in want:
                res[s][cells.hit] = part[s]
    for s in want:
        res[s][cells.missed] = small
    res["count"][cells.missed] = ~np.isnan(small)
    return res


def _wanted(asked: Iterable[str] | None) -> set[str]:
    """mean/min/max to compute for the statistics asked (share is the mean of a 0/1 layer)."""
    if asked is None:
        return {"mean", "min", "max"}
    if isinstance(asked, str):
        asked = [asked]
    out = {"mean" if s == "share" else s for s in asked} - {"count"}
    unknown = out - {"mean", "min", "max"}
    if unknown:
        raise ValueError(f"unknown statistics {sorted(unknown)}; use {', '.join(STATS)}")
    return out


def zonal_stats(plots: gpd.GeoDataFrame, layers: dict[str, Path],
                stats: dict[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """Statistics of every plot on every layer.

    Parameters
    ----------
    plots:
        Polygons in the layers' CRS with an integer ``id`` column.
    layers:
        ``{name: GeoTIFF path}``; all on the same grid.
    stats:
        ``{name: statistics}`` to compute only those (of mean, min, max, share) for a layer —
        what a profile reads; every statistic of every layer when None (or a layer is missing).

    Returns
    -------
    DataFrame indexed by plot id with ``<layer>_mean|min|max|share|count`` per layer (those
    asked for, and always the count) and ``method`` ("cells" or "centroid").

    The cells under the plots are found once; the layers are then read and reduced one after
    the other in one process thread (threads cost more CPU than they save here: their page
    faults in the shared memory maps contend, and on a busy machine they gain no wall clock).
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
        cells = _plot_cells(geoms, ref.transform, ref.height, ref.width)
        out.iloc[cells.missed, out.columns.get_loc("method")] = "centroid"
        bufs = _Buffers(cells.flat.size)
        results = [_layer_stats(opened[n], cells, len(ids),
                                _wanted(None if stats is None else stats.get(n)), bufs)
                   for n in names]
        columns = {}
        for n, res in zip(names, results, strict=True):
            for s in ("mean", "min", "max", "count"):
                if s in res:
                    columns[f"{n}_{s}"] = res[s]
            if "mean" in res:
                columns[f"{n}_share"] = res["mean"]
        out = pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)
    finally:
        for ds in opened.values():
            ds.close()
    return out
