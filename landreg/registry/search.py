"""Search the register: filters, sorting and paging, answered by PostGIS in one query.

Geometries leave the database already transformed and encoded (``ST_AsGeoJSON``), so a page of
100 plots costs one round trip and no Python geometry work.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from landreg.db import read_row
from landreg.errors import InvalidInput, Label, NotFound
from landreg.ingest.crs import OUTPUT_EPSG, STORE_EPSG, store_transform
from landreg.ingest.geometry import read_geometry, to_store_crs
from landreg.models import AVAILABILITY, PURPOSE_GROUPS, Arealformal, Municipality, Plot
from landreg.registry.fields import INTERNAL_FIELDS, PUBLIC_FIELDS

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
SORT_KEYS = {
    "name": Plot.name,
    "area_daa": Plot.area_daa,
    "kommunenummer": Plot.kommunenummer,
    "price_nok_m2": Plot.price_nok_m2,
    "updated_at": Plot.updated_at,
    "availability": Plot.availability,
    "id": Plot.id,
}


@dataclass
class PlotQuery:
    """What to look for. Every field is optional; lists mean "any of".

    ``bbox`` is (minx, miny, maxx, maxy) in ``bbox_crs``; ``near`` is a point or line (GeoJSON or
    WKT, in ``near_crs``) and ``near_distance_m`` the distance from it in metres. ``byggeklar``
    means ready to build: road access and water/sewer in place. ``sort`` is a list of keys, a
    leading ``-`` for descending (e.g. ``["-area_daa", "name"]``).
    """

    kommuner: list[str] = field(default_factory=list)
    availability: list[str] = field(default_factory=list)
    purpose_groups: list[str] = field(default_factory=list)
    arealformal: list[int] = field(default_factory=list)
    min_daa: float | None = None
    max_daa: float | None = None
    road_access: bool | None = None
    water_sewer: bool | None = None
    byggeklar: bool | None = None
    min_power_mw: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: object = 4326
    near: Any = None
    near_crs: object = 4326
    near_distance_m: float | None = None
    q: str | None = None
    ids: list[int] = field(default_factory=list)
    include_withdrawn: bool = False
    updated_after: Any = None
    updated_before: Any = None
    reach_to: str | None = None
    reach_within_min: float | None = None
    #: straight-line distance limits in km, keyed by kind (registry/distances.py: road,
    #: junction, rail, station)
    within_km: dict[str, float] = field(default_factory=dict)
    #: planners only (``public=False`` searches): True published, False unpublished plots
    published: bool | None = None
    sort: list[str] = field(default_factory=lambda: ["kommunenummer", "name"])
    limit: int = 100
    offset: int = 0

    def validate(self) -> None:
        """Check codes and ranges; raise :class:`InvalidInput` naming the bad parameter."""
        from landreg.registry.codes import lookup_arealformal, normalise_kommunenummer

        self.kommuner = [normalise_kommunenummer(k) for k in self.kommuner]
        for name, values, allowed in (
            ("availability", self.availability, AVAILABILITY),
            ("purpose_group", self.purpose_groups, PURPOSE_GROUPS),
        ):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise InvalidInput(key="err_unknown_value", params={
                    "name": Label(name), "value": bad[0], "allowed": list(allowed)},
                    field=name, value=bad[0])
        self.arealformal = [lookup_arealformal(c).code for c in self.arealformal]
        for name in ("min_daa", "max_daa", "min_power_mw", "near_distance_m"):
            v = getattr(self, name)
            if v is not None and (v != v or v < 0):
                raise InvalidInput(f"{name} must be a number ≥ 0; got {v}", field=name, value=v)
        from landreg.registry.distances import KINDS, MAX_KM

        for kind, km in self.within_km.items():
            if kind not in KINDS:
                raise InvalidInput(f"Unknown distance {kind!r}; use one of {', '.join(KINDS)}",
                                   field=f"{kind}_km", value=kind)
            if km != km or not 0 <= km <= MAX_KM:
                raise InvalidInput(f"{kind}_km must be a number of km, 0–{MAX_KM:g}; got {km}",
                                   field=f"{kind}_km", value=km)
        if self.min_daa is not None and self.max_daa is not None and self.min_daa > self.max_daa:
            raise InvalidInput(key="err_min_above_max", params={
                "name": Label("min_daa"), "minimum": self.min_daa, "other": Label("max_daa"),
                "maximum": self.max_daa}, field="min_daa", value=self.min_daa)
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}; got {self.limit}",
                               field="limit", value=self.limit)
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}; got {self.offset}",
                               field="offset", value=self.offset)
        if self.q is not None and any(ord(ch) < 32 for ch in self.q):
            raise InvalidInput("q must not contain control characters", field="q")
        if self.bbox is not None:
            minx, miny, maxx, maxy = self.bbox
            if not (minx < maxx and miny < maxy):
                raise InvalidInput(
                    "bbox must be minx,miny,maxx,maxy with min < max", field="bbox",
                    value=",".join(f"{v:g}" for v in self.bbox),
                )
        if (self.near is None) != (self.near_distance_m is None):
            raise InvalidInput("near and near_distance_m go together: give both or neither",
                               field="near" if self.near is None else "near_distance_m")
        if self.near is not None:
            to_store_crs(read_geometry(self.near), self.near_crs)  # refuse bad input early
        for key in self.sort:
            if key.lstrip("-") not in SORT_KEYS:
                raise InvalidInput(
                    f"Unknown sort key {key!r}; use {', '.join(SORT_KEYS)} "
                    "(prefix - for descending)",
                    field="sort", value=key,
                )


@dataclass
class Page:
    """One page of results: GeoJSON-like features and how many matched in all."""

    features: list[dict[str, Any]]
    number_matched: int
    limit: int
    offset: int


def _columns(srid: int) -> list:
    digits = 7 if srid == 4326 else 2
    return [
        Plot,
        Municipality.name.label("kommunenavn"),
        Arealformal.name_nb.label("arealformal_name"),
        func.ST_AsGeoJSON(func.ST_Transform(Plot.geom, srid), digits, 0).label("geojson"),
    ]


def _base(srid: int) -> Select:
    if srid not in OUTPUT_EPSG:
        raise InvalidInput(f"Output CRS EPSG:{srid} is not offered; use 4326, 25832 or 25833",
                           field="crs", value=srid)
    return (
        select(*_columns(srid))
        .join(Municipality, Municipality.kommunenummer == Plot.kommunenummer)
        .join(Arealformal, Arealformal.code == Plot.arealformal)
    )


def _filter_values(q: PlotQuery, public: bool) -> dict[str, Any]:
    """The filters ``q`` uses, by name, each with its value (None for a filter without one).

    The names decide the SQL (:func:`_filter_sql`), the values are its bind parameters: two
    queries with the same names share one statement (see :func:`search_plots_json`)."""
    v: dict[str, Any] = {}
    if public:
        v["public"] = None
    elif not q.include_withdrawn and "trukket" not in q.availability:
        v["not_withdrawn"] = None
    for name, values in (("ids", q.ids), ("kommuner", q.kommuner),
                         ("availability", q.availability),
                         ("purpose_groups", q.purpose_groups), ("arealformal", q.arealformal)):
        if values:
            v[name] = list(values)
    for name in ("min_daa", "max_daa", "min_power_mw"):
        if getattr(q, name) is not None:
            v[name] = float(getattr(q, name))
    for name in ("road_access", "water_sewer", "updated_after", "updated_before"):
        if getattr(q, name) is not None:
            v[name] = getattr(q, name)
    if q.byggeklar is not None:
        v["byggeklar" if q.byggeklar else "not_byggeklar"] = None
    if q.bbox is not None:
        v["bbox"] = _bbox_wkb(q.bbox, q.bbox_crs)
    if q.near is not None:
        v["near"] = shapely.to_wkb(to_store_crs(read_geometry(q.near), q.near_crs))
        v["near_distance_m"] = float(q.near_distance_m)
    if q.q:
        v["like"] = "%" + q.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    if getattr(q, "reach_to", None) is not None and \
            getattr(q, "reach_within_min", None) is not None:
        v["reach_to"], v["reach_within_min"] = q.reach_to, float(q.reach_within_min)
    if q.published is not None and not public:  # planners: published or unpublished only
        v["published"] = bool(q.published)
    for kind, km in sorted(q.within_km.items()):  # metres, for ST_DWithin in 25833
        v[f"within_{kind}"] = float(km) * 1000.0
    return v


#: The bind parameter types of the filters with a value (the rest are floats).
_FILTER_TYPES = {"ids": ARRAY(BigInteger), "kommuner": ARRAY(Text), "availability": ARRAY(Text),
                 "purpose_groups": ARRAY(Text), "arealformal": ARRAY(Integer),
                 "road_access": Boolean(), "water_sewer": Boolean(),
                 "updated_after": DateTime(timezone=True),
                 "updated_before": DateTime(timezone=True), "bbox": LargeBinary(),
                 "near": LargeBinary(), "like": Text(), "reach_to": Text(),
                 "published": Boolean()}


def _filter_param(name: str, value: Any = None, *, unique: bool = False) -> Any:
    return bindparam(name, value, type_=_FILTER_TYPES.get(name, Float()), unique=unique)


def _filter_sql(name: str, param: Callable[[str], Any]) -> Any:
    """The SQL condition of filter ``name`` on ``Plot``; ``param(n)`` is the bind parameter of
    filter ``n``'s value."""
    if name == "public":
        return and_(Plot.published.is_(True), Plot.availability != "trukket")
    if name == "not_withdrawn":
        return Plot.availability != "trukket"
    if name in ("byggeklar", "not_byggeklar"):
        ready = and_(Plot.road_access.is_(True), Plot.water_sewer.is_(True))
        return ready if name == "byggeklar" else ~ready
    column = {"ids": Plot.id, "kommuner": Plot.kommunenummer,
              "availability": Plot.availability, "purpose_groups": Plot.purpose_group,
              "arealformal": Plot.arealformal}.get(name)
    if column is not None:
        return column == any_(param(name))
    if name in ("min_daa", "max_daa", "min_power_mw", "updated_after", "updated_before"):
        col = {"min_daa": Plot.area_daa, "max_daa": Plot.area_daa,
               "min_power_mw": Plot.power_capacity_mw, "updated_after": Plot.updated_at,
               "updated_before": Plot.updated_at}[name]
        return col >= param(name) if name.startswith(("min", "updated_after")) \
            else col <= param(name)
    if name in ("road_access", "water_sewer"):
        return getattr(Plot, name).is_not_distinct_from(param(name))
    if name == "bbox":
        return func.ST_Intersects(Plot.geom, func.ST_GeomFromWKB(param(name), STORE_EPSG))
    if name == "near":
        return func.ST_DWithin(Plot.geom, func.ST_GeomFromWKB(param(name), STORE_EPSG),
                               param("near_distance_m"))
    if name == "like":
        like = param(name)
        return or_(Plot.name.ilike(like), Plot.description.ilike(like),
                   Plot.external_ref.ilike(like), Plot.plan_id.ilike(like))
    if name == "published":
        return Plot.published == param(name)
    if name.startswith("within_"):
        from landreg.registry.distances import within_condition

        return within_condition(name.removeprefix("within_"), param(name))
    if name == "reach_to":
        from landreg.routing.filter import reach_conditions

        return reach_conditions(SimpleNamespace(reach_to=param(name),
                                                reach_within_min=param("reach_within_min")),
                                Plot.id)[0]
    raise ValueError(f"no SQL for the filter {name!r}")


