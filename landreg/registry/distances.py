"""Straight-line distances from a plot to E16/Rv2, the nearest E16/Rv2 junction, the railway
and the nearest station, computed by PostGIS from the stored reference layers (issue 12).

The suitability criteria (``dist_main_road``, ``dist_junction``, ``dist_rail``,
``dist_station`` in layers/criteria.yaml) measure the same things on a raster grid; these are
the exact vector distances (plot outline to feature, 0 when they touch), always current (no
score refresh needed), and index-assisted: a filter is ``ST_DWithin`` against the GiST index
of ``reference_feature``, a shown distance one nearest-neighbour (``<->``) lookup.

The junctions are the drive-time network's ``junction`` target (route_target): points where
E16/Rv2 meet another E, R or F road, the same rule as the ``dist_junction`` criterion.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import column, exists, func, text

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


def within_condition(kind: str, metres: Any) -> Any:
    """SQL condition on ``plot``: it lies within ``metres`` (a bind parameter or a number) of a
    feature of ``kind``. The sources are a subquery PostgreSQL flattens, so the GiST index of
    the reference layer serves ``ST_DWithin``."""
    from landreg.models import Plot

    features = text(f"SELECT s.geom FROM {_SOURCES[kind]}").columns(  # noqa: S608
        column("geom")).subquery("s")
    return exists().where(func.ST_DWithin(features.c.geom, Plot.geom, metres))


def nearest_sql(kind: str, plot: str = "plot") -> str:
    """SQL: the distance in metres from ``plot`` to the nearest feature of ``kind`` (NULL when
    the layer is empty)."""
    return (f"(SELECT ST_Distance(s.geom, {plot}.geom) FROM {_SOURCES[kind]} "  # noqa: S608
            f"ORDER BY s.geom <-> {plot}.geom LIMIT 1)")


#: The feature property ``dist_m``: whole metres per kind, as compact JSON text.
JSON_SQL = ("'{' || " + " || ',' || ".join(
    f"'\"{k}\":' || coalesce(round({nearest_sql(k)})::bigint::text, 'null')" for k in KINDS)
    + " || '}'")
