"""Export the register (or a filtered part of it) as GeoPackage, GeoJSON, FlatGeobuf or CSV.

Every export has the same, fixed columns in the same order, whatever the format, so a file
from January and one from June line up column for column. The set follows the spirit of the UK
*brownfield land register* data standard (one row per site, the publishing organisation, a site
reference, a point for the site, the area, ownership and planning status, first/last updated)
but keeps landreg's own field names; the standard's name is given for each column. Areas are
dekar (daa, 1,000 m² = 0.1 ha), computed in EPSG:25833 whatever the output CRS.

=================  ========  ========  ================================  =========================
column             type      unit      meaning                           brownfield register
=================  ========  ========  ================================  =========================
landreg_id         integer             the plot's id in landreg          –
kommunenummer      text                kommune keeping the plot (2020–)  OrganisationURI
kommunenavn        text                the kommune's name                OrganisationLabel
external_ref       text                the kommune's own reference       SiteReference
name               text                the plot's name or address        SiteNameAddress
crs                text                CRS of geometry and centroid      CoordinateReferenceSystem
centroid_x         real      CRS unit  easting/longitude of centroid     GeoX
centroid_y         real      CRS unit  northing/latitude of centroid     GeoY
area_daa           real      daa       area; 1 daa = 1,000 m² = 0.1 ha   Hectares (÷ 10)
arealformal        integer             land-use purpose (arealformål)    DevelopmentDescription
arealformal_name   text                the code's Norwegian name         DevelopmentDescription
purpose_group      text                industri, lager_logistikk, …      NonHousingDevelopment
plan_status        text                nåværende or framtidig            PlanningStatus
plan_id            text                national plan id                  PlanningHistory
plan_name          text                the plan's name (plannavn)        –
plan_legal_status  text                vedtatt, forslag, … (planstatus)  PlanningStatus
ownership          text                kommunal, privat, statlig, annen  OwnershipStatus
availability       text                ledig, reservert, solgt, …        Deliverable
road_access        boolean             road access in place              SiteInformation
water_sewer        boolean             water and sewer in place          SiteInformation
byggeklar          boolean             road and water/sewer in place     SiteInformation
power_capacity_mw  real      MW        power capacity available          –
price_nok_m2       real      NOK/m²    asking price                      –
max_bya_pct        real      % BYA     maximum built-up area             –
max_height_m       real      m         maximum building height           –
contact            text                who to contact                    –
description        text                public description                Notes
version            integer             version, bumped by every change   –
updated_at         datetime            last change (ISO 8601, UTC)       LastUpdatedDate
published          boolean             *internal*: shown to the public   –
internal_notes     text                *internal*: planners' notes       –
created_by         text                *internal*: who added the plot    –
created_at         datetime            *internal*: when it was added     FirstAddedDate
updated_by         text                *internal*: who changed it last   –
withdrawn_reason   text                *internal*: why it was withdrawn  –
=================  ========  ========  ================================  =========================

The list is :data:`EXPORT_COLUMNS`. A **public** export (the default) has only the public
columns and only published, not withdrawn plots — the rule of every public output
(``registry.fields``). An internal (planner) export adds the columns marked *internal* and
every plot the query matches.

The CSV holds the columns above and the geometry as WKT in a last column ``wkt`` (UTF-8 with a
byte-order mark, so Excel shows æøå); text a spreadsheet would run as a formula starts with
``'`` (``landreg.csvcells``), which ``landreg import`` strips again. A GeoPackage carries a
QGIS style (``landreg/data/qgis_style.qml``: colours by availability, names as labels) in the
standard ``layer_styles`` table, so QGIS opens the layer styled. The file is written under a
temporary name beside the target and renamed when complete: a failed export leaves no
half-written file.
Everything a file needs to be imported again is in it: ``landreg import`` maps these columns
back by name, so an export → import round trip reports every plot unchanged.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from landreg.csvcells import safe_cell
from landreg.errors import InvalidInput
from landreg.ingest.crs import OUTPUT_EPSG
from landreg.models import Arealformal, Municipality, Plot
from landreg.registry.fields import PUBLIC_FIELDS
from landreg.registry.search import SORT_KEYS, PlotQuery
from landreg.registry.search import _conditions as search_conditions  # the same filters

STYLE_FILE = Path(__file__).resolve().parent.parent / "data" / "qgis_style.qml"
#: The layer name in GeoPackage and FlatGeobuf exports.
LAYER = "plots"
#: Suffix → (format name, GDAL driver; None for CSV, which pandas writes).
FORMATS: dict[str, tuple[str, str | None]] = {
    ".gpkg": ("GeoPackage", "GPKG"),
    ".geojson": ("GeoJSON", "GeoJSON"),
    ".fgb": ("FlatGeobuf", "FlatGeobuf"),
    ".csv": ("CSV", None),
}


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export.

    Attributes
    ----------
    name, kind, unit, meaning:
        The column, its type (text, integer, real, boolean, datetime), unit and meaning.
    blr:
        The matching field of the UK brownfield land register data standard, if any.
    source:
        The plot field it shows (as named in ``fields.PUBLIC_FIELDS``/``INTERNAL_FIELDS``),
        or None for a value computed for the export (crs, centroid).
    """

    name: str
    kind: str
    unit: str | None
    meaning: str
    blr: str | None
    source: str | None

    @property
    def public(self) -> bool:
        """True when the column may be in a public export (its source field is public)."""
        return self.source is None or self.source in PUBLIC_FIELDS