#: Values that belong to another filter's condition (near's distance, the reach's minutes).
_PARTNERS = ("near_distance_m", "reach_within_min")


def _conditions(q: PlotQuery, public: bool) -> list:
    """The SQL conditions of ``q`` on ``Plot`` (values bound; the public see published plots)."""
    values = _filter_values(q, public)
    params: dict[str, Any] = {}

    def param(name: str) -> Any:  # one bind parameter per value, however often it is used
        if name not in params:
            params[name] = _filter_param(name, values[name], unique=True)
        return params[name]

    return [_filter_sql(name, param) for name in values if name not in _PARTNERS]


def _bbox_25833(bbox: tuple[float, float, float, float], crs: object):
    """The bbox as a polygon in 25833: its edges densified and transformed, so a longitude/
    latitude box keeps its true (curved) outline instead of growing to an enclosing rectangle
    (:func:`_bbox_wkb` as a shapely polygon)."""
    return shapely.from_wkb(_bbox_wkb(bbox, crs))


#: The head of a little-endian WKB polygon of one ring: byte order, type 3, 1 ring, points.
_WKB_POLYGON = struct.Struct("<BIII")


def _steps(length: float, tolerance: float) -> np.ndarray:
    """The fractions along an edge of ``length`` where GEOS's densifier (``shapely.segmentize``)
    puts its inner points, computed as it computes them, so the outline is the same to the
    bit."""
    n = math.ceil(length / tolerance)
    return (np.arange(1, n) * (length / n)) / length if n > 1 else np.empty(0)


