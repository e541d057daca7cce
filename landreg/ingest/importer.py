"""Import plots from a file: a dry run that says what would happen, then an all-or-nothing write.

::

    report = plan_import(session, "kongsvinger.gpkg", kommune="3401", user="kari")
    report.counts          # {"create": 12, "update": 3, "unchanged": 40, "rejected": 1}
    report.rejected[0]     # feature 17: "The polygon is not valid: self-intersection at …"
    apply_import(session, report, "kari", allow_partial=True)   # writes the 15, skips the 1

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

import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from pyproj import CRS
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from landreg.errors import InvalidCRS, InvalidInput, LandregError, StaleVersion
from landreg.ingest.crs import NORWAY_25833, STORE_EPSG, guess_crs, parse_crs
from landreg.ingest.readers import DEFAULT_LIMITS, MissingCRS, ReadLimits, Source, read_source
from landreg.models import Plot
from landreg.registry.codes import REGION_KOMMUNER, NotBusinessLand, normalise_kommunenummer
from landreg.registry.fields import (
    EDITABLE_FIELDS,
    REQUIRED_ON_CREATE,
    clean_attributes,
    parse_number,
)
from landreg.registry.placement import FOREIGN_TOLERANCE, OUTSIDE_TOLERANCE

#: ``skipped``: an area that is not business land (a road, housing, LNFR …) in a mixed plan.
ACTIONS = ("create", "update", "unchanged", "skipped", "rejected")
#: Largest vertex displacement (metres, EPSG:25833) that still counts as the same geometry.
GEOMETRY_TOLERANCE_M = 0.05
#: Rows written per COPY + INSERT/UPDATE round (and per progress step).
CHUNK = 10_000
#: Fields an import can set: the editable ones, and ``landreg_id`` to match our own exports.
IMPORT_FIELDS: tuple[str, ...] = (*EDITABLE_FIELDS, "landreg_id")
#: Column names recognised for each field besides its own name. Compared without case, accents
#: (æ→ae, ø→o, å→a) or punctuation, so ``Arealformål``, ``AREALFORMAL`` and ``areal_formal`` match.
ALIASES: dict[str, tuple[str, ...]] = {
    # A plan's own identity first: NPAD lokalId (identifikasjon), SOSI ..IDENT/..LOKALID.
    "external_ref": ("ekstern_ref", "ekstern_id", "referanse", "ref", "site_reference",
                     "lokalid", "identifikasjon_lokalid", "identifikasjon"),
    "name": ("navn", "tomtenavn", "områdenavn", "site_name_address", "feltnavn",
             "feltbetegnelse"),
    "kommunenummer": ("kommunenr", "kommune_nr", "knr", "komm"),
    "arealformal": ("arealformål", "arealformaal", "formål", "formaal", "formal",
                    "rp_arealformål", "kp_arealformål"),
    # Kommuneplan arealbruksstatus 1 nåværende / 2 framtidig. A plan's ``planstatus`` is its
    # legal status (plan_legal_status), never nåværende/framtidig.
    "plan_status": ("status", "arealbruksstatus", "arealstatus"),
    "plan_id": ("planid", "planident", "planidentifikasjon", "arealplan_id"),
    "plan_name": ("plannavn",),
    "plan_legal_status": ("planstatus", "planstat", "plan_juridisk_status"),
    "availability": ("tilgjengelighet", "ledighet", "salgsstatus"),
    "road_access": ("vegtilkomst", "veitilkomst", "adkomst", "atkomst"),
    "water_sewer": ("vann_avløp", "vann_og_avløp", "va"),
    "power_capacity_mw": ("effekt_mw", "kapasitet_mw", "strøm_mw", "kraft_mw"),
    # Not ``eierform``: in a plan that is 1 offentlig / 2 felles / 3 annen (who the area is
    # for), not who owns the plot. It is left out with a note (:data:`NOT_MAPPED`).
    "ownership": ("eierskap", "eier"),
    "price_nok_m2": ("pris_kr_m2", "pris_nok_m2", "pris_m2", "pris"),
    "max_bya_pct": ("bya", "bya_pct", "maks_bya", "maks_bya_pct"),
    "max_height_m": ("maks_høyde", "maks_hoyde_m", "byggehøyde", "høyde"),
    "contact": ("kontakt", "kontaktperson", "epost"),
    "description": ("beskrivelse", "omtale"),
    "internal_notes": ("internt_notat", "interne_notater", "notat"),
    "published": ("publisert", "publiser"),
}
#: Plan attributes that look like a field but mean something else: column key → the note.
NOT_MAPPED: dict[str, str] = {
    "eierform": ("{column}: the plan's eierform (1 offentlig, 2 felles, 3 annen) says whom an "
                 "area is for, not who owns the plot; it is not imported as ownership."),
}
#: Plan-id columns as national plans name them: the plan id is unique within its kommune
#: only, so the register stores ``<kommunenummer>_<planidentifikasjon>``.
PLAN_ID_COLUMNS = frozenset({"planidentifikasjon", "planid", "planident"})
#: Kommuneplan status codes (1 nåværende, 2 framtidig) and spellings without æ/å.
_PLAN_STATUS = {"1": "nåværende", "2": "framtidig", "navarende": "nåværende",
                "naavaerende": "nåværende", "naverende": "nåværende", "navaerende": "nåværende"}
_NOT_NULL = frozenset(c.name for c in Plot.__table__.c if not c.nullable)
#: Fields that ``registry.fields`` checks as free text (length only).
_TEXT_FIELDS = frozenset({"external_ref", "name", "plan_id", "contact", "description",
                          "internal_notes"})
_FLOAT_FIELDS = frozenset({"power_capacity_mw", "max_bya_pct", "max_height_m"})
_STAGE_GEOM = "landreg_import_geom"
_STAGE_ROWS = "landreg_import_rows"

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
Notes = defaultdict[int, list[T]]


class ImportRejected(InvalidInput):
    """Raised when an import with rejected features is applied without ``allow_partial``."""

    code = "import_rejected"

    def __init__(self, report: ImportReport) -> None:
        rejected = report.counts["rejected"]
        super().__init__(
            f"{rejected} of {len(report)} features were rejected, so nothing was "
            "written. Fix them, or import the others with --allow-partial.",
            details={"counts": report.counts},
        )
        self.report = report


class OutsideRegion(InvalidInput):
    """Raised when no feature of a file lies in the region (the wrong file, not bad rows)."""

    code = "outside_region"


class ImportConflict(LandregError):
    """Raised when the register changed between planning an import and applying it."""

    code = "import_conflict"


@dataclass(frozen=True)
class Reason:
    """Why a feature was rejected: an error code, the field concerned and a message."""

    code: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class FeatureResult:
    """What the import does with one feature (``row`` is its 1-based position in the file)."""

    row: int
    action: str
    external_ref: str | None = None
    name: str | None = None
    kommunenummer: str | None = None
    plot_id: int | None = None
    changes: tuple[str, ...] = ()
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {"row": self.row, "action": self.action,
                               "external_ref": self.external_ref, "name": self.name,
                               "kommunenummer": self.kommunenummer, "plot_id": self.plot_id}
        if self.changes:
            out["changes"] = list(self.changes)
        if self.reasons:
            out["reasons"] = [{"code": r.code, "field": r.field, "message": r.message}
                              for r in self.reasons]
        if self.warnings:
            out["warnings"] = self.warnings
        if self.skipped:
            out["skipped"] = self.skipped
        return out


@dataclass
class ImportReport:
    """The plan of an import: per feature what would happen, and the rows to write.

    Attributes
    ----------
    source, format, layer, crs:
        The file, its format, layer and the CRS its coordinates were read in.
    kommune:
        The kommune the import is for (every plot must lie in it), or None.
    mapping:
        Field → source column actually used; ``ignored_columns`` are the columns not used.
    warnings:
        File-level notes (e.g. a ``crs`` that overrode the file's own).
    applied:
        True once :func:`apply_import` has written it.

    The per-feature results are kept as columns (a 100,000-feature import makes no 100,000
    objects until asked): :attr:`features`, :meth:`by_action` and :attr:`rejected` build
    :class:`FeatureResult` objects on demand; :attr:`counts` does not.
    """

    source: str
    format: str
    layer: str | None
    crs: str
    kommune: str | None
    mapping: dict[str, str]
    ignored_columns: list[str]
    warnings: list[str] = field(default_factory=list)
    applied: bool = False
    _table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _changes: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _reasons: dict[int, list[Reason]] = field(default_factory=dict, repr=False)
    _notes: dict[int, list[str]] = field(default_factory=dict, repr=False)
    _rows: pd.DataFrame | None = field(default=None, repr=False)
    _fields: tuple[str, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return len(self._table)

    @property
    def counts(self) -> dict[str, int]:
        """Number of features per action (every action listed, zeros included)."""
        out = dict.fromkeys(ACTIONS, 0)
        if len(self._table):
            out.update(self._table["action"].value_counts().to_dict())
        return out

    @property
    def skipped_by_code(self) -> dict[str, int]:
        """Skipped areas per arealformål: ``{"2011 Kjøreveg: ikke næringsareal": 14, …}``."""
        if not len(self._table) or "skip" not in self._table:
            return {}
        counts = self._table["skip"].dropna().value_counts()
        return {str(k): int(v) for k, v in sorted(counts.items())}

    @property
    def features(self) -> list[FeatureResult]:
        """One :class:`FeatureResult` per feature, in file order."""
        return [self._feature(i) for i in range(len(self._table))]

    @property
    def rejected(self) -> list[FeatureResult]:
        """The rejected features, in file order."""
        return self.by_action("rejected")

    def by_action(self, action: str) -> list[FeatureResult]:
        """The features with ``action`` (create, update, unchanged or rejected), in file order."""
        if action not in ACTIONS:
            raise InvalidInput(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}.")
        if not len(self._table):
            return []
        return [self._feature(i) for i in np.flatnonzero(self._table["action"] == action)]

    def with_warnings(self) -> list[FeatureResult]:
        """The features with a warning (a border crossing, a repaired polygon …)."""
        return [self._feature(i) for i in sorted(self._notes)]

    def _feature(self, i: int) -> FeatureResult:
        r = self._table.iloc[i]
        return FeatureResult(
            row=int(i) + 1, action=r["action"], external_ref=_none(r["external_ref"]),
            name=_none(r["name"]), kommunenummer=_none(r["kommunenummer"]),
            plot_id=None if _none(r["plot_id"]) is None else int(r["plot_id"]),
            changes=self._changes.get(i, ()), reasons=self._reasons.get(i, []),
            warnings=self._notes.get(i, []),
            skipped=_none(r["skip"]) if "skip" in r else None)

    def to_dict(self, *, max_features: int | None = None) -> dict[str, Any]:
        """A JSON-ready summary; ``max_features`` caps the per-feature list."""
        n = len(self._table) if max_features is None else min(max_features, len(self._table))
        return {"source": self.source, "format": self.format, "layer": self.layer,
                "crs": self.crs, "kommune": self.kommune, "mapping": self.mapping,
                "ignored_columns": self.ignored_columns, "counts": self.counts,
                "skipped_by_code": self.skipped_by_code,
                "warnings": self.warnings, "applied": self.applied,
                "features": [self._feature(i).to_dict() for i in range(n)]}


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


# --- column mapping -----------------------------------------------------------------------


def _key(name: object) -> str:
    t = str(name).strip().lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(c for c in t if c.isalnum())


def resolve_mapping(
    columns: Sequence[object], mapping: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Decide which source column feeds which field.

    Parameters
    ----------
    columns:
        The source's attribute columns.
    mapping:
        Explicit ``field → column`` choices; they win over the defaults. The field may be
        given by a Norwegian alias (``arealformål=FORMAL``); an empty column (``status=``)
        switches a default off. Column names are matched exactly, then ignoring case.

    Returns
    -------
    tuple
        ``{field: column}`` and the list of columns not used.
    """
    cols = [str(c) for c in columns]
    by_key: dict[str, str] = {}
    for c in cols:
        by_key.setdefault(_key(c), c)
    field_by_key = {_key(f): f for f in IMPORT_FIELDS}
    for f, aliases in ALIASES.items():
        for a in aliases:
            field_by_key.setdefault(_key(a), f)
    chosen: dict[str, str] = {}
    off: set[str] = set()
    for given_field, column in (mapping or {}).items():
        f = field_by_key.get(_key(given_field))
        if f is None:
            raise InvalidInput(
                f"Unknown field {given_field!r} in the mapping. "
                f"Fields: {', '.join(IMPORT_FIELDS)}.",
                field="mapping", value=given_field,
            )
        if column is None or not str(column).strip():
            off.add(f)
            continue
        found = column if column in cols else next(
            (c for c in cols if c.lower() == str(column).lower()), None)
        if found is None:
            raise InvalidInput(
                f"The mapping {given_field}={column} names a column the file does not have. "
                f"Its columns are: {', '.join(cols) or 'none'}.",
                field="mapping", value=column,
            )
        chosen[f] = found
    used = set(chosen.values())
    alias_of = {_key(a): f for f, aliases in ALIASES.items() for a in aliases}
    for f in IMPORT_FIELDS:
        if f in chosen or f in off:
            continue
        for alias in (f, *ALIASES.get(f, ())):
            c = by_key.get(_key(alias))
            if (alias == f and c is not None and alias_of.get(_key(c), f) != f
                    and c.lower() != f):
                continue  # "planstatus" is plan_legal_status's, though it looks like plan_status
            if c is not None and c not in used:
                chosen[f] = c
                used.add(c)
                break
    return chosen, [c for c in cols if c not in used]


# --- planning -----------------------------------------------------------------------------


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
    user = _user(user)
    notify = progress or (lambda stage, done, total: None)
    src = _source(source, crs, layer, wkt_column, limits, name)
    kommune = normalise_kommunenummer(kommune) if kommune not in (None, "") else None
    frame = src.frame.reset_index(drop=True)
    n = len(frame)
    notify("read", n, n)
    columns, ignored = resolve_mapping([c for c in frame.columns if c != "geometry"], mapping)
    notes = [NOT_MAPPED[_key(c)].format(column=c) for c in ignored if _key(c) in NOT_MAPPED]
    # Sparse: only features with something to say get an entry.
    reasons: Notes[Reason] = defaultdict(list)
    warnings: Notes[str] = defaultdict(list)

    geoms = _geometries(frame.geometry, src, reasons, warnings, repair)
    notify("geometry", n, n)
    skips: dict[int, str] = {}
    values = _attributes(frame, columns, reasons, skips)
    notify("attributes", n, n)
    outline: dict[int, int] = {}  # feature → plot with the same outline
    best = _place(session, geoms, values.get("kommunenummer"), kommune, reasons, warnings,
                  outline)
    notify("kommune", n, n)
    _nothing_in_region(src.name, geoms, reasons)
    if "plan_id" in values and str(columns["plan_id"]).lower() in PLAN_ID_COLUMNS:
        values["plan_id"] = _national_plan_id(values["plan_id"], best)
    report = _classify(session, src, kommune, columns, ignored, geoms, values, best, reasons,
                       warnings, skips, outline)
    notify("match", n, n)
    report.warnings.extend(notes)
    return report


def _national_plan_id(ids: np.ndarray, kommuner: np.ndarray) -> np.ndarray:
    """``planidentifikasjon`` → ``3401_2019003`` (the kommune the area lies in, then the id)."""
    out = ids.copy()
    for i, (pid, k) in enumerate(zip(ids, kommuner, strict=True)):
        if pid is not None and k is not None and not str(pid).startswith(f"{k}_"):
            out[i] = f"{k}_{pid}"[:100]
    return out


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


def _geometries(series: gpd.GeoSeries, src: Source, reasons: Notes[Reason],
                warnings: Notes[str], repair: bool) -> np.ndarray:
    """Valid MultiPolygons in EPSG:25833 (None where rejected), for the whole column at once."""
    raw = np.asarray(series.array, dtype=object)
    out = np.full(len(raw), None, dtype=object)
    types = shapely.get_type_id(raw)
    empty = shapely.is_missing(raw) | shapely.is_empty(raw)
    for i in np.flatnonzero(empty):
        reasons[i].append(Reason("invalid_geometry", "geometry", "The feature has no geometry."))
    wrong = ~empty & (types != 3) & (types != 6)
    for i in np.flatnonzero(wrong):
        reasons[i].append(Reason("invalid_geometry", "geometry",
                                 f"A plot must be a polygon or multipolygon, not a "
                                 f"{raw[i].geom_type}."))
    idx = np.flatnonzero(~empty & ~wrong)
    if len(idx) == 0:
        return out
    flat = raw[idx]
    if shapely.has_z(flat).any():
        flat = shapely.force_2d(flat)
    moved = np.asarray(gpd.GeoSeries(flat, crs=src.crs).to_crs(STORE_EPSG).array, dtype=object)
    bounds = shapely.bounds(moved)
    minx, miny, maxx, maxy = NORWAY_25833
    in_norway = (np.isfinite(bounds).all(axis=1) & (bounds[:, 0] >= minx)
                 & (bounds[:, 1] >= miny) & (bounds[:, 2] <= maxx) & (bounds[:, 3] <= maxy))
    if not in_norway.any():
        coords = shapely.get_coordinates(flat[:1000])
        looks = guess_crs(coords[:, 0], coords[:, 1])
        hint = f" They look like {looks}." if looks else ""
        raise InvalidCRS(
            f"{src.name}: no feature lies in Norway when its coordinates are read as "
            f"{src.crs_label}.{hint} Give the right CRS with --crs.",
            field="crs", value=src.crs_label, details={"looks_like": looks} if looks else None,
        )
    for k in np.flatnonzero(~in_norway):
        c = shapely.get_coordinates(flat[k])
        looks = guess_crs(c[:, 0], c[:, 1]) if k < 50 else None
        reasons[idx[k]].append(Reason(
            "invalid_crs", "geometry",
            f"The coordinates are not in Norway when read as {src.crs_label}"
            + (f"; they look like {looks}." if looks else ".")))
    valid = shapely.is_valid(moved)
    good = in_norway.copy()
    for k in np.flatnonzero(in_norway & ~valid):
        fixed = _repair(moved[k]) if repair else None
        if fixed is not None:
            moved[k] = fixed
            warnings[idx[k]].append("The polygon was not valid and has been repaired "
                                    "(make_valid); check its outline.")
            continue
        reasons[idx[k]].append(Reason("invalid_geometry", "geometry", _invalid_message(
            flat[k], moved[k], src.crs_label)))
        good[k] = False
    area = shapely.area(moved)
    for k in np.flatnonzero(good & ~(area > 0)):
        reasons[idx[k]].append(Reason("invalid_geometry", "geometry", "The polygon has no area."))
        good[k] = False
    keep = idx[good]
    parts, part_of = shapely.get_parts(moved[good], return_index=True)
    multi = shapely.multipolygons(parts, indices=part_of)
    out[keep] = multi
    return out


def _repair(geom: shapely.Geometry) -> shapely.Geometry | None:
    fixed = shapely.make_valid(geom)
    polys = [g for g in shapely.get_parts(fixed) if shapely.get_type_id(g) in (3, 6)]
    if not polys:
        return None
    union = shapely.union_all(polys)
    return union if union.area > 0 else None


def _invalid_message(source_geom: shapely.Geometry, stored: shapely.Geometry,
                     source_crs: str) -> str:
    # Say where in the file's own coordinates when the file's polygon is itself invalid.
    if not shapely.is_valid(source_geom):
        reason, crs = shapely.is_valid_reason(source_geom), source_crs
    else:
        reason, crs = shapely.is_valid_reason(stored), f"EPSG:{STORE_EPSG}, after transformation"
    if "[" in reason and reason.endswith("]"):
        what, where = reason[:-1].split("[", 1)
        x, y = (float(v) for v in where.split()[:2])
        digits = 7 if abs(x) <= 180 and abs(y) <= 90 else 1
        reason = f"{what.lower()} at {x:.{digits}f} {y:.{digits}f} ({crs})"
    return f"The polygon is not valid: {reason}."


def _plain(value: Any) -> Any:
    """A cell as a plain Python value; empty (None, NaN, '', spaces) is None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, list | dict | tuple | np.ndarray):
        return json.dumps(value.tolist() if isinstance(value, np.ndarray) else value)
    return value


def _cells(series: pd.Series) -> np.ndarray:
    """A column as plain Python values (see :func:`_plain`), fast for the common dtypes."""
    kind = series.dtype.kind
    if kind in "biu":
        return series.astype(object).to_numpy(copy=True)
    if kind == "f":
        arr = series.to_numpy(dtype=float)
        out = arr.astype(object)
        whole = np.isfinite(arr) & (arr == np.trunc(arr)) & (np.abs(arr) < 2**53)
        out[whole] = arr[whole].astype(np.int64).astype(object)
        out[np.isnan(arr)] = None
        return out
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        out = series.astype(object).str.strip().to_numpy(dtype=object, copy=True)
        out[pd.isna(out)] = None
        out[out == ""] = None
        return out
    out = np.empty(len(series), dtype=object)
    out[:] = [_plain(v) for v in series.tolist()]
    return out


def _clean_one(name: str, value: Any) -> dict[str, Any]:
    if name == "landreg_id":
        number = parse_number(name, value, minimum=1)
        if number is None or not float(number).is_integer() or isinstance(value, bool):
            raise InvalidInput(f"landreg_id must be a positive whole number; got {value!r}",
                               field=name, value=value)
        return {name: int(number)}
    if name == "plan_status":
        value = _PLAN_STATUS.get(_key(value), value)
    return clean_attributes({name: value}, creating=False)


def _attributes(frame: pd.DataFrame, columns: dict[str, str], reasons: Notes[Reason],
                skips: dict[int, str]) -> dict[str, np.ndarray]:
    """Checked values per field (None = empty), each distinct value checked once.

    A national arealformål that is not business land puts the feature into ``skips`` (row →
    ``"2011 Kjøreveg: ikke næringsareal"``) instead of rejecting it."""
    out: dict[str, np.ndarray] = {}
    for name, column in columns.items():
        cells = _cells(frame[column])
        distinct = [v for v in pd.unique(cells) if v is not None]
        cleaned: dict[Any, dict[str, Any]] = {}
        errors: dict[Any, Reason] = {}
        skip: dict[Any, str] = {}
        if name in _TEXT_FIELDS and _plain_text_passes(name, distinct):
            out[name] = cells  # every value is already the checked value
            continue
        for v in distinct:
            try:
                cleaned[v] = _clean_one(name, v)
            except NotBusinessLand as exc:
                skip[v] = exc.details["skip"]
            except LandregError as exc:
                errors[v] = Reason(exc.code, name, f"{exc.message} (column {column!r})")
        column_cells = pd.Series(cells, dtype=object)
        if skip:
            for i in np.flatnonzero(column_cells.isin(list(skip)).to_numpy()):
                skips[int(i)] = skip[cells[i]]
        if errors:
            for i in np.flatnonzero(column_cells.isin(list(errors)).to_numpy()):
                reasons[i].append(errors[cells[i]])
        for target in ([name, "purpose_group"] if name == "arealformal" else [name]):
            lookup = {v: c[target] for v, c in cleaned.items()}
            mapped = np.empty(len(cells), dtype=object)  # objects, so 1340 stays an int
            mapped[:] = [lookup.get(v) for v in cells]
            out[target] = mapped
    return out


def _plain_text_passes(name: str, distinct: list[Any]) -> bool:
    """True when a text column needs no per-value check: all values are stripped strings and
    the longest comes back from ``clean_attributes`` unchanged. Text fields are only checked
    for length (``fields.parse_text``; ``test_text_fields_only_check_length`` guards this), so
    then every shorter value passes unchanged too."""
    if not distinct or not all(isinstance(v, str) for v in distinct):
        return False
    longest = max(distinct, key=len)
    try:
        return _clean_one(name, longest).get(name) == longest
    except LandregError:
        return False


def _place(session: Session, geoms: np.ndarray, given: list[Any] | None, kommune: str | None,
           reasons: Notes[Reason], warnings: Notes[str],
           outline: dict[int, int] | None = None) -> np.ndarray:
    """The kommune of every feature (the one holding the larger part), from one SQL query."""
    best = np.full(len(geoms), None, dtype=object)
    idx = np.flatnonzero(~shapely.is_missing(geoms))
    if len(idx) == 0:
        return best
    outline = {} if outline is None else outline
    shares = _shares(session, geoms, idx, outline)
    pos = pd.Series(np.arange(len(idx)), index=idx)
    total = shapely.area(geoms[idx].astype(object))
    inside = np.zeros(len(idx))
    np.add.at(inside, pos[shares["ord"]].to_numpy(), shares["a"].to_numpy())
    top = shares.sort_values(["ord", "a"], ascending=[True, False]).drop_duplicates("ord")
    top_k = np.full(len(idx), None, dtype=object)
    top_k[pos[top["ord"]].to_numpy()] = top["k"].to_numpy()
    outside = total - inside
    out_of_region = np.array([k is None for k in top_k]) | (outside > OUTSIDE_TOLERANCE * total)
    for p in np.flatnonzero(out_of_region):
        reasons[idx[p]].append(Reason(
            "outside_region", "geometry",
            f"{_amount(outside[p])} of the plot's {_amount(total[p])} lie outside the "
            "seven Glåmdalen kommuner. A plot must lie inside the region."))
    placed = idx[~out_of_region]
    best[placed] = top_k[~out_of_region]
    in_kommune = np.zeros(len(idx))
    if kommune is not None:  # every part must lie in it, not only the larger part
        mine = shares[shares["k"] == kommune]
        np.add.at(in_kommune, pos[mine["ord"]].to_numpy(), mine["a"].to_numpy())
    foreign = inside - in_kommune
    for i in placed.tolist():
        k = best[i]
        p = pos[i]
        if kommune is not None and k != kommune:
            reasons[i].append(Reason(
                "outside_kommune", "geometry",
                f"The plot lies in {k} {REGION_KOMMUNER[k]}, not in {kommune} "
                f"{REGION_KOMMUNER[kommune]}, which this import is for."))
        elif kommune is not None and foreign[p] > FOREIGN_TOLERANCE * inside[p]:
            reasons[i].append(Reason(
                "outside_kommune", "geometry",
                f"{_amount(foreign[p])} of the plot's {_amount(inside[p])} lie outside "
                f"{kommune} {REGION_KOMMUNER[kommune]}, which this import is for (at most "
                f"{FOREIGN_TOLERANCE:.0%} may cross its border)."))
        elif given is not None and given[i] is not None and given[i] != k:
            reasons[i].append(Reason(
                "invalid_input", "kommunenummer",
                f"kommunenummer {given[i]} does not match the geometry: the plot lies in "
                f"{k} {REGION_KOMMUNER[k]}."))
    parts = shares[shares["a"] > 0.5]  # 0.0005 daa, as registry.placement counts a share
    crossing = parts[parts.duplicated("ord", keep=False)]
    for i, part in crossing.groupby("ord"):
        if best[i] is None:
            continue
        split = ", ".join(f"{r.k}: {r.a / 1000:.1f} daa" for r in part.itertuples())
        warnings[i].append(f"The plot crosses a kommune border ({split}); it is filed under "
                           f"{best[i]} {REGION_KOMMUNER[best[i]]}, which holds the larger part.")
    return best


def _amount(m2: float) -> str:
    """An area for a message: ``35 m²`` under one daa (so a small plot never reads
    "0.0 of 0.0 daa"), else ``12.3 daa``."""
    return f"{m2:,.0f} m²".replace(",", " ") if m2 < 1000 else f"{m2 / 1000:.1f} daa"


def _nothing_in_region(name: str, geoms: np.ndarray, reasons: Notes[Reason]) -> None:
    """Raise once, saying where the file lies, when no feature lies in the region."""
    idx = np.flatnonzero(~shapely.is_missing(geoms))
    if not len(idx) or not all(any(r.code == "outside_region" for r in reasons.get(i, []))
                               for i in idx):
        return
    minx, miny, maxx, maxy = shapely.total_bounds(geoms[idx].astype(object))
    lon, lat = gpd.GeoSeries([shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)],
                             crs=STORE_EPSG).to_crs(4326).iloc[0].coords[0]
    listed = ", ".join(f"{k} {v}" for k, v in REGION_KOMMUNER.items())
    raise OutsideRegion(
        f"{name}: none of its {len(idx)} areas lies in the seven Glåmdalen kommuner ({listed}); "
        f"the file lies around {lat:.3f}° N {lon:.3f}° E. Is it the right file?",
        field="file", details={"lat": round(lat, 4), "lon": round(lon, 4)})


def _shares(session: Session, geoms: np.ndarray, idx: np.ndarray,
            outline: dict[int, int]) -> pd.DataFrame:
    """Area (m²) of each feature in each kommune it touches: COPY to a temp table, one join.

    The same table finds, in one more indexed join, the plot each feature has the outline of
    (within :data:`GEOMETRY_TOLERANCE_M`) into ``outline``: a plan re-imported under other
    references is recognised instead of duplicated."""
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {_STAGE_GEOM}")
        cur.execute(f"CREATE TEMP TABLE {_STAGE_GEOM} (ord integer, "
                    f"geom geometry(MultiPolygon, {STORE_EPSG})) ON COMMIT DROP")
        wkb = shapely.to_wkb(shapely.set_srid(geoms[idx].astype(object), STORE_EPSG),
                             include_srid=True)
        # Binary COPY: PostGIS reads the EWKB bytes directly (geometry_recv), no hex text.
        with cur.copy(f"COPY {_STAGE_GEOM} (ord, geom) FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["int4", "bytea"])
            for row in zip(idx.tolist(), wkb, strict=True):
                copy.write_row(row)
        cur.execute(f"CREATE INDEX ON {_STAGE_GEOM} USING gist (geom)")
        cur.execute(f"ANALYZE {_STAGE_GEOM}")
        # Municipalities on the outside: each one's prepared geometry is reused for all the
        # plots it holds; ST_Intersection is only computed for plots that cross its border.
        # JIT compilation would cost more than it saves here (and is switched back after).
        jit = cur.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        previous = jit.fetchone()[0]
        cur.execute(f"""
            SELECT s.ord, m.kommunenummer,
                   CASE WHEN ST_Covers(m.geom, s.geom) THEN ST_Area(s.geom)
                        ELSE ST_Area(ST_Intersection(m.geom, s.geom)) END
            FROM municipality m JOIN {_STAGE_GEOM} s ON ST_Intersects(m.geom, s.geom)""")  # noqa: S608 - a constant table name, no values
        rows = cur.fetchall()
        cur.execute(f"""
            SELECT DISTINCT ON (s.ord) s.ord, p.id
            FROM {_STAGE_GEOM} s JOIN plot p
              ON p.geom && ST_Expand(s.geom, %(tol)s)
             AND abs(ST_Area(p.geom) - ST_Area(s.geom)) <= ST_Perimeter(s.geom) * %(tol)s
             AND ST_HausdorffDistance(p.geom, s.geom) <= %(tol)s
            ORDER BY s.ord, p.id""", {"tol": GEOMETRY_TOLERANCE_M})  # noqa: S608 - constant name
        outline.update((int(o), int(p)) for o, p in cur.fetchall())
        cur.execute("SELECT set_config('jit', %s, true)", (previous,))
        cur.execute(f"DROP TABLE {_STAGE_GEOM}")
    return pd.DataFrame(rows, columns=["ord", "k", "a"]).astype({"ord": "int64", "a": "float64"})


def _existing(session: Session, keys: pd.DataFrame, ids: list[int],
              fields: list[str], same_outline: list[int] | None = None) -> pd.DataFrame:
    """The plots matched by (kommune, external_ref), by id and by outline: three queries,
    whatever the size."""
    names = ["id", "version", "kommunenummer", "external_ref", "wkb", *fields]
    # S608: ``fields`` come from EDITABLE_FIELDS (column names we define); values are bound
    select_ = ("SELECT p.id, p.version, p.kommunenummer, p.external_ref, ST_AsBinary(p.geom)"  # noqa: S608
               + "".join(f", p.{f}" for f in fields) + " FROM plot p ")
    rows: list[tuple] = []
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cur:
        if len(keys):
            cur.execute(select_ + "JOIN unnest(%(k)s::text[], %(r)s::text[]) AS u(k, r) "
                        "ON p.kommunenummer = u.k AND p.external_ref = u.r",
                        {"k": keys["k"].tolist(), "r": keys["ref"].tolist()})
            rows += cur.fetchall()
        if ids:
            cur.execute(select_ + "WHERE p.id = ANY(%(ids)s::bigint[]) AND p.external_ref IS NULL",
                        {"ids": ids})
            rows += cur.fetchall()
        if same_outline:
            cur.execute(select_ + "WHERE p.id = ANY(%(ids)s::bigint[])", {"ids": same_outline})
            rows += cur.fetchall()
    return pd.DataFrame(rows, columns=names, dtype=object).drop_duplicates("id")


def _same_values(name: str, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Element-wise: does the file's value equal the stored one? (None = empty)"""
    new_null, old_null = pd.isna(new), pd.isna(old)
    same = new_null & old_null
    both = np.flatnonzero(~new_null & ~old_null)
    if len(both):
        a, b = new[both], old[both]
        if name == "price_nok_m2":
            same[both] = np.round(a.astype(float), 2) == b.astype(float)
        elif name in _FLOAT_FIELDS:
            same[both] = np.isclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9)
        else:
            same[both] = (a == b).astype(bool)
    if name in _NOT_NULL:
        same |= new_null  # an empty cell in a required field means "keep"
    return same


