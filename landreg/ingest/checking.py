"""Checking: every feature's geometry, attributes and kommune, whole columns at a time.

Geometries are transformed once and checked with shapely 2 array predicates
(:func:`check_geometries`); each distinct attribute value is checked once with the registry's
own rules (:func:`check_attributes`); the kommune of every feature comes from ONE SQL query on
a temporary table of the geometries (:func:`place`), which also finds the plot each feature has
the identical outline of. Problems go into ``reasons`` (rejecting the feature) or ``warnings``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from landreg.errors import InvalidCRS, InvalidInput, LandregError
from landreg.ingest.crs import NORWAY_25833, STORE_EPSG, guess_crs
from landreg.ingest.mapping import column_key
from landreg.ingest.matching import GEOMETRY_TOLERANCE_M
from landreg.ingest.messages import Message, keyed
from landreg.ingest.readers import Source
from landreg.ingest.report import Notes, OutsideRegion, Reason
from landreg.registry.codes import REGION_KOMMUNER, NotBusinessLand
from landreg.registry.fields import (
    clean_attributes,
    parse_number,
)
from landreg.registry.placement import FOREIGN_TOLERANCE, OUTSIDE_TOLERANCE

#: Kommuneplan status codes (1 nåværende, 2 framtidig) and spellings without æ/å.
_PLAN_STATUS = {"1": "nåværende", "2": "framtidig", "navarende": "nåværende",
                "naavaerende": "nåværende", "naverende": "nåværende", "navaerende": "nåværende"}
#: Fields that ``registry.fields`` checks as free text (length only).
_TEXT_FIELDS = frozenset({"external_ref", "name", "plan_id", "contact", "description",
                          "internal_notes"})
_STAGE_GEOM = "landreg_import_geom"


def check_geometries(series: gpd.GeoSeries, src: Source, reasons: Notes[Reason],
                     warnings: Notes[str], repair: bool) -> np.ndarray:
    """Valid MultiPolygons in EPSG:25833 (None where rejected), for the whole column at once."""
    raw = np.asarray(series.array, dtype=object)
    out = np.full(len(raw), None, dtype=object)
    types = shapely.get_type_id(raw)
    empty = shapely.is_missing(raw) | shapely.is_empty(raw)
    for i in np.flatnonzero(empty):
        reasons[i].append(Reason("invalid_geometry", "geometry", Message(
            "The feature has no geometry.", "imp_r_no_geometry")))
    wrong = ~empty & (types != 3) & (types != 6)
    for i in np.flatnonzero(wrong):
        reasons[i].append(Reason("invalid_geometry", "geometry",
                                 Message(f"A plot must be a polygon or multipolygon, not a "
                                         f"{raw[i].geom_type}.", "imp_r_not_polygon",
                                         type=raw[i].geom_type)))
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
        raise keyed(InvalidCRS(
            f"{src.name}: no feature lies in Norway when its coordinates are read as "
            f"{src.crs_label}.{hint} Give the right CRS with --crs.",
            field="crs", value=src.crs_label, details={"looks_like": looks} if looks else None,
        ), "imp_e_not_in_norway_looks" if looks else "imp_e_not_in_norway",
            crs=src.crs_label, looks=looks or "")
    for k in np.flatnonzero(~in_norway):
        c = shapely.get_coordinates(flat[k])
        looks = guess_crs(c[:, 0], c[:, 1]) if k < 50 else None
        reasons[idx[k]].append(Reason(
            "invalid_crs", "geometry",
            Message(f"The coordinates are not in Norway when read as {src.crs_label}"
                    + (f"; they look like {looks}." if looks else "."),
                    "imp_r_not_in_norway_looks" if looks else "imp_r_not_in_norway",
                    crs=src.crs_label, looks=looks or "")))
    valid = shapely.is_valid(moved)
    good = in_norway.copy()
    for k in np.flatnonzero(in_norway & ~valid):
        fixed = _repair(moved[k]) if repair else None
        if fixed is not None:
            moved[k] = fixed
            warnings[idx[k]].append(Message("The polygon was not valid and has been repaired "
                                            "(make_valid); check its outline.", "imp_w_repaired"))
            continue
        reasons[idx[k]].append(Reason("invalid_geometry", "geometry", _invalid_message(
            flat[k], moved[k], src.crs_label)))
        good[k] = False
    area = shapely.area(moved)
    for k in np.flatnonzero(good & ~(area > 0)):
        reasons[idx[k]].append(Reason("invalid_geometry", "geometry", Message(
            "The polygon has no area.", "imp_r_no_area")))
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
                     source_crs: str) -> Message:
    # Say where in the file's own coordinates when the file's polygon is itself invalid.
    if not shapely.is_valid(source_geom):
        reason, crs, key = shapely.is_valid_reason(source_geom), source_crs, "imp_r_invalid_at"
    else:
        reason, crs, key = (shapely.is_valid_reason(stored),
                            f"EPSG:{STORE_EPSG}, after transformation", "imp_r_invalid_at_stored")
    if "[" in reason and reason.endswith("]"):
        what, where = reason[:-1].split("[", 1)
        x, y = (float(v) for v in where.split()[:2])
        text = f"{what.lower()} at {_coordinate(x, x, y)} {_coordinate(y, x, y)} ({crs})"
        return Message(f"The polygon is not valid: {text}.", key, what=what.strip(),
                       x=_coordinate(x, x, y), y=_coordinate(y, x, y), crs=source_crs)
    return Message(f"The polygon is not valid: {reason}.", "imp_r_invalid", what=reason)


def _coordinate(value: float, x: float, y: float) -> str:
    """A coordinate for a message: 7 decimals in degrees, 1 in metres (no grouping)."""
    return f"{value:.{7 if abs(x) <= 180 and abs(y) <= 90 else 1}f}"


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
        value = _PLAN_STATUS.get(column_key(value), value)
    return clean_attributes({name: value}, creating=False)


def check_attributes(frame: pd.DataFrame, columns: dict[str, str], reasons: Notes[Reason],
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
                errors[v] = Reason(exc.code, name, Message(
                    f"{exc.message} (column {column!r})",
                    "imp_r_unknown_code" if exc.code == "unknown_code" else "imp_r_bad_value",
                    field=name, column=column, value=str(v)))
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


def place(session: Session, geoms: np.ndarray, given: list[Any] | None, kommune: str | None,
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
            Message(f"{_amount(outside[p])} of the plot's {_amount(total[p])} lie outside the "
                    "seven Glåmdalen kommuner. A plot must lie inside the region.",
                    "imp_r_outside_region", outside_m2=float(outside[p]),
                    total_m2=float(total[p]))))
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
                Message(f"The plot lies in {k} {REGION_KOMMUNER[k]}, not in {kommune} "
                        f"{REGION_KOMMUNER[kommune]}, which this import is for.",
                        "imp_r_other_kommune", k=k, kname=REGION_KOMMUNER[k], kommune=kommune,
                        kommune_name=REGION_KOMMUNER[kommune])))
        elif kommune is not None and foreign[p] > FOREIGN_TOLERANCE * inside[p]:
            reasons[i].append(Reason(
                "outside_kommune", "geometry",
                Message(f"{_amount(foreign[p])} of the plot's {_amount(inside[p])} lie "
                        f"outside {kommune} {REGION_KOMMUNER[kommune]}, which this import is "
                        f"for (at most {FOREIGN_TOLERANCE:.0%} may cross its border).",
                        "imp_r_crosses_kommune", foreign_m2=float(foreign[p]),
                        inside_m2=float(inside[p]), kommune=kommune,
                        kommune_name=REGION_KOMMUNER[kommune],
                        pct=round(FOREIGN_TOLERANCE * 100))))
        elif given is not None and given[i] is not None and given[i] != k:
            reasons[i].append(Reason(
                "invalid_input", "kommunenummer",
                Message(f"kommunenummer {given[i]} does not match the geometry: the plot lies "
                        f"in {k} {REGION_KOMMUNER[k]}.", "imp_r_kommunenummer",
                        given=str(given[i]), k=k, kname=REGION_KOMMUNER[k])))
    parts = shares[shares["a"] > 0.5]  # 0.0005 daa, as registry.placement counts a share
    crossing = parts[parts.duplicated("ord", keep=False)]
    for i, part in crossing.groupby("ord"):
        if best[i] is None:
            continue
        split = ", ".join(f"{r.k}: {r.a / 1000:.1f} daa" for r in part.itertuples())
        warnings[i].append(Message(
            f"The plot crosses a kommune border ({split}); it is filed under "
            f"{best[i]} {REGION_KOMMUNER[best[i]]}, which holds the larger part.",
            "imp_w_crosses_border", split=[(r.k, float(r.a)) for r in part.itertuples()],
            k=best[i], kname=REGION_KOMMUNER[best[i]]))
    return best


def _amount(m2: float) -> str:
    """An area for a message: ``35 m²`` under one daa (so a small plot never reads
    "0.0 of 0.0 daa"), else ``12.3 daa``."""
    return f"{m2:,.0f} m²".replace(",", " ") if m2 < 1000 else f"{m2 / 1000:.1f} daa"


def nothing_in_region(name: str, geoms: np.ndarray, reasons: Notes[Reason]) -> None:
    """Raise once, saying where the file lies, when no feature lies in the region."""
    idx = np.flatnonzero(~shapely.is_missing(geoms))
    if not len(idx) or not all(any(r.code == "outside_region" for r in reasons.get(i, []))
                               for i in idx):
        return
    minx, miny, maxx, maxy = shapely.total_bounds(geoms[idx].astype(object))
    lon, lat = gpd.GeoSeries([shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)],
                             crs=STORE_EPSG).to_crs(4326).iloc[0].coords[0]
    listed = ", ".join(f"{k} {v}" for k, v in REGION_KOMMUNER.items())
    raise keyed(OutsideRegion(
        f"{name}: none of its {len(idx)} areas lies in the seven Glåmdalen kommuner ({listed}); "
        f"the file lies around {lat:.3f}° N {lon:.3f}° E. Is it the right file?",
        field="file", details={"lat": round(lat, 4), "lon": round(lon, 4)}), "imp_e_outside_region",
                count=len(idx), kommuner=listed, lat=f"{lat:.3f}", lon=f"{lon:.3f}")


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



def check_user(user: str) -> str:
    """The user name for the history, stripped; an empty one is refused."""
    t = (user or "").strip()
    if not t:
        raise InvalidInput("Every import needs a user name for the history.", field="user")
    return t