def _bbox_wkb(bbox: tuple[float, float, float, float], crs: object) -> bytes:
    """The WKB of the bbox as a polygon in 25833: its edges densified (32 segments along the
    longer side) and transformed, so a longitude/latitude box keeps its true (curved) outline
    instead of growing to an enclosing rectangle.

    On every search with a bbox (the map's requests), so built with numpy straight into WKB:
    the same bytes as ``shapely.segmentize(box(...))`` transformed and written by shapely
    (tests/web/test_bbox_outline.py compares them), at under half its CPU."""
    minx, miny, maxx, maxy = bbox
    epsg, geographic, tr = store_transform(crs)
    if epsg == STORE_EPSG:
        return shapely.to_wkb(box(minx, miny, maxx, maxy))
    if geographic:  # clamp to the world so a generous box does not fail to project
        minx, maxx = max(minx, -180.0), min(maxx, 180.0)
        miny, maxy = max(miny, -90.0), min(maxy, 90.0)
        if not (minx < maxx and miny < maxy):
            raise InvalidInput(
                "bbox is not longitude/latitude: its numbers look like metres. Say which CRS "
                "they are in with bbox-crs (e.g. EPSG:25833).", field="bbox",
                value=",".join(f"{v:g}" for v in bbox))
    w, h = maxx - minx, maxy - miny
    tolerance = max(w, h) / 32
    fw, fh = _steps(math.sqrt(w * w), tolerance), _steps(math.sqrt(h * h), tolerance)
    nw, nh = len(fw) + 1, len(fh) + 1
    n = 2 * (nw + nh) + 1
    x, y = np.empty(n), np.empty(n)
    # shapely's box: from (maxx, miny) up the east edge, west along the north edge, down the
    # west edge, east along the south edge and back
    x[:nh], y[0], y[1:nh] = maxx, miny, miny + fh * h
    i = nh
    y[i:i + nw], x[i], x[i + 1:i + nw] = maxy, maxx, maxx + fw * -w
    i += nw
    x[i:i + nh], y[i], y[i + 1:i + nh] = minx, maxy, maxy + fh * -h
    i += nh
    y[i:i + nw], x[i], x[i + 1:i + nw] = miny, minx, minx + fw * w
    x[-1], y[-1] = maxx, miny
    tr.transform(x, y, inplace=True)
    xy = np.empty((n, 2), dtype="<f8")
    xy[:, 0], xy[:, 1] = x, y
    return _WKB_POLYGON.pack(1, 3, 1, n) + xy.tobytes()