def _c(name: str, kind: str, meaning: str, blr: str | None = None, unit: str | None = None,
       source: str | None = "") -> ExportColumn:
    return ExportColumn(name, kind, unit, meaning, blr, name if source == "" else source)


#: The fixed column set, in order (the table in the module docstring).
EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    _c("landreg_id", "integer", "the plot's id in landreg", source="id"),
    _c("kommunenummer", "text", "the kommune that keeps the plot", "OrganisationURI"),
    _c("kommunenavn", "text", "the kommune's name", "OrganisationLabel"),
    _c("external_ref", "text", "the kommune's own reference", "SiteReference"),
    _c("name", "text", "the plot's name or address", "SiteNameAddress"),
    _c("crs", "text", "CRS of geometry and centroid", "CoordinateReferenceSystem", source=None),
    _c("centroid_x", "real", "x/longitude of the centroid", "GeoX", "CRS unit", source=None),
    _c("centroid_y", "real", "y/latitude of the centroid", "GeoY", "CRS unit", source=None),
    _c("area_daa", "real", "area", "Hectares (÷ 10)", "daa"),
    _c("arealformal", "integer", "land-use purpose code", "DevelopmentDescription"),
    _c("arealformal_name", "text", "the code's name", "DevelopmentDescription"),
    _c("purpose_group", "text", "landreg purpose group", "NonHousingDevelopment"),
    _c("plan_status", "text", "nåværende or framtidig", "PlanningStatus"),
    _c("plan_id", "text", "national plan id", "PlanningHistory"),
    _c("plan_name", "text", "the plan's name (plannavn)"),
    _c("plan_legal_status", "text", "vedtatt, forslag, … (planstatus)", "PlanningStatus"),
    _c("ownership", "text", "kommunal, privat, statlig, annen", "OwnershipStatus"),
    _c("availability", "text", "ledig, reservert, under_forhandling, …", "Deliverable"),
    _c("road_access", "boolean", "road access in place", "SiteInformation"),
    _c("water_sewer", "boolean", "water and sewer in place", "SiteInformation"),
    _c("byggeklar", "boolean", "road and water/sewer in place", "SiteInformation"),
    _c("power_capacity_mw", "real", "power capacity", unit="MW"),
    _c("price_nok_m2", "real", "asking price", unit="NOK/m²"),
    _c("max_bya_pct", "real", "maximum built-up area", unit="% BYA"),
    _c("max_height_m", "real", "maximum building height", unit="m"),
    _c("contact", "text", "who to contact"),
    _c("description", "text", "public description", "Notes"),
    _c("version", "integer", "the plot's version"),
    _c("updated_at", "datetime", "last change", "LastUpdatedDate"),
    _c("published", "boolean", "shown to the public"),
    _c("internal_notes", "text", "planners' notes"),
    _c("created_by", "text", "who added the plot"),
    _c("created_at", "datetime", "when it was added", "FirstAddedDate"),
    _c("updated_by", "text", "who changed it last"),
    _c("withdrawn_reason", "text", "why it was withdrawn"),
)
_DTYPES = {"integer": "Int64", "real": "Float64", "boolean": "boolean"}


