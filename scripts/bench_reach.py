"""Benchmark drive times: every plot to every destination, and one isochrone — pgRouting in
PostGIS side by side with Python engines on the same graph (scipy.sparse.csgraph, networkx).

Puts --plots synthetic plots (points, uniformly in the seven kommuner) into a scratch table of
a migrated database, then for each of the six targets (Gardermoen, Oslo, Alnabru, nearest
E16/Rv2 junction, nearest station, nearest border crossing):
  - pgRouting: one pgr_drivingDistance from the target's super source + a KNN join of every
    plot to its nearest main-component vertex (the exact query landreg runs, one per target),
  - scipy: one Dijkstra + a cKDTree query of the plots (points read from the same table),
  - networkx: multi-source Dijkstra + the same cKDTree (if networkx is installed: `pip install
    -e '.[bench]'`),
and checks that the three agree. Then isochrones (15/30/45/60 min) from Gardermoen (one
point) and the nearest station (44 points: the largest zones): cold (a request for minutes
not cached; with and without the target's pgRouting seconds already known) and warm, as
landreg builds them (pgRouting's seconds, contours of the nearest-junction field), with the
alternative engine (scipy's Dijkstra, no database, the same contours) and as the two previous
versions built them (a union of a disc per vertex in shapely / in PostGIS) — wall clock and
CPU of this process and of its PostgreSQL backend, with the load average. Judge by the CPU
figures on a shared machine.

Usage: .venv/bin/python scripts/bench_reach.py --database-url postgresql+psycopg://…/db
       [--plots 100000] [--isochrones-only | --no-isochrones]
       (the database is migrated; the scratch table is dropped afterwards)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from landreg.db import get_engine, migrate  # noqa: E402
from landreg.routing import db as rdb  # noqa: E402
from landreg.routing import isochrone  # noqa: E402
from landreg.routing.network import load_network  # noqa: E402
from landreg.scoring.build import read_kommuner  # noqa: E402
from landreg.scoring.catalogue import load_catalogue  # noqa: E402

_ACCESS = """
    CREATE TEMP TABLE bench_access AS
    SELECT b.id, v.id AS vid, ST_Distance(b.geom, v.geom) AS d FROM bench_point b
    CROSS JOIN LATERAL (SELECT id, geom FROM road_vertex WHERE main
                        ORDER BY geom <-> b.geom LIMIT 1) v
"""
_PG = """
    WITH dd AS (
      SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, 1e9, directed => false)
    )
    SELECT a.id, (dd.agg_cost + a.d / :speed) / 60.0 FROM bench_access a
    LEFT JOIN dd ON dd.node = a.vid ORDER BY a.id
"""


#: The access leg's cap (m) of the isochrones built before (the same as today's).
CAP_M = isochrone.CAP_M

# The vertices' seconds as the previous isochrones asked for them (up to the largest minutes).
_ISO_COST = """
    SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, :max_s, directed => false)
    WHERE node < :super
"""

# The isochrone as landreg built it two versions ago (polygons in PostGIS), for comparison.
_POSTGIS_ISO = """
    WITH dd AS (
      SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, :max_s, directed => false)
    ), t AS (SELECT unnest(CAST(:mins AS int[])) AS m)
    SELECT t.m, ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(ST_Union(
             ST_Buffer(v.geom, LEAST((t.m * 60 - dd.agg_cost) * :speed, :cap), 4)), 50),
             4326), 5)
    FROM t JOIN dd ON dd.agg_cost < t.m * 60
    JOIN road_vertex v ON v.id = dd.node AND v.main
    GROUP BY t.m ORDER BY t.m DESC
