"""Import plots from a file: a dry run that says what would happen, then an all-or-nothing write.

::

    report = plan_import(session, "kongsvinger.gpkg", kommune="3401", user="kari")
    report.counts          # {"create": 12, "update": 3, "unchanged": 40, "rejected": 1}
    report.rejected[0]     # feature 17: "The polygon is not valid: self-intersection at …"
    apply_import(session, report, "kari", allow_partial=True)   # writes the 15, skips the 1

The code follows the data, one module per step: ``readers`` read a file (with ``sosi``,
``csvwkt``, ``archives`` and ``limits``), ``mapping`` maps its columns, ``checking`` checks
geometries, values and kommune, ``matching`` finds the stored plot of each feature and what
changes, ``report`` holds the outcome (its words in both languages: ``messages``) and
``writing`` writes it. This module runs them in order; its public names are the ones callers
(the CLI, the web, scripts) import.

**Planning** (:func:`plan_import`) reads the file (``landreg.ingest.readers``), maps its columns
to the register's fields (:func:`resolve_mapping`: same-named columns, common Norwegian names,
or an explicit ``field=column`` mapping), and decides per feature: ``create``, ``update`` (with
the fields that change), ``unchanged`` or ``rejected`` (with every reason). It works on whole
columns, not feature by feature: one CRS transformation of the frame, shapely 2 array
predicates for validity, each distinct attribute value checked once with the same rules as the
registry (``landreg.registry.fields``), the kommune of every feature from ONE SQL query (the
geometries are COPYed into a temporary table and joined with the kommuner), and the existing
plots fetched in one more. Nothing is written.

**Matching.** A feature updates the plot with the same ``external_ref`` in the same kommune (the
kommune the geometry lies in). A row without ``external_ref`` but with ``landreg_id`` (as our
own exports carry) updates that plot if it is in the same kommune and has no external_ref
either; anything else is a new plot. Plots missing from the file are left alone: an import
never withdraws. A geometry counts as unchanged when it matches the stored one to within
:data:`GEOMETRY_TOLERANCE_M` (an export in EPSG:4326 and back moves vertices by millimetres).

**Empty cells** clear a nullable field (``description``, ``price_nok_m2`` …). In a field that
cannot be empty (``name``, ``arealformal``, ``plan_status``, ``availability``, ``published``) an
empty cell means "not given": a new plot gets the default (or is rejected for a missing
``name``/``arealformal``), an existing one keeps its value.

**Applying** (:func:`apply_import`) writes in one SAVEPOINT of the caller's transaction: all of
it or none of it. If any feature was rejected nothing is written unless ``allow_partial`` is
given. Rows go to the database with COPY into a temporary table and then one
``INSERT … SELECT`` / ``UPDATE … FROM`` per chunk; the history triggers fire for every row as
for any other write. An update only succeeds on the version the plan saw (optimistic locking,
as in ``registry.plots.update_plot``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
from pyproj import CRS
from sqlalchemy.orm import Session

from landreg.ingest.checking import (
    check_attributes,
    check_geometries,
    check_user,
    nothing_in_region,
    place,
)
from landreg.ingest.crs import parse_crs
from landreg.ingest.mapping import (
    ALIASES,
    IMPORT_FIELDS,
    NOT_MAPPED,
    PLAN_ID_COLUMNS,
    column_key,
    national_plan_id,
    resolve_mapping,
)
from landreg.ingest.matching import GEOMETRY_TOLERANCE_M, classify
from landreg.ingest.messages import Message
from landreg.ingest.readers import DEFAULT_LIMITS, MissingCRS, ReadLimits, Source, read_source
from landreg.ingest.report import (
    ACTIONS,
    FeatureResult,
    ImportConflict,
    ImportRejected,
    ImportReport,
    Notes,
    OutsideRegion,
    Progress,
    Reason,
)
from landreg.ingest.writing import CHUNK, apply_import
from landreg.registry.codes import normalise_kommunenummer


def plan_import(
    session: Session,
    source: str | Path | gpd.GeoDataFrame,
    *,
    kommune: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: object = None,
    user: str,
    layer: str | None = None,
    wkt_column: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    repair: bool = False,
    progress: Progress | None = None,
    name: str | None = None,
) -> ImportReport:
    """Work out what importing ``source`` would do, without writing anything (a dry run).

    Parameters
    ----------
    session:
        A session on the register (only read; a temporary table lives for the call).
    source:
        A file (see ``landreg.ingest.readers``) or a GeoDataFrame.
    kommune:
        The kommune the file is for: every plot must lie in it (by its larger part). Without
        it the kommune of each plot follows its geometry.
    mapping:
        ``{field: column}`` overriding the default column matching (:func:`resolve_mapping`).
    crs:
        The coordinates' CRS: overrides the file's own; required when it has none (CSV).
    user:
        Who imports (kept in the report; :func:`apply_import` records its own ``user``).
    layer, wkt_column, limits:
        Passed to :func:`landreg.ingest.readers.read_source`.
    repair:
        Repair invalid polygons (``make_valid``) instead of rejecting them.
    progress:
        Called as ``progress(stage, done, total)`` while the plan is made.
    name:
        The file's name as the user knows it (an upload's own name): messages and the report
        name it, never ``source`` (a temporary file on the server).

    Returns
    -------
    ImportReport
        Per feature ``create``/``update``/``unchanged``/``rejected`` with changes and reasons.

    Raises
    ------
    InvalidInput
        for an unreadable file, a bad mapping or kommune; :class:`InvalidCRS` when no CRS is
        known or when *no* feature lies in Norway in the CRS used (a wrong CRS, not bad rows).
    """
    user = check_user(user)
    notify = progress or (lambda stage, done, total: None)
    src = _source(source, crs, layer, wkt_column, limits, name)
    kommune = normalise_kommunenummer(kommune) if kommune not in (None, "") else None
    frame = src.frame.reset_index(drop=True)
    n = len(frame)
    notify("read", n, n)
    columns, ignored = resolve_mapping([c for c in frame.columns if c != "geometry"], mapping)
    notes = [Message(NOT_MAPPED[column_key(c)].format(column=c), f"imp_w_{column_key(c)}",
                     column=c) for c in ignored if column_key(c) in NOT_MAPPED]
    # Sparse: only features with something to say get an entry.
    reasons: Notes[Reason] = defaultdict(list)
    warnings: Notes[str] = defaultdict(list)

    geoms = check_geometries(frame.geometry, src, reasons, warnings, repair)
    notify("geometry", n, n)
    skips: dict[int, str] = {}
    values = check_attributes(frame, columns, reasons, skips)
    notify("attributes", n, n)
    outline: dict[int, int] = {}  # feature → plot with the same outline
    best = place(session, geoms, values.get("kommunenummer"), kommune, reasons, warnings,
                  outline)
    notify("kommune", n, n)
    nothing_in_region(src.name, geoms, reasons)
    if "plan_id" in values and str(columns["plan_id"]).lower() in PLAN_ID_COLUMNS:
        values["plan_id"] = national_plan_id(values["plan_id"], best)
    report = classify(session, src, kommune, columns, ignored, geoms, values, best, reasons,
                       warnings, skips, outline)
    notify("match", n, n)
    report.warnings.extend(notes)
    return report



def _source(source: Any, crs: object, layer: str | None, wkt_column: str | None,
            limits: ReadLimits, name: str | None) -> Source:
    if isinstance(source, gpd.GeoDataFrame):
        frame = source.rename_geometry("geometry") if source.geometry.name != "geometry" else source
        frame = frame.copy()
        if crs is not None and str(crs).strip():
            frame = frame.set_crs(parse_crs(crs), allow_override=True)
        if frame.crs is None:
            raise MissingCRS("The features have no coordinate reference system; give crs, e.g. "
                             "EPSG:25833.", field="crs")
        return Source(frame=frame, path=Path("<GeoDataFrame>"), format="GeoDataFrame",
                      layer=None, crs=CRS(frame.crs), declared_crs=CRS(frame.crs))
    return read_source(source, layer=layer, crs=crs, wkt_column=wkt_column, limits=limits,
                       name=name)



__all__ = [
    "ACTIONS", "ALIASES", "CHUNK", "FeatureResult", "GEOMETRY_TOLERANCE_M", "IMPORT_FIELDS",
    "ImportConflict", "ImportRejected", "ImportReport", "OutsideRegion", "Reason",
    "apply_import", "plan_import", "resolve_mapping",
]
