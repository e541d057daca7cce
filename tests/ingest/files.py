"""Build small plot files in every import format, in tmp_path, from a GeoDataFrame.

The plots are squares in EPSG:25833 placed at ``tests.helpers.INSIDE`` (inside a kommune, off
the demo plots); the writers reproject them to the CRS asked for. Column names are at most ten
characters so that the Shapefile keeps them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from tests.helpers import INSIDE, square_25833

FORMATS = ("gpkg", "shpzip", "geojson", "fgb", "csv")


def plots_frame(kommune: str = "3401", n: int = 3, *, prefix: str = "T", side: float = 60.0,
                **columns: list) -> gpd.GeoDataFrame:
    """``n`` squares of ``side`` m in a row inside ``kommune`` with ref, navn and formal."""
    x, y = INSIDE[kommune]
    data = {"ref": [f"{prefix}-{i + 1}" for i in range(n)],
            "navn": [f"Testtomt {prefix} {i + 1}" for i in range(n)],
            "formal": [1340] * n}
    data.update(columns)
    geoms = [square_25833(x + i * (side + 40), y - 600, side) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=25833)


def write(frame: gpd.GeoDataFrame, folder: Path, fmt: str, epsg: int = 25832,
          name: str = "tomter") -> Path:
    """Write ``frame`` (reprojected to ``epsg``) as ``fmt``; returns the file to import."""
    frame = frame.to_crs(epsg) if frame.crs is not None else frame
    if fmt == "gpkg":
        path = folder / f"{name}.gpkg"
        frame.to_file(path, layer=name, driver="GPKG")
    elif fmt == "shpzip":
        shp_dir = folder / f"{name}_shp"
        shp_dir.mkdir()
        frame.to_file(shp_dir / f"{name}.shp", driver="ESRI Shapefile")
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for part in sorted(shp_dir.iterdir()):
                z.write(part, part.name)
    elif fmt == "geojson":
        path = folder / f"{name}.geojson"
        frame.to_file(path, driver="GeoJSON")
    elif fmt == "fgb":
        path = folder / f"{name}.fgb"
        frame.to_file(path, driver="FlatGeobuf")
    elif fmt == "csv":
        path = folder / f"{name}.csv"
        table = pd.DataFrame(frame.drop(columns="geometry"))
        precision = 10 if epsg == 4326 else 4
        table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=precision)
        table.to_csv(path, index=False)
    else:  # pragma: no cover
        raise ValueError(fmt)
    return path