def _order(sort: list[str], cols: Any = None) -> list:
    """ORDER BY terms for ``sort`` (then id), on the plot table or on ``cols`` (a CTE's)."""
    order = []
    for key in sort:
        name = key.lstrip("-")
        col = SORT_KEYS[name] if cols is None else cols[name]
        order.append(col.desc().nulls_last() if key.startswith("-") else col.asc().nulls_last())
    order.append(Plot.id if cols is None else cols["id"])
    return order


def search_plots(session: Session, query: PlotQuery, *, public: bool = True,
                 srid: int = 4326) -> Page:
    """Find plots matching ``query``; the public see published plots and public fields only.

    Features as dicts, for callers that work on them (pages, forum, scores); the web services
    send :func:`search_plots_json`'s bytes instead, which hold the same features."""
    query.validate()
    conds = _conditions(query, public)
    total = session.execute(select(func.count()).select_from(Plot).where(*conds)).scalar_one()
    order = _order(query.sort)
    rows = session.execute(
        _base(srid).where(*conds).order_by(*order).limit(query.limit).offset(query.offset)
    ).all()
    return Page([_feature(r, public) for r in rows], total, query.limit, query.offset)


def fetch_one(session: Session, plot_id: int, *, public: bool = True, srid: int = 4326,
              published_only: bool | None = None) -> dict:
    """One plot as a feature, or :class:`NotFound` (also for unpublished plots, to the public).

    ``public`` chooses the fields (public ones only) and, unless ``published_only`` says
    otherwise, also hides unpublished and withdrawn plots: a handout for investors made by a
    planner (``public=True, published_only=False``) shows an unpublished plot's public fields.
    """
    if not 0 < plot_id < 2**63:
        raise NotFound(key="err_no_plot", params={"id": str(plot_id)}, field="id", value=plot_id)
    conds = [Plot.id == plot_id]
    if public if published_only is None else published_only:
        conds += [Plot.published.is_(True), Plot.availability != "trukket"]
    row = session.execute(_base(srid).where(*conds)).first()
    if row is None:
        raise NotFound(key="err_no_plot", params={"id": str(plot_id)}, field="id", value=plot_id)
    return _feature(row, public)


