"""CSV files with the geometry as WKT in one column, read by pandas (delimiter sniffed, UTF-8
or Windows-1252 as Excel writes it) so that a row with unreadable WKT is reported as a bad row
instead of silently losing its geometry. A CSV carries no CRS of its own.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from landreg.csvcells import unsafe_cell
from landreg.ingest.limits import NotSpatial, UnreadableFile
from landreg.ingest.messages import keyed

#: Column names tried, in order and ignoring case, for the WKT geometry of a CSV file.
WKT_COLUMNS: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom")


def read_csv(path: Path, wkt_column: str | None) -> gpd.GeoDataFrame:
    """The rows of a CSV file, their geometry from its WKT column (no CRS: the caller sets it)."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes (almost) anything
        raise UnreadableFile(f"{path.name} is not UTF-8 or Windows-1252 text.", field="file",
                             value=str(path))
    if "\x00" in content[:4096]:
        raise UnreadableFile(f"{path.name} could not be read: it is not a text (CSV) file.",
                             field="file", value=str(path))
    # WKT is full of commas: a semicolon or tab file is told apart by its header line.
    header = content.split("\n", 1)[0]
    sep = max((";", "\t", ","), key=header.count) if header else ","
    try:
        table = pd.read_csv(io.StringIO(content), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise UnreadableFile(f"{path.name} could not be read as CSV ({exc}).", field="file",
                             value=str(path)) from None
    table = table.map(unsafe_cell)  # our CSV exports quote formula-like text (csvcells)
    by_lower = {str(c).strip().lower(): c for c in table.columns}
    wanted = (wkt_column,) if wkt_column else WKT_COLUMNS
    column = next((by_lower[w.lower()] for w in wanted if w.lower() in by_lower), None)
    if column is None:
        cols = ", ".join(map(str, table.columns)) or "none"
        looked = f"a column {wkt_column!r}" if wkt_column else ", ".join(WKT_COLUMNS)
        raise keyed(NotSpatial(
            f"{path.name} has no WKT geometry column (looked for {looked}; its columns are "
            f"{cols}). Name the column with --wkt-column.",
            field="wkt_column", value=wkt_column,
        ), "imp_e_no_wkt_column", looked=", ".join(WKT_COLUMNS), columns=cols)
    text = table.pop(column).str.strip()
    geoms = shapely.from_wkt(text.where(text != "", None).to_numpy(), on_invalid="ignore")
    if len(table) and shapely.is_missing(geoms).all():
        raise NotSpatial(f"{path.name}: no row of column {column!r} holds readable WKT.",
                         field="wkt_column", value=str(column))
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index), crs=None)
