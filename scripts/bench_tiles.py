"""Benchmark the vector tiles of the plots: what a tile costs, and against named alternatives.

Loads 100,000 synthetic plots over mainland Norway into a separate database (the loader of
``scripts/bench_api.py``) and measures, in one run:

1. **The tile SQL** on one connection, the current statement (``registry/tiles.py``) against
   the **previous** one (a point on the surface at z ≤ 9 and a ``geom IS NOT NULL`` filter
   that made PostgreSQL clip every plot twice), interleaved over the same random tiles at
   z 8, 9 and 12: PostgreSQL CPU per tile (the backend's /proc/<pid>/stat) and p50/p95/p99.
   ``--explain`` also prints EXPLAIN (ANALYZE, BUFFERS) of a z 8, z 9 and z 12 tile.
2. **The server**, ``landreg serve`` (granian, 4 workers × 4 threads, as ``make run``
   serves it), with its tile cache (``LANDREG_TILE_CACHE_MB``, default) and the named
   alternative **without** it (``LANDREG_TILE_CACHE_MB=0``: every tile built by PostGIS), in
   alternating rounds over the same random tiles at z 8–14 with concurrent keep-alive
   clients: p50/p95/p99, requests/s, server CPU per tile (all server processes) and
   PostgreSQL CPU per tile (the backends of the benchmark database), per zoom too, and each
   worker's RSS afterwards. ``--geojson`` adds the same areas fetched as GeoJSON from the OGC
   API items (``bbox`` of the tile, ``limit=1000``), the way a map without tiles must ask.

CPU per tile is the figure to judge on a shared machine (the load average is printed with it);
wall-clock percentiles move with whatever else runs. The database is dropped at the end.

Usage:  .venv/bin/python scripts/bench_tiles.py [--plots N] [--seconds S] [--clients C]
        [--port P] [--rounds R] [--explain] [--geojson] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from landreg.db import get_engine  # noqa: E402
from landreg.registry.tiles import tile_statement  # noqa: E402
from landreg.settings import normalise_database_url  # noqa: E402
from scripts.bench_api import (  # noqa: E402
    CLK,
    create_db,
    drop_db,
    load,
    run,
    stats,
    tree_cpu,
    worker_rss,
)

PORT = int(os.environ.get("LANDREG_BENCH_PORT", "5098"))
CLIENTS = 4
SECONDS = 10.0
ZOOMS = range(8, 15)
OK = (200, 204)  # an empty tile is a 204
DB_NAME = "landreg_bench_tiles"
_WORLD = 2 * 20037508.342789244

#: The tile statement before issue 14's second pass (the named alternative of part 1).
_ENV = "ST_TileEnvelope(%(z)s, %(x)s, %(y)s)"
PREVIOUS_SQL = (  # constant SQL, values bound
    "SELECT ST_AsMVT(t, 'plots', 4096, 'geom', 'fid') FROM (SELECT id AS fid, id, name, "  # noqa: S608
    "availability, purpose_group, CAST(round(CAST(area_daa AS NUMERIC), 3) AS FLOAT) AS "
    "area_daa, kommunenummer, ST_AsMVTGeom(ST_Transform({geom}, 3857), " + _ENV + ", 4096, 64, "
    "true) AS geom FROM plot WHERE geom && ST_Transform(ST_Segmentize(ST_Expand(" + _ENV
    + ", %(margin)s), %(step)s), 25833) AND published IS true AND availability <> 'trukket'"
    ") t WHERE t.geom IS NOT NULL")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def tile_bbox(z: int, x: int, y: int) -> str:
    """The tile's bounds in longitude/latitude (CRS84), for the OGC API bbox."""
    n = 2**z

    def lat(t: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n))))

    return f"{x / n * 360 - 180:.6f},{lat(y + 1):.6f},{(x + 1) / n * 360 - 180:.6f},{lat(y):.6f}"


def sample_points(url: str, count: int = 1000) -> list[tuple[float, float]]:
    """Random plots' positions (lon, lat), a repeatable sample."""
    with get_engine(url).connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p"
            " FROM plot TABLESAMPLE BERNOULLI (3) REPEATABLE (7) LIMIT :n) s"), {"n": count}
        ).all()]