def _feature(row: Any, public: bool) -> dict[str, Any]:
    plot: Plot = row[0]
    props: dict[str, Any] = {}
    fields = PUBLIC_FIELDS if public else PUBLIC_FIELDS + INTERNAL_FIELDS
    for name in fields:
        if name == "kommunenavn":
            props[name] = row.kommunenavn
        elif name == "arealformal_name":
            props[name] = row.arealformal_name
        elif name == "byggeklar":
            props[name] = bool(plot.road_access and plot.water_sewer)
        else:
            value = getattr(plot, name)
            if name == "price_nok_m2" and value is not None:
                value = float(value)
            elif name == "area_daa":
                value = round(value, 3)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            props[name] = value
    return {"type": "Feature", "id": plot.id, "geometry": json.loads(row.geojson),
            "properties": props}


# --- The hot path: whole features serialised by PostgreSQL -------------------------------
#
# The web services (OGC API items, /api/plots) send what PostgreSQL writes: each feature is one
# text value built in SQL, the page one ``string_agg`` of them, so no feature is ever a Python
# object. Every value is written exactly as Python's json (Flask's provider: compact, no ASCII
# escaping, keys in field order) writes the dict of :func:`_feature`, byte for byte; the test
# tests/web/test_fast_path.py compares the two on every demo plot.


def _json_text(col: str) -> str:
    """A text, boolean or integer column as JSON (``null`` for NULL)."""
    return f"coalesce(to_json({col})::text, 'null')"


def _json_float(expr: str) -> str:
    """A float8 as Python's ``repr`` writes it: PostgreSQL's shortest round-trip digits, with
    ``.0`` after a whole number (``12.0``, not ``12``)."""
    # NULL fails the test and its ELSE is NULL too: coalesce makes it null
    return (f"coalesce(CASE WHEN ({expr}) = trunc({expr}) AND abs({expr}) < 1e15 "
            f"THEN trunc({expr})::bigint || '.0' ELSE ({expr})::text END, 'null')")