"""


def backend_cpu(pid: int) -> float:
    """CPU seconds of a local PostgreSQL backend (0 when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def points_in_region(n: int, seed: int = 1) -> np.ndarray:
    """n random points inside the seven kommuner (EPSG:25833)."""
    region = read_kommuner(load_catalogue(ROOT / "layers" / "criteria.yaml")).union_all()
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = region.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(n, 2))
        out = np.vstack([out, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--no-isochrones", action="store_true", help="plots × targets only")
    ap.add_argument("--isochrones-only", action="store_true", help="isochrones only")
    args = ap.parse_args()
    migrate(args.database_url)
    net = load_network(ROOT / "layers")
    engine = get_engine(args.database_url)
    if args.isochrones_only:
        bench_isochrones(engine, net)
        return
    xy = points_in_region(args.plots)
    print(f"network {net.version}: {len(net.vertices)} vertices ({net.main.sum()} main), "
          f"{len(net.edges)} links; {len(xy):,} synthetic plots; targets {', '.join(net.targets)}")
    with Session(engine) as s:
        rdb.load(s, net)
        s.execute(text("DROP TABLE IF EXISTS bench_point"))
        s.execute(text("CREATE TABLE bench_point (id int PRIMARY KEY, geom geometry(Point, "
                       "25833))"))
        s.execute(text("INSERT INTO bench_point SELECT i, ST_SetSRID(ST_MakePoint(x, y), 25833)"
                       " FROM unnest(CAST(:i AS int[]), CAST(:x AS float8[]), "
                       "CAST(:y AS float8[])) AS t(i, x, y)"),
                  {"i": list(range(len(xy))), "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist()})
        s.execute(text("ANALYZE bench_point"))
        s.commit()

        s.execute(text("SET jit = off"))
        t0 = time.perf_counter()
        s.execute(text(_ACCESS))
        t_snap = time.perf_counter() - t0
        t0 = time.perf_counter()
        pg = {}
        for t in net.targets.values():
            rows = s.execute(text(_PG), {"sql": rdb.edges_sql(t.key), "src": rdb.SUPER + t.key,
                                         "speed": net.access_speed_ms}).all()
            pg[t.id] = np.array([r[1] for r in rows], dtype=float)
        t_pg = time.perf_counter() - t0

        t0 = time.perf_counter()
        vid, dist = net.nearest_vertex(xy)
        py = {tid: (net.vertex_seconds(tid)[vid] + dist / net.access_speed_ms) / 60
              for tid in net.targets}
        t_py = time.perf_counter() - t0

        t_nx, nx_out = None, None
        try:
            import networkx as nx
        except ImportError:
            nx = None
        if nx is not None:
            t0 = time.perf_counter()
            g = nx.Graph()
            e = net.edges[net.edges["through"]]
            for a, b, c in zip(e["source"], e["target"], e["cost_s"], strict=True):
                if not g.has_edge(a, b) or g[a][b]["w"] > c:
                    g.add_edge(int(a), int(b), w=float(c))
            nx_out = {}
            vid, dist = net.nearest_vertex(xy)
            for t in net.targets.values():
                g.add_node("S")
                for v, acc in zip(t.vertices, t.access_s, strict=True):
                    g.add_edge("S", int(v), w=float(acc) + 1e-3)
                lengths = nx.single_source_dijkstra_path_length(g, "S", weight="w")
                g.remove_node("S")
                sec = np.array([lengths.get(int(v), np.inf) for v in vid])
                nx_out[t.id] = (sec + dist / net.access_speed_ms) / 60
            t_nx = time.perf_counter() - t0

        worst = max(np.nanmax(np.abs(pg[k] - py[k])) for k in pg)
        n_cells = len(xy) * len(net.targets)
        print(f"\nevery plot × every target ({len(xy):,} × {len(net.targets)} = {n_cells:,})")
        print(f"  pgRouting: nearest vertex (KNN, once per plot change) {t_snap:7.2f} s")
        print(f"  pgRouting: 6 drivingDistance queries joined to plots  {t_pg:7.2f} s")
        print(f"  scipy csgraph + cKDTree (snap included)               {t_py:7.2f} s")
        if t_nx is not None:
            worst_nx = max(np.nanmax(np.abs(nx_out[k] - py[k])) for k in py)
            print(f"  networkx + cKDTree (graph build + snap included)      {t_nx:7.2f} s")
            print(f"  largest difference networkx–scipy: {worst_nx:.4f} min")
        print(f"  largest difference pgRouting–scipy: {worst:.4f} min")
        med = {k: float(np.median(v)) for k, v in py.items()}
        print("  median minutes: " + ", ".join(f"{k} {v:.0f}" for k, v in med.items()))

        s.execute(text("DROP TABLE bench_point"))
        s.commit()
    if not args.no_isochrones:
        bench_isochrones(engine, net)


def _disc_union(points: np.ndarray, seconds: np.ndarray, minutes: int,
                speed_ms: float) -> shapely.Geometry | None:
    """The isochrone as the previous version built it in shapely: a 16-gon around each vertex
    reached (radius: the remaining time at the access speed, at most 3 km), all united."""
    ok = seconds < minutes * 60
    if not ok.any():
        return None
    radius = np.minimum((minutes * 60 - seconds[ok]) * speed_ms, CAP_M)
    area = shapely.union_all(shapely.buffer(shapely.points(points[ok]), radius, quad_segs=4))
    return shapely.simplify(area, 50.0, preserve_topology=True)


def bench_isochrones(engine, net, targets: tuple[str, ...] = ("gardermoen", "station"),
                     mins: tuple[int, ...] = (15, 30, 45, 60), n: int = 5) -> None:  # noqa: ANN001
    """Cold and warm isochrones: wall and CPU (this process, its PostgreSQL backend)."""
    mins = list(mins)
    with Session(engine) as s:
        rdb.load(s, net)
        s.commit()
        s.execute(text("SET jit = off"))
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()

        def run(fn, reps: int = n) -> tuple[float, float, float]:  # noqa: ANN001
            """Median wall ms, median CPU ms of this process and of its PostgreSQL backend."""
            walls, cpus, backs = [], [], []
            for _ in range(reps):
                b0, c0, w0 = backend_cpu(pid), time.process_time(), time.perf_counter()
                fn()
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
                backs.append(backend_cpu(pid) - b0)
            return (1000 * float(np.median(walls)), 1000 * float(np.median(cpus)),
                    1000 * float(np.median(backs)))

        t0, c0 = time.perf_counter(), time.process_time()
        isochrone.access_grid(net)
        grid_once = (1000 * (time.perf_counter() - t0), 1000 * (time.process_time() - c0))
        print(f"\nisochrones {mins} min: 4 polygons a request, median of {n}; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} before")
        print(f"  once per process and network version: the nearest-junction grid "
              f"{grid_once[0]:.0f} ms wall, {grid_once[1]:.0f} ms CPU")
        print(f"  {'':58} {'wall':>7} {'CPU here':>9} {'CPU in PG':>10}")
        for target in targets:
            t = net.targets[target]

            def cold(target: str = target) -> None:  # a new target+minutes, seconds known
                rdb.ISOCHRONES.clear()
                rdb.isochrones(s, net, target, mins)

            def first(target: str = target) -> None:  # also the target's pgRouting query
                rdb._SECONDS.clear()
                cold(target)

            def scipy_engine(target: str = target) -> None:  # Dijkstra here, no database
                isochrone.zones(net, net.vertex_seconds(target)[net.main], mins)

            def before_shapely(t=t) -> None:  # noqa: ANN001
                rows = s.execute(text(_ISO_COST), {
                    "sql": rdb.edges_sql(t.key), "src": rdb.SUPER + t.key,
                    "max_s": max(mins) * 60.0, "super": rdb.SUPER}).all()
                sec = np.full(len(net.vertices), np.inf)
                for node, cost in rows:
                    sec[node] = cost
                for m in mins:
                    _disc_union(net.vertices[net.main], sec[net.main], m, net.access_speed_ms)

            def before_postgis(t=t) -> None:  # noqa: ANN001
                s.execute(text(_POSTGIS_ISO), {
                    "sql": rdb.edges_sql(t.key), "src": rdb.SUPER + t.key,
                    "max_s": max(mins) * 60.0, "mins": mins, "speed": net.access_speed_ms,
                    "cap": CAP_M}).all()

            cold()
            rows = [("landreg, cold (new minutes; target's seconds cached)", run(cold)),
                    ("landreg, cold and first for the target (+ pgRouting)", run(first)),
                    ("landreg, warm (cached answer)", run(partial(
                        rdb.isochrones, s, net, target, mins), 50)),
                    ("scipy Dijkstra + the same contours (no database)", run(scipy_engine)),
                    ("before: pgRouting + shapely union of discs", run(before_shapely, 3)),
                    ("before that: pgRouting + PostGIS ST_Union of discs",
                     run(before_postgis, 3))]
            print(f"  {t.name_en} ({len(t.points)} point{'s' if len(t.points) > 1 else ''})")
            for label, (w, c, b) in rows:
                print(f"    {label:56} {w:5.1f} ms {c:6.1f} ms {b:7.1f} ms")
        print(f"  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} after")


if __name__ == "__main__":
    main()