def sample_tiles(points: list[tuple[float, float]], zooms, seed: int = 11
                 ) -> list[tuple[int, int, int]]:
    """Tiles around the given plots, the zoom drawn evenly from ``zooms``."""
    rnd = random.Random(seed)
    return [tile_of(lon, lat, rnd.choice(list(zooms))) for lon, lat in points]


def proc_cpu(pid: int) -> float:
    """User+system CPU seconds of one process (0 when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def backends_cpu(url: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to the benchmark database so far
    (local server only: their /proc entries)."""
    with get_engine(url).connect() as c:
        pids = c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                         {"d": DB_NAME}).scalars().all()
    return sum(proc_cpu(p) for p in pids)


# -- part 1: the SQL alone -----------------------------------------------------------------

def previous_statement(z: int, x: int, y: int) -> tuple[str, dict]:
    width = _WORLD / 2**z
    geom = "ST_PointOnSurface(geom)" if z <= 9 else "geom"
    return PREVIOUS_SQL.format(geom=geom), {"z": z, "x": x, "y": y,
                                            "margin": width * 64 / 4096, "step": width / 16}


def current_statement(conn, z: int, x: int, y: int) -> tuple[str, dict]:
    stmt, values = tile_statement(z, x, y)
    compiled = stmt.compile(conn)
    return compiled.string, {**compiled.params, **values}


def sql_costs(url: str, points: list, rounds: int, explain: bool) -> None:
    """PostgreSQL CPU and latency per tile of the current and the previous statement."""
    engine = get_engine(url)
    print("\n1. The tile SQL alone (one connection, jit and parallel workers off as the app "
          "sets them), interleaved "
          f"rounds x{rounds}; PostgreSQL CPU of the backend per tile")
    print(f"{'zoom':5} {'statement':10} {'tiles':>6} {'pg CPU ms':>9} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'kB':>6}")
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute("SET jit = off")  # as the app's connections (landreg/db.py) ...
        cur.execute("SET max_parallel_workers_per_gather = 0")  # ... and CPU of one backend
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        for z in (8, 9, 12):
            tiles = sample_tiles(points[:300], [z])
            built = {"current": [current_statement(conn, *t) for t in tiles],
                     "previous": [previous_statement(*t) for t in tiles]}
            lat: dict[str, list[float]] = {k: [] for k in built}
            cpu = dict.fromkeys(built, 0.0)
            size = dict.fromkeys(built, 0)
            for _ in range(rounds):
                for name, stmts in built.items():
                    c0 = proc_cpu(pid)
                    for sql, params in stmts:
                        t = time.perf_counter()
                        cur.execute(sql, params)
                        size[name] += len(cur.fetchone()[0] or b"")
                        lat[name].append(time.perf_counter() - t)
                    cpu[name] += proc_cpu(pid) - c0
            for name in built:
                s = stats(lat[name], 1.0)
                n = len(lat[name])
                print(f"z{z:<4} {name:10} {n:6d} {cpu[name] / n * 1000:9.2f} {s['p50']:7.2f} "
                      f"{s['p95']:7.2f} {s['p99']:7.2f} {size[name] / n / 1024:6.1f}")
        if explain:
            for z in (8, 9, 12):
                zz, x, y = tile_of(11.9, 60.25, z)  # Glåmdalen
                sql, params = current_statement(conn, zz, x, y)
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [r[0] for r in cur.fetchall()]
                # the search polygon is a long hex literal: keep the plan readable
                print(f"\nEXPLAIN ANALYZE, z{zz}/{x}/{y}:\n" + "\n".join(
                    line if len(line) < 200 else line[:160] + " …" for line in plan))


# -- part 2: the server ---------------------------------------------------------------------