def _json_time(col: str) -> str:
    """A timestamptz as ``datetime.isoformat()`` writes it (microseconds only when not 0), in
    the session's time zone like the datetime psycopg returns."""
    return (f"coalesce('\"' || replace(to_char({col}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM'), "
            "'.000000', '') || '\"', 'null')")


def _property_sql(name: str) -> str:
    if name == "kommunenavn":
        return _json_text("municipality.name")
    if name == "arealformal_name":
        return _json_text("arealformal.name_nb")
    if name == "byggeklar":
        return "coalesce(to_json(plot.road_access AND plot.water_sewer)::text, 'false')"
    if name == "area_daa":
        return _json_float("round(plot.area_daa::text::numeric, 3)::float8")
    if name == "price_nok_m2":
        return _json_float("plot.price_nok_m2::float8")
    column = Plot.__table__.c[name]
    kind = column.type.python_type
    if kind is float:
        return _json_float(f"plot.{name}")
    if kind.__name__ == "datetime":
        return _json_time(f"plot.{name}")
    return _json_text(f"plot.{name}")


#: The stored drive minutes of a plot (issue 13) as a JSON object {destination: minutes}.
#: Written compact, as Python's json writes it (json_object_agg would add spaces).
_MINUTES_SQL = ("coalesce((SELECT '{' || string_agg(to_json(r.target)::text || ':' || "
                "coalesce(round(r.minutes::numeric, 1)::text, 'null'), ',' ORDER BY r.target) "
                "|| '}' FROM plot_reach r WHERE r.plot_id = plot.id), '{}')")


#: The public fields PostgreSQL keeps written in ``plot.feature_parts`` (migration 0014), three
#: pieces around the two names read from other tables; ``_LIVE_TAIL`` is formatted per request
#: (``updated_at`` in the reader's time zone). Rewritten with every write of the row, so a
#: page of 1,000 features no longer formats 26,000 values (20 of its 27 ms in PostgreSQL).
_STORED_PARTS = (("id", "external_ref", "name", "kommunenummer"), ("area_daa", "arealformal"),
                 ("plan_status", "plan_id", "plan_name", "plan_legal_status", "purpose_group",
                  "availability", "road_access", "water_sewer", "power_capacity_mw",
                  "byggeklar", "ownership", "price_nok_m2", "max_bya_pct", "max_height_m",
                  "contact", "description"))
_LIVE_TAIL = ("updated_at", "version")
_STORED_ORDER = (_STORED_PARTS[0] + ("kommunenavn",) + _STORED_PARTS[1] + ("arealformal_name",)
                 + _STORED_PARTS[2] + _LIVE_TAIL)
_STORED_SQL = ("plot.feature_parts[1] || ',\"kommunenavn\":' || "
               f"{_property_sql('kommunenavn')} || plot.feature_parts[2] || "
               f"',\"arealformal_name\":' || {_property_sql('arealformal_name')} || "
               "plot.feature_parts[3]")


@lru_cache(maxsize=16)
def _feature_sql(public: bool, srid: int, minutes: bool = False) -> str:
    """SQL for one plot as GeoJSON Feature text (tables plot, municipality, arealformal);
    ``minutes`` adds the properties ``drive_min`` (stored drive minutes per destination) and
    ``dist_m`` (metres to E16/Rv2, junction, railway and station: registry/distances.py)."""
    if srid not in OUTPUT_EPSG:
        raise InvalidInput(f"Output CRS EPSG:{srid} is not offered; use 4326, 25832 or 25833",
                           field="crs", value=srid)
    digits = 7 if srid == 4326 else 2
    fields = PUBLIC_FIELDS if public else PUBLIC_FIELDS + INTERNAL_FIELDS
    # the separators are part of the keys' literals: a shorter statement (below 4 kB psycopg
    # keeps its parsed form, instead of parsing it on every request)
    live = [f"'{',' if i else ''}\"{n}\":' || {_property_sql(n)}" for i, n in enumerate(fields)]
    if fields[:len(_STORED_ORDER)] == _STORED_ORDER:  # the stored pieces, the rest live
        live = [_STORED_SQL] + live[len(_STORED_ORDER) - len(_LIVE_TAIL):]
    props = " || ".join(live)
    if minutes:
        from landreg.registry.distances import JSON_SQL

        props += f" || ',\"drive_min\":' || {_MINUTES_SQL} || ',\"dist_m\":' || {JSON_SQL}"
    geometry = ("plot.feature_geojson" if srid == 4326 else
                f"ST_AsGeoJSON(ST_Transform(plot.geom, {int(srid)}), {digits}, 0)")
    return ("'{\"type\":\"Feature\",\"id\":' || plot.id || ',\"geometry\":' || "
            f"{geometry} || ',\"properties\":{{' || {props} || '}}}}'")


