"""Synthetic rasters, catalogues and profiles for the scoring tests (no database needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from affine import Affine

REPO = Path(__file__).resolve().parents[2]
GPKG = REPO / "layers" / "sources" / "glamdalen_n1000.gpkg"

#: A 10 m grid of 20 × 20 cells with its top-left corner at (300000, 6700200) in EPSG:25833.
X0, Y1, RES, N = 300000.0, 6700200.0, 10.0, 20
TRANSFORM = Affine(RES, 0.0, X0, 0.0, -RES, Y1)


def write_raster(path: Path, array: np.ndarray, *, crs: str | None = "EPSG:25833",
                 transform: Affine = TRANSFORM, nodata: float | None = np.nan) -> Path:
    """Write a single-band float32 GeoTIFF."""
    profile = {"driver": "GTiff", "height": array.shape[0], "width": array.shape[1],
               "count": 1, "dtype": "float32", "transform": transform}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array.astype(np.float32), 1)
    return path


def cell_box(col0: float, row0: float, col1: float, row1: float):
    """A rectangle from (col0, row0) to (col1, row1) in cell units of the test grid."""
    from shapely.geometry import box

    return box(X0 + col0 * RES, Y1 - row1 * RES, X0 + col1 * RES, Y1 - row0 * RES)


def write_yaml(path: Path, data: dict) -> Path:
    """Dump ``data`` as YAML and return the path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def cols_raster(tmp_path: Path) -> Path:
    """Value = column index + 10 × row index (hand-checkable), no nodata."""
    rows, cols = np.mgrid[0:N, 0:N]
    return write_raster(tmp_path / "cols.tif", cols + 10.0 * rows)