def serve(url: str, env_extra: dict[str, str], port: int) -> subprocess.Popen:
    env = dict(os.environ, LANDREG_DATABASE_URL=url, **env_extra)
    cmd = [str(ROOT / ".venv" / "bin" / "landreg"), "serve", "--port", str(port),
           "--workers", "4", "--threads", "4"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("landreg serve did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def measure(url: str, proc: subprocess.Popen, paths: list, seconds: float, clients: int,
            port: int) -> dict:
    run(paths, 1.5, clients, port, OK)  # warm-up: connections, every worker's caches
    db0, cpu0 = backends_cpu(url), tree_cpu(proc.pid)
    res = run(paths, seconds, clients, port, OK)
    res["cpu"] = (tree_cpu(proc.pid) - cpu0) / max(res["n"], 1) * 1000
    res["db"] = (backends_cpu(url) - db0) / max(res["n"], 1) * 1000
    res["rss"] = worker_rss(proc.pid)
    return res


def server_costs(url: str, points: list, args: argparse.Namespace) -> None:
    tiles = sample_tiles(points, ZOOMS)
    tile_paths = [(f"/tiles/plots/{z}/{x}/{y}.mvt", z) for z, x, y in tiles]
    setups = [("tiles, cached (default)", {}, tile_paths),
              ("tiles, no cache", {"LANDREG_TILE_CACHE_MB": "0"}, tile_paths)]
    if args.geojson:
        setups.append(("OGC items, tile bbox", {}, [
            (f"/ogc/collections/plots/items?bbox={tile_bbox(z, x, y)}&limit=1000", z)
            for z, x, y in tiles]))
    results: dict[str, list[dict]] = {label: [] for label, _e, _p in setups}
    for _ in range(args.rounds):
        for label, env, paths in setups:
            proc = serve(url, env, args.port)
            try:
                results[label].append(measure(url, proc, paths, args.seconds, args.clients,
                                              args.port))
            finally:
                stop(proc)
    load1, load5, _ = os.getloadavg()
    print(f"\n2. landreg serve (granian 4 workers x 4 threads), {args.clients} keep-alive "
          f"clients, {args.seconds:g} s x {args.rounds} round(s) each, alternating; "
          f"{len(set(tiles))} distinct random tiles z 8-14 around plots; {os.cpu_count()} cores, "
          f"load average {load1:.1f} (5 min {load5:.1f})")
    print(f"{'setup':24} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'req/s':>7} {'CPU ms':>7} {'pg ms':>6} {'kB':>6} {'errors':>6}")
    for label, rs in results.items():
        n = sum(r["n"] for r in rs)
        med = sorted(rs, key=lambda r: r["p95"])[len(rs) // 2]
        print(f"{label:24} {n:8d} {med['p50']:7.1f} {med['p95']:7.1f} {med['p99']:7.1f} "
              f"{sum(r['rps'] for r in rs) / len(rs):7.1f} "
              f"{sum(r['cpu'] * r['n'] for r in rs) / max(n, 1):7.2f} "
              f"{sum(r['db'] * r['n'] for r in rs) / max(n, 1):6.2f} "
              f"{rs[0]['bytes'] / 1024:6.1f} {sum(r['errors'] for r in rs):6d}")
    print("\nper zoom, p50/p95 ms (the median round by p95):")
    for label, rs in results.items():
        med = sorted(rs, key=lambda r: r["p95"])[len(rs) // 2]
        print(f"  {label:24} " + "  ".join(
            f"z{z} {med['by_tag'][z]['p50']:.1f}/{med['by_tag'][z]['p95']:.1f}"
            for z in ZOOMS if z in med["by_tag"]))
    print("\nserver worker RSS after each setup's last round (MB): " + "; ".join(
        f"{label}: {', '.join(f'{m:.0f}' for m in rs[-1]['rss'])}"
        for label, rs in results.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=SECONDS)
    ap.add_argument("--clients", type=int, default=CLIENTS)
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE z 8, 9 and 12")
    ap.add_argument("--geojson", action="store_true", help="also the OGC items of each tile")
    ap.add_argument("--quick", action="store_true", help="3 s a setup, one round")
    ap.add_argument("--sql-only", action="store_true", help="part 1 only (no server)")
    ap.add_argument("--use-db", metavar="NAME",
                    help="an already loaded database on the server (kept afterwards)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3.0, 1
    server = normalise_database_url(os.environ.get(
        "LANDREG_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"))
    global DB_NAME
    if args.use_db:
        DB_NAME = args.use_db
        url = make_url(server).set(database=DB_NAME).render_as_string(hide_password=False)
    else:
        url = create_db(server, DB_NAME)
    try:
        secs = 0.0 if args.use_db else load(url, args.plots)
        with get_engine(url).connect() as c:
            n = c.execute(text("SELECT count(*) FROM plot")).scalar_one()
        print(f"{n:,} synthetic plots (loaded in {secs:.1f} s)")
        points = sample_points(url)
        sql_costs(url, points, args.rounds, args.explain)
        if not args.sql_only:
            server_costs(url, points, args)
    finally:
        if not args.use_db:
            drop_db(server, DB_NAME)


if __name__ == "__main__":
    main()