def export_columns(*, public: bool = True) -> list[ExportColumn]:
    """The columns of a public (default) or internal export, in order."""
    return [c for c in EXPORT_COLUMNS if c.public or not public]


@dataclass
class ExportResult:
    """What was written: the file, its format and CRS, how many plots, which columns."""

    path: Path
    format: str
    srid: int
    count: int
    columns: list[str]


def export_plots(
    session: Session,
    path: str | Path,
    query: PlotQuery | None = None,
    *,
    srid: int = 25833,
    public: bool = True,
    overwrite: bool = False,
) -> ExportResult:
    """Write the plots matching ``query`` to ``path``; the suffix picks the format.

    Parameters
    ----------
    session:
        A session on the register (only read).
    path:
        ``.gpkg``, ``.geojson``, ``.fgb`` or ``.csv``.
    query:
        Filters, as for ``search_plots``; its ``sort`` orders the rows; ``limit`` and
        ``offset`` are ignored (an export holds every match). Default: every plot.
    srid:
        4326, 25832 or 25833 (the default: the stored CRS, coordinates leave unchanged).
    public:
        Only published plots and public columns (the default). False: a planner's export,
        with the internal columns too.
    overwrite:
        Replace an existing file (otherwise an existing file is an error).

    Returns
    -------
    ExportResult

    Examples
    --------
    >>> export_plots(session, "ledig_industri.gpkg",
    ...              PlotQuery(availability=["ledig"], purpose_groups=["industri"]))
    ... # doctest: +SKIP
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"Cannot export to {path.name}: give a file name ending in {', '.join(FORMATS)} "
            "(GeoPackage, GeoJSON, FlatGeobuf or CSV).",
            field="path", value=str(path),
        )
    if srid not in OUTPUT_EPSG:
        raise InvalidInput(f"Exports are offered in EPSG:4326, 25832 or 25833, not {srid}.",
                           field="crs", value=srid)
    if path.exists() and not overwrite:
        raise InvalidInput(f"{path} exists already: choose another name, or overwrite it.",
                           field="path", value=str(path))
    if not path.parent.is_dir():
        raise InvalidInput(f"The folder {path.parent} does not exist.", field="path",
                           value=str(path))
    query = query or PlotQuery()
    query.validate()
    frame = plot_frame(session, query, srid=srid, public=public)
    fmt, driver = FORMATS[suffix]
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{suffix}")
    try:
        if driver is None:
            _write_csv(frame, tmp, srid)
        else:
            _write_ogr(frame, tmp, driver, srid)
            if driver == "GPKG":
                add_qgis_style(tmp, LAYER)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportResult(path=path, format=fmt, srid=srid, count=len(frame),
                        columns=[c for c in frame.columns if c != "geometry"])


def plot_frame(session: Session, query: PlotQuery, *, srid: int = 25833,
               public: bool = True) -> gpd.GeoDataFrame:
    """The plots matching ``query`` with the export columns, from one SQL query.

    Geometries and centroids are transformed by PostGIS; rows are in ``query.sort`` order.
    """
    centroid = func.ST_Transform(func.ST_Centroid(Plot.geom), srid)
    computed = {
        "landreg_id": Plot.id,
        "kommunenavn": Municipality.name,
        "arealformal_name": Arealformal.name_nb,
        "centroid_x": func.ST_X(centroid),
        "centroid_y": func.ST_Y(centroid),
        "byggeklar": and_(func.coalesce(Plot.road_access, False),
                          func.coalesce(Plot.water_sewer, False)),
    }
    columns = export_columns(public=public)
    selected = [(computed[c.name] if c.name in computed else getattr(Plot, c.name)).label(c.name)
                for c in columns if c.name != "crs"]
    order = []
    for key in query.sort:
        col = SORT_KEYS[key.lstrip("-")]
        order.append(col.desc().nulls_last() if key.startswith("-") else col.asc().nulls_last())
    stmt = (
        select(*selected, func.ST_AsBinary(func.ST_Transform(Plot.geom, srid)).label("wkb"))
        .join(Municipality, Municipality.kommunenummer == Plot.kommunenummer)
        .join(Arealformal, Arealformal.code == Plot.arealformal)
        .where(*search_conditions(query, public))
        .order_by(*order, Plot.id)
    )
    rows = session.execute(stmt).all()
    table = pd.DataFrame(rows, columns=[*(c.name for c in columns if c.name != "crs"), "wkb"],
                         dtype=object)
    geometry = shapely.from_wkb(table.pop("wkb").to_numpy(dtype=object))
    table["crs"] = f"EPSG:{srid}"
    digits = 7 if srid == 4326 else 2  # ~1 cm either way
    for c in columns:
        values = table[c.name]
        if c.kind == "datetime":
            table[c.name] = pd.to_datetime(values, utc=True)
        elif c.kind == "text":
            table[c.name] = values.where(values.notna(), None).astype(object)
        elif c.kind == "real":
            table[c.name] = pd.array([None if v is None else float(v) for v in values],
                                     dtype="Float64")
        else:
            table[c.name] = pd.array(values.tolist(), dtype=_DTYPES[c.kind])
    table["area_daa"] = table["area_daa"].round(3)
    table["centroid_x"] = table["centroid_x"].round(digits)
    table["centroid_y"] = table["centroid_y"].round(digits)
    table = table[[c.name for c in columns]]
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, index=table.index),
                            crs=f"EPSG:{srid}")


def _write_ogr(frame: gpd.GeoDataFrame, path: Path, driver: str, srid: int) -> None:
    options: dict[str, str] = {}
    if driver == "GeoJSON" and srid == 4326:
        options["RFC7946"] = "YES"  # plain longitude/latitude GeoJSON, 7 decimals (~1 cm)
    pyogrio.write_dataframe(frame, path, layer=LAYER, driver=driver,
                            geometry_type="MultiPolygon", promote_to_multi=True,
                            layer_options=options or None)


def _write_csv(frame: gpd.GeoDataFrame, path: Path, srid: int) -> None:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    for name in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[name]):
            table[name] = [None if pd.isna(t) else t.isoformat() for t in table[name]]
        elif not pd.api.types.is_numeric_dtype(table[name]):
            table[name] = table[name].map(safe_cell)  # text only: -1.5 stays a number
    precision = 9 if srid == 4326 else 3  # 0.1 mm in degrees, 1 mm in metres
    table["wkt"] = shapely.to_wkt(np.asarray(frame.geometry.array, dtype=object),
                                  rounding_precision=precision, trim=True)
    table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def add_qgis_style(gpkg: str | Path, layer: str, *, qml: str | None = None,
                   name: str = "landreg") -> None:
    """Store a QGIS style for ``layer`` in the GeoPackage's ``layer_styles`` table.

    The table has the schema QGIS creates and reads (QGIS applies the default style of a
    layer when it is opened) and is registered in ``gpkg_contents`` as an attributes table,
    as the GeoPackage standard asks. The new style becomes the layer's default.
    """
    qml = qml if qml is not None else STYLE_FILE.read_text(encoding="utf-8")
    with sqlite3.connect(gpkg) as db:
        geom_col = db.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                              (layer,)).fetchone()
        db.execute("""
            CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
                f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
                f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
                useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))""")
        db.execute("""
            INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change)
            SELECT 'layer_styles', 'attributes', 'layer_styles',
                   strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')""")
        db.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (layer,))
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'landreg', NULL)",
            (layer, geom_col[0] if geom_col else "geom", name, qml,
             "Business plots by availability (landreg)"),
        )
    db.close()


__all__ = [
    "EXPORT_COLUMNS", "ExportColumn", "ExportResult", "FORMATS", "LAYER", "add_qgis_style",
    "export_columns", "export_plots", "plot_frame",
]
