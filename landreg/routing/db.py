"""Drive times in PostGIS with pgRouting: the network tables, per-plot minutes, isochrones.

Every target (Gardermoen, the nearest station …) is reached from a *super source*: a virtual
vertex joined to each of the target's points by its access leg. One ``pgr_drivingDistance``
from it gives the seconds to every vertex of the network, so the minutes of EVERY plot to a
target are one query (the plot's nearest main-component vertex + its own access leg), never
one query per plot. The graph is undirected (N1000 has no one-way streets), so the time from
the target outwards equals the time towards it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from cachetools import LRUCache
from sqlalchemy import text
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput, NotFound
from landreg.routing import isochrone
from landreg.routing.network import (
    Network,
    Target,
    access_speed,
    load_network,
    network_config,
    network_version,
)

#: Virtual vertex ids of the targets' super sources: far above any real vertex.
SUPER = 1_000_000_000

#: Advisory lock serialising network loads and reach refreshes across workers.
LOCK_KEY = 0x1A4D13

#: Isochrone minutes allowed.
MAX_ISO_MINUTES = 180


def edges_sql(key: int) -> str:
    """The edge query pgRouting runs for target ``key`` (an int: safe to inline)."""
    key = int(key)  # pgRouting takes the edge query as text: only an int is ever inlined
    return ("SELECT id, source, target, cost FROM road_edge WHERE through "  # noqa: S608
            f"UNION ALL SELECT -({key} * 100000 + n), {SUPER + key}, vertex_id, "
            f"access_s + 0.001 FROM route_target WHERE key = {key}")


def loaded_version(session: Session) -> str | None:
    """The version of the network in the database, or None."""
    return session.execute(text("SELECT version FROM road_network_meta WHERE id = 1")
                           ).scalar_one_or_none()


def load(session: Session, net: Network, force: bool = False) -> bool:
    """Replace the network tables with ``net`` unless that version is loaded already."""
    if not force and loaded_version(session) == net.version:
        return False
    # One loader at a time (workers may notice a new network together); the second waits
    # here and then finds the version loaded.
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    if not force and loaded_version(session) == net.version:
        return False
    if net.edges is None:  # read back from the tables, which have lost it since: the source
        net = load_network(net.layers_dir or "")
    for table in ("plot_reach", "route_target", "road_edge", "road_vertex"):
        session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
    v = net.vertices
    session.execute(text("INSERT INTO road_vertex (id, main, geom) VALUES "
                         "(:id, :main, ST_SetSRID(ST_MakePoint(:x, :y), 25833))"),
                    [{"id": i, "main": bool(net.main[i]), "x": float(v[i, 0]),
                      "y": float(v[i, 1])} for i in range(len(v))])
    e = net.edges
    wkb = shapely.to_wkb(e.geometry.values)
    session.execute(text(
        "INSERT INTO road_edge (id, source, target, cost, length_m, through, category, number,"
        " road_type, motorway, geom) VALUES (:id, :s, :t, :c, :l, :th, :cat, :num, :rt, :mw,"
        " ST_SetSRID(ST_GeomFromWKB(:g), 25833))"),
        [{"id": i + 1, "s": int(r.source), "t": int(r.target), "c": float(r.cost_s),
          "l": float(r.length_m), "th": bool(r.through), "cat": r.category, "num": r.number,
          "rt": r.road_type, "mw": r.motorway, "g": wkb[i]}
         for i, r in enumerate(e.itertuples())])
    rows = []
    for t in net.targets.values():
        for n, (vid, acc, pt) in enumerate(zip(t.vertices, t.access_s, t.points, strict=True)):
            rows.append({"t": t.id, "k": t.key, "n": n, "name": t.names[n] if n < len(t.names)
                         else t.id, "v": int(vid), "a": float(acc), "x": float(pt[0]),
                         "y": float(pt[1])})
    session.execute(text("INSERT INTO route_target (target, key, n, name, vertex_id, access_s,"
                         " geom) VALUES (:t, :k, :n, :name, :v, :a,"
                         " ST_SetSRID(ST_MakePoint(:x, :y), 25833))"), rows)
    session.execute(text("INSERT INTO road_network_meta (id, version) VALUES (1, :v) "
                         "ON CONFLICT (id) DO UPDATE SET version = :v, loaded_at = now()"),
                    {"v": net.version})
    session.execute(text("ANALYZE road_edge; ANALYZE road_vertex"))
    ISOCHRONES.clear()
    with _SECONDS_LOCK:
        _SECONDS.clear()
    from landreg.registry import distances

    distances.refresh(session)  # new junctions: the stored junction distances (issue 10)
    return True


#: Networks read back from the database's tables, per version (the newest two).
_SERVED: dict[str, Network] = {}
_SERVED_LOCK = threading.Lock()


def served_network(session: Session, layers_dir: Path | str) -> Network:
    """The network of ``layers_dir`` for answering requests: read back from the database's
    tables when they hold this version (the version is the files' hash), without reading the
    source — GDAL (pyogrio's copy, ~50 MB) and the links' frames stay out of the server's
    workers. Its ``edges`` are None: answers need the vertices and targets only. A version not
    in the database yet is read from the source (the caller's refresh then loads it)."""
    version = network_version(layers_dir)
    with _SERVED_LOCK:
        hit = _SERVED.get(version)
    if hit is not None:
        return hit
    if loaded_version(session) != version:
        return load_network(layers_dir)
    net = _from_tables(session, Path(layers_dir), version)
    with _SERVED_LOCK:
        if len(_SERVED) >= 2:  # older versions
            _SERVED.clear()
        _SERVED[version] = net
    return net


def _from_tables(session: Session, layers_dir: Path, version: str) -> Network:
    """The vertices and targets :func:`load` wrote, as the :class:`Network` they came from
    (same order, same coordinates), names and access speed from the configuration."""
    cfg = network_config(layers_dir)
    rows = session.execute(text("SELECT id, main, ST_X(geom), ST_Y(geom) FROM road_vertex "
                                "ORDER BY id")).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if not np.array_equal(ids, np.arange(len(rows))):
        return load_network(layers_dir)  # not as load() writes them: read the source
    vertices = np.array([(r[2], r[3]) for r in rows], dtype=np.float64).reshape(-1, 2)
    main = np.fromiter((r[1] for r in rows), dtype=bool, count=len(rows))
    specs = cfg.get("targets") or {}
    points: dict[str, list] = {}
    for tid, key, name, vid, acc, x, y in session.execute(text(
            "SELECT target, key, name, vertex_id, access_s, ST_X(geom), ST_Y(geom) "
            "FROM route_target ORDER BY key, n")):
        points.setdefault(tid, [key, []])[1].append((name, vid, acc, x, y))
    targets = {}
    for tid, (key, pts) in points.items():
        spec = specs.get(tid, {})
        targets[tid] = Target(
            tid, key, spec.get("name_nb", tid), spec.get("name_en", tid),
            np.array([p[1] for p in pts], dtype=np.int64),
            np.array([p[2] for p in pts], dtype=np.float64),
            np.array([(p[3], p[4]) for p in pts], dtype=np.float64), [p[0] for p in pts])
    return Network(vertices, main, None, targets, access_speed(cfg), version, {},
                   str(layers_dir))


# Every target is written in the same transaction, so checking the last one is enough.
_STALE_WHERE = """
    p.availability <> 'trukket' AND NOT EXISTS (
      SELECT 1 FROM plot_reach r WHERE r.plot_id = p.id AND r.target = :last
        AND r.geom_hash = md5(ST_AsBinary(p.geom)) AND r.network_version = :v)
"""

# Each stale plot's access point is found once (KNN on the main vertices) ...
_ACCESS = """
    CREATE TEMP TABLE reach_access ON COMMIT DROP AS
    SELECT p.id, md5(ST_AsBinary(p.geom)) AS h, v.id AS vid, ST_Distance(p.geom, v.geom) AS d
    FROM plot p CROSS JOIN LATERAL (
      SELECT id, geom FROM road_vertex WHERE main ORDER BY geom <-> p.geom LIMIT 1) v
    WHERE """ + _STALE_WHERE  # noqa: S608 - constant text only

# ... and each target is then one driving-distance query joined to all of them.
_REACH = """
    WITH dd AS (
      SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, 1e9, directed => false)
    )
    INSERT INTO plot_reach (plot_id, target, minutes, geom_hash, network_version)
    SELECT a.id, :target, (dd.agg_cost + a.d / :speed) / 60.0, a.h, :v
    FROM reach_access a LEFT JOIN dd ON dd.node = a.vid
    ON CONFLICT (plot_id, target) DO UPDATE SET minutes = excluded.minutes,
      geom_hash = excluded.geom_hash, network_version = excluded.network_version
"""


def refresh_reach(session: Session, net: Network) -> int:
    """Load the network if needed and recompute the minutes of stale plots (new, moved, or
    from another network version): one nearest-vertex pass, then one query per target.
    Returns the number of plots recomputed. The plots' straight-line distances
    (registry/distances.py) are refreshed with them."""
    from landreg.registry import distances

    if not load(session, net):  # a load refreshes the distances itself
        distances.refresh(session)
    last = list(net.targets)[-1]
    if not session.execute(text("SELECT EXISTS (SELECT 1 FROM plot p WHERE "  # noqa: S608
                                + _STALE_WHERE + ")"), {"v": net.version, "last": last}
                           ).scalar_one():
        return 0
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    session.execute(text("DELETE FROM plot_reach WHERE network_version <> :v OR target <> ALL"
                         "(:ts)"), {"v": net.version, "ts": list(net.targets)})
    session.execute(text("SET LOCAL jit = off"))  # JIT costs more than it saves here
    session.execute(text("DROP TABLE IF EXISTS reach_access"))
    session.execute(text(_ACCESS), {"v": net.version, "last": last})
    n = session.execute(text("SELECT count(*) FROM reach_access")).scalar_one()
    for t in net.targets.values():
        session.execute(text(_REACH),
                        {"sql": edges_sql(t.key), "src": SUPER + t.key, "target": t.id,
                         "speed": net.access_speed_ms, "v": net.version})
    session.execute(text("DROP TABLE reach_access"))
    return int(n)


def plot_minutes(session: Session, plot_ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Minutes per target of each plot (rounded to 0.1), as stored."""
    out: dict[int, dict[str, float | None]] = {int(i): {} for i in plot_ids}
    if not plot_ids:
        return out
    for pid, target, minutes in session.execute(text(
            "SELECT plot_id, target, minutes FROM plot_reach WHERE plot_id = ANY(:ids)"),
            {"ids": list(plot_ids)}):
        out[pid][target] = None if minutes is None else round(float(minutes), 1)
    return out


def destinations(net: Network) -> list[dict[str, Any]]:
    """The targets with their points (for the API)."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(25833, 4326, always_xy=True)
    out = []
    for t in net.targets.values():
        lon, lat = to_wgs.transform(t.points[:, 0], t.points[:, 1])
        out.append({"id": t.id, "name_nb": t.name_nb, "name_en": t.name_en,
                    "points": len(t.points),
                    "places": [{"name": n, "lon": round(float(x), 5), "lat": round(float(y), 5)}
                               for n, x, y in zip(t.names, lon, lat, strict=False)][:50]})
    return out


class IsochroneCache:
    """Isochrone answers per (network version, target, minutes), LRU-bounded, per process."""

    def __init__(self, entries: int = 64) -> None:
        self.entries = entries
        self._items: LRUCache = LRUCache(maxsize=entries)
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict[str, Any] | None:
        """The cached answer or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple, value: dict[str, Any]) -> None:
        """Keep ``value``, dropping the least recently used beyond the bound."""
        with self._lock:
            self._items[key] = value

    def clear(self) -> None:
        """Forget everything (the network changed)."""
        with self._lock:
            self._items.clear()


ISOCHRONES = IsochroneCache()

#: Seconds from every main vertex to a target, per (network version, target): one
#: pgRouting query each, kept for the process (6 targets × 1,500 vertices: 70 KB).
_SECONDS: dict[tuple[str, str], np.ndarray] = {}
_SECONDS_LOCK = threading.Lock()

_ALL_COSTS = """
    SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, 1e9, directed => false)
    WHERE node < :super
"""


def main_seconds(session: Session, net: Network, target: str) -> np.ndarray:
    """Seconds from each main vertex (``net.vertices[net.main]`` order) to ``target`` by
    pgRouting, inf if unreachable: queried once per network version and process."""
    key = (net.version, target)
    with _SECONDS_LOCK:
        hit = _SECONDS.get(key)
    if hit is not None:
        return hit
    t = net.targets[target]
    out = np.full(len(net.vertices), np.inf)
    rows = session.execute(text(_ALL_COSTS), {"sql": edges_sql(t.key), "src": SUPER + t.key,
                                              "super": SUPER}).all()
    if rows:
        node = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        out[node] = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    sec = out[net.main]
    with _SECONDS_LOCK:
        if len(_SECONDS) > 4 * max(1, len(net.targets)):  # old network versions
            _SECONDS.clear()
        _SECONDS[key] = sec
    return sec


_LOCAL = threading.local()


def _to_wgs84(xy: np.ndarray) -> np.ndarray:
    """EPSG:25833 → EPSG:4326 (lon, lat), rounded to 5 decimals; one transformer per thread
    (pyproj transformers are not thread-safe, and building one costs milliseconds)."""
    tr = getattr(_LOCAL, "to_wgs", None)
    if tr is None:
        from pyproj import Transformer

        tr = _LOCAL.to_wgs = Transformer.from_crs(25833, 4326, always_xy=True)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lon, lat]), 5)


def parse_minutes(raw: str | None) -> list[int]:
    """``"15,30,45,60"`` → [15, 30, 45, 60]; a clear error for anything else."""
    raw = raw or "15,30,45,60"
    try:
        mins = sorted({int(x) for x in raw.split(",") if x.strip()})
    except ValueError:
        raise InvalidInput("minutes must be whole minutes separated by commas, e.g. "
                           "15,30,45,60", field="minutes", value=raw) from None
    if not mins or len(mins) > 8 or mins[0] < 1 or mins[-1] > MAX_ISO_MINUTES:
        raise InvalidInput(f"minutes: 1 to 8 values between 1 and {MAX_ISO_MINUTES}",
                           field="minutes", value=raw)
    return mins


def _geojson_wgs84(area: shapely.Geometry) -> dict[str, Any]:
    """A (Multi)Polygon in EPSG:25833 as a GeoJSON MultiPolygon in CRS84, 5 decimals (~1 m):
    all coordinates transformed at once and split into rings by their offsets (no JSON text
    made and parsed again: that cost as much as the contours)."""
    kind, xy, (ring_end, poly_end, multi_end) = shapely.to_ragged_array(
        [shapely.multipolygons(shapely.get_parts(area))])
    coords = _to_wgs84(xy).tolist()
    rings = [coords[a:b] for a, b in zip(ring_end[:-1], ring_end[1:], strict=True)]
    polys = [rings[a:b] for a, b in zip(poly_end[:-1], poly_end[1:], strict=True)]
    return {"type": "MultiPolygon", "coordinates": polys}


def isochrones(session: Session, net: Network, target: str, minutes: list[int]
               ) -> dict[str, Any]:
    """GeoJSON polygons of where ``target`` is reached within each of ``minutes`` (cached).

    A point is inside when its nearest road junction + straight access leg (at most 3 km)
    reaches the target in time — the rule of the plots' minutes and the "within N min"
    filter. The vertices' seconds are pgRouting's, once per target and network version
    (:func:`main_seconds`); the polygons are contours of that field
    (:func:`landreg.routing.isochrone.zones`), largest first."""
    if target not in net.targets:
        raise NotFound(key="err_no_destination", params={"value": str(target)[:100]},
                       field="to", value=target)
    key = (net.version, target, tuple(minutes))
    hit = ISOCHRONES.get(key)
    if hit is not None:
        return hit
    load(session, net)
    t = net.targets[target]
    areas = isochrone.zones(net, main_seconds(session, net, target), minutes)
    features = []
    for m in sorted(areas, reverse=True):  # the largest first: the map draws it below
        geometry = _geojson_wgs84(areas[m])
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": {"destination": target, "minutes": int(m),
                                        "name_nb": t.name_nb, "name_en": t.name_en}})
    out = {"type": "FeatureCollection", "features": features,
           "attribution": "Road network © Kartverket N1000 (CC BY 4.0); speeds assumed by "
                          "landreg (layers/road_speeds.yaml)"}
    ISOCHRONES.put(key, out)
    return out


def vertex_minutes_pg(session: Session, net: Network, target: str) -> np.ndarray:
    """Minutes from every vertex to ``target`` by pgRouting (NaN if unreachable)."""
    t = net.targets[target]
    out = np.full(len(net.vertices), np.nan)
    for node, cost in session.execute(text(
            "SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, 1e9, directed => false)"
            " WHERE node < :super"), {"sql": edges_sql(t.key), "src": SUPER + t.key,
                                      "super": SUPER}):
        out[int(node)] = cost / 60.0
    return out