def _joined(table: Any) -> Any:
    return (table.join(Municipality, Municipality.kommunenummer == Plot.kommunenummer)
            .join(Arealformal, Arealformal.code == Plot.arealformal))


@dataclass
class JsonPage:
    """One page of results as GeoJSON text: ``features`` is the JSON array, written by
    PostgreSQL."""

    features: bytes
    number_matched: int
    number_returned: int


def search_plots_json(session: Session | Connection | Engine, query: PlotQuery, *,
                      public: bool = True, srid: int = 4326, extra: list | None = None,
                      minutes: bool = False) -> JsonPage:
    """Like :func:`search_plots`, but the features come as the bytes of a JSON array built by
    PostgreSQL, and the count and the page come in one statement: the matching plots are
    found once (a CTE of ids and sort keys), counted, and the page's features joined to them.

    ``extra`` are further SQL conditions on ``Plot`` (ANDed with the query's); ``minutes``
    adds each plot's stored drive minutes as ``drive_min`` and its distances as ``dist_m``.

    The statement depends only on which filters the query uses (their values are parameters),
    so it is built and compiled once per combination (:func:`_page_sql`) and each request
    only sends its values: no SQL construction, no compilation, a statement PostgreSQL keeps
    prepared. Only ``extra`` conditions (arbitrary SQL) make a statement of their own. Given
    an engine (the web services), the statement runs alone in autocommit, through the driver
    (:func:`landreg.db.read_row`)."""
    query.validate()
    values = _filter_values(query, public)
    if extra:
        conds = _conditions(query, public) + list(extra)
        stmt = _page_select(conds, tuple(query.sort), public, srid, minutes, query.limit,
                            query.offset)
        with _connection(session) as conn:
            matched, returned, text = conn.execute(stmt).one()
    else:
        sql, constants = _page_sql(tuple(values), tuple(query.sort), public, srid, minutes,
                                   session.dialect if isinstance(session, Engine)
                                   else _connection_of(session).dialect)
        matched, returned, text = _read_row(session, sql, {
            **constants, **values, "page_limit": query.limit, "page_offset": query.offset,
        })
    return JsonPage(b"".join((b"[", _utf8(text), b"]")), matched, returned)  # one copy


def _connection_of(session: Session | Connection) -> Connection:
    return session.connection() if isinstance(session, Session) else session


@contextmanager
def _connection(session: Session | Connection | Engine) -> Iterator[Connection]:
    """A connection of ``session``, or a pooled one in autocommit from an engine."""
    if isinstance(session, Engine):
        with session.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")
    else:
        yield _connection_of(session)


def _read_row(session: Session | Connection | Engine, sql: str, params: dict[str, Any]
              ) -> Any:
    """The first row of driver SQL ``sql``: through the driver when given an engine
    (:func:`landreg.db.read_row`), else on the session's connection."""
    if isinstance(session, Engine):
        return read_row(session, sql, params, text_as_bytes=True)
    return _connection_of(session).exec_driver_sql(sql, params).first()