def _same_geometry(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    a, b = shapely.normalize(new), shapely.normalize(old)
    same = shapely.equals_exact(a, b, tolerance=GEOMETRY_TOLERANCE_M)
    for k in np.flatnonzero(~same):  # same shape, other vertex order or a split edge
        same[k] = shapely.hausdorff_distance(a[k], b[k], densify=0.25) <= GEOMETRY_TOLERANCE_M
    return same


def _classify(session: Session, src: Source, kommune: str | None, columns: dict[str, str],
              ignored: list[str], geoms: np.ndarray, values: dict[str, np.ndarray],
              best: np.ndarray, reasons: Notes[Reason],
              warnings: Notes[str], skips: dict[int, str],
              outline: dict[int, int] | None = None) -> ImportReport:
    n = len(geoms)
    skipped = np.zeros(n, dtype=bool)
    skipped[list(skips)] = True
    for i in skips:  # not business land: whatever else is wrong with it does not matter
        reasons.pop(i, None)
        warnings.pop(i, None)
    best = best.copy()
    best[skipped] = None
    nothing = np.full(n, None, dtype=object)
    refs = values.get("external_ref", nothing)
    ids = values.get("landreg_id", nothing)
    feat = pd.DataFrame({"k": best, "ref": refs, "lid": ids}, dtype=object)
    placed = feat["k"].notna().to_numpy()

    with_ref = feat[placed & feat["ref"].notna().to_numpy()]
    dups = with_ref[with_ref.duplicated(["k", "ref"], keep=False)]
    for (k, ref), group in dups.groupby(["k", "ref"]):
        listed = ", ".join(str(i + 1) for i in group.index)
        for i in group.index:
            reasons[i].append(Reason("duplicate_ref", "external_ref",
                                     f"external_ref {ref!r} appears {len(group)} times in "
                                     f"kommune {k} (features {listed})."))
    ok = np.ones(n, dtype=bool)
    ok[[i for i, r in reasons.items() if r]] = False
    ok[skipped] = False

    written = [f for f in EDITABLE_FIELDS if f in values and f != "kommunenummer"]
    compare = [f for f in written if f != "external_ref"]
    by_ref = feat[ok & placed & feat["ref"].notna().to_numpy()]
    by_id = feat[ok & placed & feat["ref"].isna().to_numpy() & feat["lid"].notna().to_numpy()]
    outline = {i: p for i, p in (outline or {}).items() if ok[i] and placed[i]}
    existing = _existing(session, by_ref.drop_duplicates(["k", "ref"]),
                         sorted(set(by_id["lid"].tolist())), compare,
                         sorted(set(outline.values())))

    # Row in `existing` that each feature matches (-1: none): by (kommune, ref), else by id.
    match = np.full(n, -1)
    ex = existing.reset_index(drop=True)
    if len(ex) and len(by_ref):
        pos = pd.Series(ex.index, index=pd.MultiIndex.from_arrays(
            [ex["kommunenummer"], ex["external_ref"]]))
        pos = pos[pos.index.get_level_values(1).notna()]
        hit = pos.reindex(pd.MultiIndex.from_arrays([by_ref["k"], by_ref["ref"]])).to_numpy()
        found = ~pd.isna(hit)
        match[by_ref.index[found]] = hit[found].astype(int)
    if len(ex) and len(by_id):
        idx_of = {(r.id, r.kommunenummer): i for i, r in enumerate(ex.itertuples())
                  if r.external_ref is None}
        for i, lid, k in zip(by_id.index, by_id["lid"], by_id["k"], strict=True):
            match[i] = idx_of.get((lid, k), -1)

    # No plot with its reference: the plot with the same outline in the same kommune and the
    # same plan (or without a reference of its own), if no other feature matched it already —
    # a plan re-imported under other references (SOSI object numbers are not stable).
    by_outline: list[int] = []
    if outline and len(ex):
        row_of = {(int(r.id), r.kommunenummer): j for j, r in enumerate(ex.itertuples())}
        taken = set(match[match >= 0].tolist())
        stored_ref = ex["external_ref"].to_numpy(dtype=object)
        stored_plan = (ex["plan_id"].to_numpy(dtype=object) if "plan_id" in ex
                       else np.full(len(ex), None, dtype=object))
        plan = values.get("plan_id", nothing)
        for i, pid in sorted(outline.items()):
            j = row_of.get((pid, best[i]), -1)
            same_plan = j >= 0 and (stored_ref[j] is None
                                    or (plan[i] is not None and plan[i] == stored_plan[j]))
            if match[i] < 0 and same_plan and j not in taken:
                match[i] = j
                taken.add(j)
                by_outline.append(i)

    for req in REQUIRED_ON_CREATE:  # a new plot needs a name and an arealformål
        missing = ok & (match < 0) & pd.isna(values.get(req, nothing))
        for i in np.flatnonzero(missing):
            how = (f"column {columns[req]!r} is empty" if req in columns else
                   f"no column holds it: map one with --map {req}=COLUMN")
            reasons[i].append(Reason("missing_field", req,
                                     f"{req} is required for a new plot ({how})."))
        ok &= ~missing

    action = np.where(ok, np.where(match >= 0, "update", "create"), "rejected").astype(object)
    action[skipped] = "skipped"
    upd = np.flatnonzero(action == "update")
    changes: dict[int, tuple[str, ...]] = {}
    if len(upd):
        rows = match[upd]
        changed = np.zeros((len(upd), len(compare) + 1), dtype=bool)
        for j, f in enumerate(compare):
            changed[:, j] = ~_same_values(f, values[f][upd], ex[f].to_numpy(dtype=object)[rows])
        old_geom = shapely.from_wkb(ex["wkb"].to_numpy(dtype=object)[rows])
        changed[:, -1] = ~_same_geometry(geoms[upd], old_geom)
        labels = np.array([*compare, "geometry"], dtype=object)
        if by_outline and "external_ref" in values:  # recognised by outline, new reference
            stored = ex["external_ref"].to_numpy(dtype=object)[rows]
            other_ref = np.array([i in set(by_outline) and values["external_ref"][i] is not None
                                  and values["external_ref"][i] != stored[k]
                                  for k, i in enumerate(upd)], dtype=bool)
            changed = np.column_stack([changed, other_ref])
            labels = np.array([*labels, "external_ref"], dtype=object)
        for k in np.flatnonzero(changed.any(axis=1)):
            changes[int(upd[k])] = tuple(labels[changed[k]])
        action[upd[~changed.any(axis=1)]] = "unchanged"

    plot_id = np.full(n, None, dtype=object)
    plot_id[match >= 0] = ex["id"].to_numpy(dtype=object)[match[match >= 0]]
    skip_label = np.full(n, None, dtype=object)
    for i, label in skips.items():
        skip_label[i] = label
    table = pd.DataFrame({"action": action, "external_ref": refs,
                          "name": values.get("name", nothing), "kommunenummer": best,
                          "plot_id": plot_id, "skip": skip_label}, dtype=object)
    rows = _payload(action, match, ex, changes, geoms, values, best)
    return ImportReport(
        source=src.name, format=src.format, layer=src.layer, crs=src.crs_label,
        kommune=kommune, mapping=dict(columns), ignored_columns=ignored,
        warnings=list(src.warnings), _table=table, _changes=changes,
        _reasons={int(i): r for i, r in reasons.items() if r},
        _notes={int(i): w for i, w in warnings.items() if w},
        _rows=rows, _fields=tuple(written),
    )


def _payload(action: np.ndarray, match: np.ndarray, ex: pd.DataFrame,
             changes: dict[int, tuple[str, ...]], geoms: np.ndarray,
             values: dict[str, np.ndarray], best: np.ndarray) -> pd.DataFrame:
    """The rows to write: every field for new plots, the mapped ones for updated plots."""
    todo = np.flatnonzero((action == "create") | (action == "update"))
    hit = match[todo]
    known = hit >= 0
    ids = np.full(len(todo), None, dtype=object)
    versions = np.full(len(todo), None, dtype=object)
    ids[known] = ex["id"].to_numpy(dtype=object)[hit[known]]
    versions[known] = ex["version"].to_numpy(dtype=object)[hit[known]]
    data: dict[str, Any] = {"ord": todo, "action": action[todo], "id": ids,
                            "version": versions, "kommunenummer": best[todo]}
    for f in [*EDITABLE_FIELDS, "purpose_group"]:
        if f != "kommunenummer":
            data[f] = values[f][todo] if f in values else np.full(len(todo), None, dtype=object)
    frame = pd.DataFrame(data, dtype=object)
    creates = (frame["action"] == "create").to_numpy()
    for f, default in (("plan_status", "nåværende"), ("availability", "ledig"),
                       ("published", False)):
        frame.loc[creates & frame[f].isna().to_numpy(), f] = default
    geom = geoms[todo].copy()
    keep = np.array([a == "update" and "geometry" not in changes.get(i, ())
                     for a, i in zip(action[todo], todo, strict=True)], dtype=bool)
    geom[keep] = None  # unchanged geometry: the UPDATE keeps the stored one
    frame["geom"] = geom
    return frame


# --- applying -----------------------------------------------------------------------------


def apply_import(
    session: Session,
    report: ImportReport,
    user: str,
    *,
    allow_partial: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Write a planned import: every create and update, or nothing.

    Parameters
    ----------
    session:
        The session to write in. The writes happen in a SAVEPOINT: if anything fails, none of
        them remain, and the caller's transaction is as it was. The caller commits.
    report:
        What :func:`plan_import` returned.
    user:
        Who makes the change (``created_by``/``updated_by`` and the history).
    allow_partial:
        Write the good features even though some were rejected. Without it a report with a
        rejected feature raises :class:`ImportRejected` and writes nothing.
    progress:
        Called as ``progress("write", done, total)`` after each chunk.

    Returns
    -------
    ImportReport
        The same report, ``applied`` and with the new plots' ids filled in.

    Raises
    ------
    ImportRejected
        when features were rejected and ``allow_partial`` is False.
    StaleVersion, ImportConflict
        when someone changed a matched plot, or added one with the same external_ref, after
        the plan was made. Nothing is written; plan again.
    """
    user = _user(user)
    if report.applied:
        raise InvalidInput("This import has already been applied; plan it again to re-run it.")
    if report.rejected and not allow_partial:
        raise ImportRejected(report)
    rows = report._rows if report._rows is not None else pd.DataFrame()
    total = len(rows)
    notify = progress or (lambda stage, done, total: None)
    if total == 0:
        report.applied = True
        notify("write", 0, 0)
        return report
    creates = rows[rows["action"] == "create"].copy()
    updates = rows[rows["action"] == "update"]
    if len(creates):
        creates["id"] = session.execute(
            text("SELECT nextval(pg_get_serial_sequence('plot', 'id')) "
                 "FROM generate_series(1, :n)"), {"n": len(creates)}).scalars().all()
    chunks = [(kind, part.iloc[start:start + CHUNK])
              for part, kind in ((creates, "create"), (updates, "update"))
              for start in range(0, len(part), CHUNK)]
    try:
        with session.begin_nested():  # all or nothing, even inside the caller's transaction
            # the history trigger marks these versions as made by an import (migration 0012)
            session.execute(text("SELECT set_config('landreg.change_source', 'import', true)"))
            _write(session, chunks, user, report._fields,
                   lambda done: notify("write", done, total))
            session.execute(text("SELECT set_config('landreg.change_source', '', true)"))
    except (IntegrityError, psycopg.errors.UniqueViolation):
        raise ImportConflict(
            "The register changed while the import was planned (a plot with the same "
            "external_ref was added). Nothing was written: plan the import again.",
        ) from None
    if len(creates):
        report._table.loc[creates["ord"].to_numpy(), "plot_id"] = creates["id"].to_numpy()
    report.applied = True
    return report


def _write(session: Session, chunks: list[tuple[str, pd.DataFrame]], user: str,
           fields: tuple[str, ...], notify: Callable[[int], None]) -> None:
    """COPY each chunk into the staging table, then INSERT … SELECT or UPDATE … FROM it.

    A worker thread encodes the next chunks while PostgreSQL works on the current one.
    """
    dbapi = session.connection().connection.driver_connection
    with ThreadPoolExecutor(max_workers=1) as pool, dbapi.cursor() as cur:
        encoded = [pool.submit(_encode, chunk) for _, chunk in chunks]
        try:
            _create_stage(cur)
            done = 0
            for (kind, chunk), payload in zip(chunks, encoded, strict=True):
                columns, data = payload.result()
                with cur.copy(f"COPY {_STAGE_ROWS} ({', '.join(columns)}) "
                              "FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
                if kind == "create":
                    _insert(cur, user)
                else:
                    _update(cur, user, fields, len(chunk))
                cur.execute(f"TRUNCATE {_STAGE_ROWS}")
                done += len(chunk)
                notify(done)
            cur.execute(f"DROP TABLE {_STAGE_ROWS}")
        finally:
            for future in encoded:
                future.cancel()


def _stage_columns() -> list[tuple[str, str]]:
    dialect = postgresql.dialect()
    cols = [("ord", "integer"), ("id", "bigint"), ("version", "integer"),
            ("kommunenummer", "varchar(4)")]
    for f in [*EDITABLE_FIELDS, "purpose_group"]:
        if f != "kommunenummer":
            cols.append((f, Plot.__table__.c[f].type.compile(dialect=dialect)))
    cols.append(("geom", f"geometry(MultiPolygon, {STORE_EPSG})"))
    return cols


def _create_stage(cur: Any) -> None:
    cols = ", ".join(f"{n} {t}" for n, t in _stage_columns())
    cur.execute(f"DROP TABLE IF EXISTS {_STAGE_ROWS}")
    cur.execute(f"CREATE TEMP TABLE {_STAGE_ROWS} ({cols}) ON COMMIT DROP")


def _encode(chunk: pd.DataFrame) -> tuple[list[str], str]:
    """A chunk as CSV for COPY, with only the columns that hold a value (the rest stay NULL)."""
    names = [n for n, _ in _stage_columns()]
    out = chunk.reindex(columns=names).copy()
    geom = out["geom"].to_numpy(dtype=object)
    has = ~shapely.is_missing(geom)
    hexes = np.full(len(geom), None, dtype=object)
    if has.any():
        hexes[has] = shapely.to_wkb(shapely.set_srid(geom[has], STORE_EPSG), hex=True,
                                    include_srid=True)
    out["geom"] = hexes
    out = out[[n for n in names if out[n].notna().any()]]
    buf = io.StringIO()
    out.to_csv(buf, header=False, index=False, na_rep="")
    return list(out.columns), buf.getvalue()


def _insert(cur: Any, user: str) -> None:
    fields = [n for n, _ in _stage_columns() if n not in ("ord", "version")]
    cols = ", ".join(fields)
    cur.execute(
        f"INSERT INTO plot ({cols}, created_by, updated_by) "  # noqa: S608 - our column names
        f"SELECT {cols}, %(u)s, %(u)s FROM {_STAGE_ROWS} ORDER BY ord", {"u": user})


def _update(cur: Any, user: str, fields: tuple[str, ...], expected: int) -> None:
    sets = []
    for f in fields:
        sets.append(f"{f} = COALESCE(s.{f}, p.{f})" if f in _NOT_NULL else f"{f} = s.{f}")
    if "arealformal" in fields:
        sets.append("purpose_group = COALESCE(s.purpose_group, p.purpose_group)")
    sets.append("geom = COALESCE(s.geom, p.geom)")
    cur.execute(
        f"UPDATE plot p SET {', '.join(sets)}, updated_by = %(u)s FROM {_STAGE_ROWS} s "  # noqa: S608 - EDITABLE_FIELDS only, values bound
        "WHERE p.id = s.id AND p.version = s.version", {"u": user})
    if cur.rowcount != expected:
        raise StaleVersion(
            f"{expected - cur.rowcount} of the plots this import updates were changed by someone "
            "else after the import was planned. Nothing was written: plan the import again.",
            details={"expected": expected, "updated": cur.rowcount},
        )


def _user(user: str) -> str:
    t = (user or "").strip()
    if not t:
        raise InvalidInput("Every import needs a user name for the history.", field="user")
    return t


__all__ = [
    "ALIASES", "FeatureResult", "GEOMETRY_TOLERANCE_M", "IMPORT_FIELDS", "ImportConflict",
    "ImportRejected", "ImportReport", "Reason", "apply_import", "plan_import", "resolve_mapping",
]
