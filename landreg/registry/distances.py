"""Straight-line distances from a plot to E16/Rv2, the nearest E16/Rv2 junction, the railway
and the nearest station, computed by PostGIS from the stored reference layers (issue 12).

The suitability criteria (``dist_main_road``, ``dist_junction``, ``dist_rail``,
``dist_station`` in layers/criteria.yaml) measure the same things on a raster grid; these are
the exact vector distances (plot outline to feature, 0 when they touch).

They are stored (``plot_distance``, migration 0013) by :func:`refresh`, ONE set-based statement
over every stale plot, run where drive minutes and scores are refreshed, after saves and
imports, and after the reference layers load. A stored row says which plot version and which
reference data version (``distance_source``, bumped by a trigger on every change to
``reference_feature`` and ``route_target``) it was computed from; readers use it only when both
are current and otherwise compute the distance as before (four nearest-neighbour lookups). So
a search never shows, drops or includes a plot by an outdated distance, whoever wrote the
plot or the layers and whether or not a refresh ran: a missed refresh costs speed, not truth.

A filter on the stored metres is exact: the stored value is ``ST_Distance`` to the nearest
feature as the ``<->`` operator ranks them (PostGIS computes both with the same 2D minimum
distance), and ``min ST_Distance <= d`` holds exactly when some feature is ``ST_DWithin`` d.

The junctions are the drive-time network's ``junction`` target (route_target): points where
E16/Rv2 meet another E, R or F road, the same rule as the ``dist_junction`` criterion.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, column, exists, func, select, table, text
from sqlalchemy.orm import Session

#: Distance kinds: the query parameter is ``<kind>_km``; the feature property ``dist_m[kind]``.
KINDS = ("road", "junction", "rail", "station")

#: Each kind's features as ``FROM … WHERE …`` (alias ``s``, geometry ``s.geom`` in 25833).
_SOURCES = {
    "road": ("reference_feature s WHERE s.layer = 'roads' AND ("
             "(s.properties->>'vegkategori' = 'E' AND s.properties->>'vegnummer' IN ('16', '16.0'))"
             " OR (s.properties->>'vegkategori' = 'R' AND s.properties->>'vegnummer' IN "
             "('2', '2.0')))"),
    "junction": "route_target s WHERE s.target = 'junction'",
    "rail": "reference_feature s WHERE s.layer = 'rail'",
    "station": "reference_feature s WHERE s.layer = 'stations'",
}

#: Parameters of /api/plots (and the ranking API, the OGC items), with their descriptions.
PARAMS: dict[str, str] = {
    "road_km": "only plots at most this many km (straight line) from E16 or Rv2",
    "junction_km": "only plots at most this many km from an E16/Rv2 junction (where E16/Rv2 "
                   "meets another E, R or F road)",
    "rail_km": "only plots at most this many km from the railway",
    "station_km": "only plots at most this many km from a railway station",
}

#: The largest distance a filter may ask for (km): the region is about 100 km across.
MAX_KM = 200.0


def within_sql(kind: str, plot: str = "plot") -> str:
    """SQL: ``plot`` lies within ``:<kind>_m`` metres of a feature of ``kind``."""
    # constant text only: kinds and table aliases are this module's, values are bound
    return (f"EXISTS (SELECT 1 FROM {_SOURCES[kind]} AND "  # noqa: S608
            f"ST_DWithin(s.geom, {plot}.geom, :{kind}_m))")


def nearest_sql(kind: str, plot: str = "plot") -> str:
    """SQL: the distance in metres from ``plot`` to the nearest feature of ``kind`` (NULL when
    the layer is empty)."""
    return (f"(SELECT ST_Distance(s.geom, {plot}.geom) FROM {_SOURCES[kind]} "  # noqa: S608
            f"ORDER BY s.geom <-> {plot}.geom LIMIT 1)")


#: The reference data version current now (one row; an InitPlan, read once per statement).
SOURCE_VERSION_SQL = "(SELECT version FROM distance_source WHERE id = 1)"

def _current_sql(plot: str = "plot") -> str:
    """SQL: the ``plot_distance`` row ``d`` belongs to ``plot`` and is current."""
    return (f"d.plot_id = {plot}.id AND d.plot_version = {plot}.version "
            f"AND d.source_version = {SOURCE_VERSION_SQL}")


def _json_sql(values: dict[str, str]) -> str:
    """Whole metres per kind as compact JSON text, from one SQL expression per kind."""
    return ("'{' || " + " || ',' || ".join(
        f"'\"{k}\":' || coalesce(round({values[k]})::bigint::text, 'null')" for k in KINDS)
        + " || '}'")


#: ``dist_m`` computed now (four nearest-neighbour lookups).
LIVE_JSON_SQL = _json_sql({k: nearest_sql(k) for k in KINDS})

#: The feature property ``dist_m``: the stored row when current, else computed now
#: (``coalesce`` evaluates the lookups only when no current row exists).
JSON_SQL = (f"coalesce((SELECT {_json_sql({k: f'd.{k}' for k in KINDS})} "  # noqa: S608
            f"FROM plot_distance d WHERE {_current_sql()}), {LIVE_JSON_SQL})")

_stored = table("plot_distance", column("plot_id"), column("plot_version"),
                column("source_version"), *[column(k) for k in KINDS])
_source = table("distance_source", column("id"), column("version"))


def within_condition(kind: str, metres: Any) -> Any:
    """SQL condition on ``plot``: it lies within ``metres`` (a bind parameter or a number) of a
    feature of ``kind``.

    From the stored metres when the plot's row is current (one primary-key lookup); else, and
    also when the layer is empty (a stored NULL), by ``ST_DWithin`` against the GiST index of
    the reference layer, as before storing: a plot is never dropped or let in by a distance
    computed from an old outline or old layers."""
    from landreg.models import Plot

    stored = (select(_stored.c[kind] <= metres)
              .where(_stored.c.plot_id == Plot.id, _stored.c.plot_version == Plot.version,
                     _stored.c.source_version == select(_source.c.version)
                     .where(_source.c.id == 1).scalar_subquery())
              .scalar_subquery())
    features = text(f"SELECT s.geom FROM {_SOURCES[kind]}").columns(  # noqa: S608
        column("geom")).subquery("s")
    live = exists().where(func.ST_DWithin(features.c.geom, Plot.geom, metres))
    return func.coalesce(stored, live, type_=Boolean)


_STALE_SQL = (f"FROM plot LEFT JOIN plot_distance d ON d.plot_id = plot.id "
              f"WHERE (d.plot_id IS NULL OR d.plot_version <> plot.version "
              f"OR d.source_version <> {SOURCE_VERSION_SQL})")

#: ONE statement computing every stale plot's distances (set-based: the planner runs the four
#: nearest-neighbour lookups per stale plot inside one scan). Rows are written in plot id
#: order, so two refreshes wait for each other's rows in one order and never deadlock; one
#: that saw an older version never overwrites a newer row.
_REFRESH_SQL = (
    "INSERT INTO plot_distance AS t (plot_id, plot_version, source_version, "
    + ", ".join(KINDS) + ", computed_at) "
    f"SELECT plot.id, plot.version, {SOURCE_VERSION_SQL}, "
    + ", ".join(nearest_sql(k) for k in KINDS) + ", now() " + _STALE_SQL + "{ids} "
    "ORDER BY plot.id ON CONFLICT (plot_id) DO UPDATE SET plot_version = excluded.plot_version, "
    "source_version = excluded.source_version, "
    + ", ".join(f"{k} = excluded.{k}" for k in KINDS) + ", computed_at = excluded.computed_at "
    "WHERE t.plot_version <= excluded.plot_version "
    "AND t.source_version <= excluded.source_version")


def refresh(session: Session, plot_ids: list[int] | None = None) -> int:
    """Store the distances of every plot (or of ``plot_ids``) whose stored row is missing or
    stale, in one statement; returns how many were computed. Runs in the caller's
    transaction (its snapshot: a plot saved in it is measured as saved)."""
    if plot_ids is not None and not plot_ids:
        return 0
    ids = " AND plot.id = ANY(:ids)" if plot_ids is not None else ""
    bind = {"ids": [int(i) for i in plot_ids]} if plot_ids is not None else {}
    result = session.execute(text(_REFRESH_SQL.format(ids=ids)), bind)
    return int(result.rowcount or 0)


def plot_distances(session: Session, plot_id: int) -> dict[str, float | None]:
    """Metres from one plot to each kind (None when the layer is empty): the stored row when
    current, else computed now; an empty dict for an unknown plot."""
    cols = ", ".join(f"d.{k}" for k in KINDS)
    row = session.execute(text(f"SELECT {cols} FROM plot JOIN plot_distance d "  # noqa: S608
                               f"ON {_current_sql()} WHERE plot.id = :id"),
                          {"id": plot_id}).mappings().first()
    if row is None:
        cols = ", ".join(f"{nearest_sql(k)} AS {k}" for k in KINDS)
        row = session.execute(text(f"SELECT {cols} FROM plot WHERE plot.id = :id"),  # noqa: S608
                              {"id": plot_id}).mappings().first()
    return dict(row) if row else {}