def _utf8(text: str | bytes | None) -> bytes:
    """Text from :func:`_read_row` as UTF-8 bytes (the driver's own when read from an
    engine)."""
    if text is None:
        return b""
    return text if isinstance(text, bytes) else text.encode()


def _page_select(conds: list, sort: tuple[str, ...], public: bool, srid: int, minutes: bool,
                 limit: Any, offset: Any) -> Select:
    """The one statement of :func:`search_plots_json`: (count, returned, features text)."""
    feature = literal_column(_feature_sql(public, srid, minutes))
    keys = {k.lstrip("-") for k in sort} | {"id"}
    hits = select(*[SORT_KEYS[k].label(k) for k in sorted(keys)]).where(*conds).cte("hits")
    page = select(hits.c.id).order_by(*_order(list(sort), hits.c)).limit(limit).offset(offset)
    # = ANY(ARRAY(page)): index lookups of the page's plots (a join made PostgreSQL hash the
    # whole table); the features keep the page's order by sorting on the same keys
    features = (
        select(func.count(),
               func.string_agg(feature, aggregate_order_by(literal(","), *_order(list(sort)))))
        .select_from(_joined(Plot.__table__))
        .where(Plot.id == func.any(func.array(page.scalar_subquery())))
        .subquery())
    return select(select(func.count()).select_from(hits).scalar_subquery(), features)


#: Compiled page statements kept (one per combination of filters, sort, fields and CRS).
PAGE_SQL_CACHE_SIZE = 256


@lru_cache(maxsize=PAGE_SQL_CACHE_SIZE)
def _page_sql(names: tuple[str, ...], sort: tuple[str, ...], public: bool, srid: int,
              minutes: bool, dialect: Any) -> tuple[str, dict[str, Any]]:
    """:func:`_page_select` for the filters ``names``, compiled for the driver: its SQL text
    with named parameters, and the constants among them (the values come per request)."""
    conds = [_filter_sql(n, _filter_param) for n in names if n not in _PARTNERS]
    stmt = _page_select(conds, sort, public, srid, minutes,
                        bindparam("page_limit", type_=Integer),
                        bindparam("page_offset", type_=Integer))
    compiled = stmt.compile(dialect=dialect)
    constants = {k: v for k, v in compiled.params.items()
                 if k not in names and k not in ("page_limit", "page_offset")}
    return compiled.string, constants


def fetch_one_json(session: Session | Connection | Engine, plot_id: int, *, public: bool = True,
                   srid: int = 4326, published_only: bool | None = None) -> bytes:
    """Like :func:`fetch_one`, but the feature as the bytes of its GeoJSON, built by
    PostgreSQL (one statement compiled once per kind of reader and CRS, the id a parameter)."""
    if not 0 < plot_id < 2**63:
        raise NotFound(key="err_no_plot", params={"id": str(plot_id)}, field="id", value=plot_id)
    published = public if published_only is None else published_only
    dialect = session.dialect if isinstance(session, Engine) else _connection_of(session).dialect
    sql, constants = _one_sql(public, srid, bool(published), dialect)
    row = _read_row(session, sql, {**constants, "plot_id": plot_id})
    text = row[0] if row is not None else None
    if text is None:
        raise NotFound(key="err_no_plot", params={"id": str(plot_id)}, field="id", value=plot_id)
    return _utf8(text)


@lru_cache(maxsize=16)
def _one_sql(public: bool, srid: int, published: bool, dialect: Any
             ) -> tuple[str, dict[str, Any]]:
    """:func:`fetch_one_json`'s statement compiled for the driver (parameter ``plot_id``), and
    its constants."""
    conds = [Plot.id == bindparam("plot_id", type_=BigInteger)]
    if published:
        conds.append(_filter_sql("public", _filter_param))
    stmt = (select(literal_column(_feature_sql(public, srid)))
            .select_from(_joined(Plot.__table__)).where(*conds))
    compiled = stmt.compile(dialect=dialect)
    return compiled.string, {k: v for k, v in compiled.params.items() if k != "plot_id"}
