"""Synthetic rasters, plots and catalogues whose answers are known by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from shapely.geometry import box

from landreg.scoring.catalogue import Catalogue, Criterion, Profile

X0, Y1, RES = 300_000.0, 6_700_000.0, 10.0


def write_raster(path: Path, array: np.ndarray, *, crs: str | None = "EPSG:25833",
                 x0: float = X0, y1: float = Y1, res: float = RES,
                 nodata: float | None = float("nan")) -> Path:
    profile = {"driver": "GTiff", "height": array.shape[0], "width": array.shape[1],
               "count": 1, "dtype": "float32", "transform": Affine(res, 0, x0, 0, -res, y1),
               "nodata": nodata}
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array.astype(np.float32), 1)
    return path


def cell_box(col0: float, row0: float, col1: float, row1: float):
    """A box in map coordinates from fractional cell coordinates (col, row from top-left)."""
    return box(X0 + col0 * RES, Y1 - row1 * RES, X0 + col1 * RES, Y1 - row0 * RES)


def plots(*geoms, ids=None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ids or list(range(1, len(geoms) + 1))},
                            geometry=list(geoms), crs=25833)


def catalogue(**criteria: tuple[str, dict]) -> Catalogue:
    """``name=(statistic, value_function)`` → a catalogue of distance-like criteria."""
    cs = {n: Criterion(n, n, n, "m", "synthetic", {"kind": "distance", "layer": "x"}, stat, vf)
          for n, (stat, vf) in criteria.items()}
    return Catalogue(cs, Path("/nonexistent.gpkg"), "test")


def profile(weights: dict[str, float], limits: dict[str, float] | None = None,
            values: dict | None = None) -> Profile:
    return Profile("p", "p", "p", "", weights, values or {}, limits or {}, "p-1")
