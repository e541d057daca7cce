"""Region-wide suitability: a profile applied to every cell, and candidate areas from it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize, shapes

from landreg.scoring.build import write_layer
from landreg.scoring.catalogue import LIMITS, Catalogue, Profile
from landreg.scoring.grid import Grid

# Hard limits that can be judged cell by cell (area limits need a whole area: candidates).
CELL_LIMITS = {k for k, (what, _kind) in LIMITS.items() if what != "area_daa"}


ROWS = 512  # rows per block: the surface is computed block by block to stay in cache


def _open_layer(path: Path):  # noqa: ANN202 - (dataset, array-like)
    from landreg.scoring.zonal import raw_view

    ds = rasterio.open(path)
    view = raw_view(ds)
    return ds, view


def suitability_surface(profile: Profile, catalogue: Catalogue, layer_paths: dict[str, Path],
                        out: Path | None = None,
                        region: np.ndarray | None = None) -> tuple[np.ndarray, Grid]:
    """Score 0–100 for every cell; NaN where a per-cell hard limit fails, data is missing or
    (when ``region`` is given) outside the region.

    Computed in blocks of ``ROWS`` rows straight from the memory-mapped layers, so a 94 M
    cell region at 10 m needs one float32 output array and little else.
    """
    needed = set(profile.weights) | {LIMITS[k][0] for k in profile.limits if k in CELL_LIMITS}
    opened = {c: _open_layer(layer_paths[c]) for c in sorted(needed)}
    try:
        ds0 = next(iter(opened.values()))[0]
        grid = Grid(ds0.transform.c, ds0.transform.f, ds0.width, ds0.height, ds0.transform.a)
        functions = {c: profile.value_function(catalogue.criteria[c]) for c in profile.weights}
        total = np.empty(grid.shape, dtype=np.float32)
        for r0 in range(0, grid.height, ROWS):
            r1 = min(r0 + ROWS, grid.height)
            blocks = {}
            for c, (ds, view) in opened.items():
                if view is not None:
                    blocks[c] = np.asarray(view[r0:r1])
                else:
                    blocks[c] = ds.read(1, window=((r0, r1), (0, grid.width)))
            acc = np.zeros((r1 - r0, grid.width), dtype=np.float32)
            for c, weight in profile.weights.items():
                acc += functions[c](blocks[c]) * np.float32(weight)
            keep = np.ones(acc.shape, dtype=bool) if region is None else region[r0:r1].copy()
            for name, bound in profile.limits.items():
                if name not in CELL_LIMITS:
                    continue
                what, kind = LIMITS[name]
                raw = blocks[what]
                keep &= (raw <= bound) if kind == "max" else (raw >= bound)
            acc[~keep] = np.nan
            total[r0:r1] = acc
    finally:
        for ds, _view in opened.values():
            ds.close()
    if out is not None:
        write_layer(Path(out), total, grid)
    return total, grid


def candidate_areas(surface: np.ndarray, grid: Grid, profile: Profile, threshold: float,
                    plots: gpd.GeoDataFrame, kommuner: gpd.GeoDataFrame,
                    max_features: int | None = None) -> gpd.GeoDataFrame:
    """Connected land scoring ≥ ``threshold``, outside existing plots, ≥ the profile's minimum
    area: "the best-suited land regardless of borders", zoned or not. With ``max_features``
    only that many areas (the best-scoring) are turned into polygons and returned.

    Returns polygons (EPSG:25833) with ``score`` (mean), ``area_daa``, ``kommunenummer`` (the
    kommune holding the larger part) and ``kommuner`` (every kommune it touches).
    """
    mask = np.nan_to_num(surface, nan=-1.0) >= threshold
    if len(plots):
        taken = rasterize(((g, 1) for g in plots.geometry), out_shape=grid.shape,
                          transform=grid.transform, all_touched=True, dtype="uint8")
        mask &= taken == 0
    from scipy import ndimage  # candidate areas only: scipy is no load of every worker

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return _empty()
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    sums = np.bincount(labels.ravel(), weights=np.nan_to_num(surface, nan=0.0).ravel(),
                       minlength=n + 1)
    cell_daa = grid.res * grid.res / 1000.0
    min_daa = profile.limits.get("min_area_daa", 0.0)
    max_daa = profile.limits.get("max_area_daa", np.inf)
    ok = (counts * cell_daa >= max(min_daa, cell_daa)) & (counts * cell_daa <= max_daa)
    ok[0] = False
    keep_ids = np.flatnonzero(ok)
    if max_features is not None and keep_ids.size > max_features:
        mean = sums[keep_ids] / counts[keep_ids]
        keep_ids = np.sort(keep_ids[np.argsort(-mean, kind="stable")[:max_features]])
    if keep_ids.size == 0:
        return _empty()
    kept = np.where(np.isin(labels, keep_ids), labels, 0).astype(np.int32)
    geoms, ids = [], []
    for geom, value in shapes(kept, mask=kept > 0, transform=grid.transform, connectivity=8):
        geoms.append(shapely.geometry.shape(geom))
        ids.append(int(value))
    frame = gpd.GeoDataFrame({"label": ids}, geometry=geoms, crs=25833).dissolve("label")
    frame["score"] = sums[frame.index] / counts[frame.index]
    frame["area_daa"] = frame.geometry.area / 1000.0
    inter = gpd.overlay(frame.reset_index()[["label", "geometry"]],
                        kommuner[["kommunenummer", "geometry"]], how="intersection",
                        keep_geom_type=True)
    inter["a"] = inter.geometry.area
    best = inter.sort_values("a", ascending=False).drop_duplicates("label").set_index("label")
    frame["kommunenummer"] = best["kommunenummer"].reindex(frame.index)
    frame["kommuner"] = inter.groupby("label")["kommunenummer"].apply(
        lambda s: ",".join(sorted(set(s)))).reindex(frame.index)
    frame = frame.sort_values("score", ascending=False).reset_index(drop=True)
    frame["id"] = [f"{profile.id}-{i + 1}" for i in range(len(frame))]
    return frame[["id", "score", "area_daa", "kommunenummer", "kommuner", "geometry"]]


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [], "score": [], "area_daa": [], "kommunenummer": [],
                             "kommuner": []}, geometry=[], crs=25833)
