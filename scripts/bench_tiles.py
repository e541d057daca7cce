"""Benchmark the vector tiles of the plots against the GeoJSON of the same area.

Loads 100,000 synthetic plots over mainland Norway into a separate database (the loader of
``scripts/bench_api.py``), serves the app with ``landreg serve`` (gunicorn, 4 workers × 4
threads) and requests random tiles at zoom 8–14 that hold plots, with concurrent keep-alive
clients. The named alternative: the same areas fetched as GeoJSON from the OGC API items
(``bbox`` of the tile, ``limit=1000``), the way a map without tiles must ask. Prints p50/p95/p99
and requests/s for both, tiles also per zoom, and the resident memory (RSS) of each gunicorn
worker afterwards. The database is dropped at the end.

Usage:  .venv/bin/python scripts/bench_tiles.py [--plots N] [--seconds S] [--clients C]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from landreg.db import get_engine  # noqa: E402
from landreg.settings import normalise_database_url  # noqa: E402
from scripts.bench_api import create_db, drop_db, load, run, worker_rss  # noqa: E402

PORT = 5098
CLIENTS = 4
SECONDS = 10.0
ZOOMS = range(8, 15)
OK = (200, 204)  # an empty tile is a 204


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


def sample_tiles(url: str, count: int = 400, seed: int = 11) -> list[tuple[int, int, int]]:
    """Tiles around random plots, the zoom drawn evenly from 8–14."""
    with get_engine(url).connect() as c:
        pts = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p"
            " FROM plot TABLESAMPLE BERNOULLI (2) REPEATABLE (7) LIMIT :n) s"), {"n": count}
        ).all()
    rnd = random.Random(seed)
    return [tile_of(lon, lat, rnd.choice(ZOOMS)) for lon, lat in pts]


def serve(url: str) -> subprocess.Popen:
    env = dict(os.environ, LANDREG_DATABASE_URL=url)
    cmd = [str(ROOT / ".venv" / "bin" / "landreg"), "serve", "--port", str(PORT),
           "--workers", "4", "--threads", "4"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("landreg serve did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=SECONDS)
    ap.add_argument("--clients", type=int, default=CLIENTS)
    args = ap.parse_args()
    server = normalise_database_url(os.environ.get(
        "LANDREG_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"))
    name = "landreg_bench_tiles"
    url = create_db(server, name)
    proc = None
    try:
        secs = load(url, args.plots)
        with get_engine(url).connect() as c:
            n = c.execute(text("SELECT count(*) FROM plot")).scalar_one()
        print(f"loaded {n:,} synthetic plots in {secs:.1f} s")
        tiles = sample_tiles(url)
        tile_paths = [(f"/tiles/plots/{z}/{x}/{y}.mvt", z) for z, x, y in tiles]
        ogc_paths = [(f"/ogc/collections/plots/items?bbox={tile_bbox(z, x, y)}&limit=1000", z)
                     for z, x, y in tiles]
        proc = serve(url)
        results = {}
        for label, paths in (("vector tile", tile_paths), ("OGC items, tile bbox", ogc_paths)):
            run(paths, 1.5, args.clients, PORT, OK)  # warm-up: connections, every worker's caches
            results[label] = run(paths, args.seconds, args.clients, PORT, OK)
        rss = worker_rss(proc.pid)
        load1, load5, _ = os.getloadavg()
        print(f"\n{args.clients} keep-alive clients, {args.seconds:g} s each, landreg serve "
              f"(gunicorn 4 workers x 4 threads), {os.cpu_count()} cores, load average "
              f"{load1:.1f} (5 min {load5:.1f}); {len(tiles)} random tiles z 8-14 around plots\n")
        print(f"{'endpoint':24} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
              f"{'req/s':>7} {'kB/resp':>8} {'errors':>6}")
        for label, r in results.items():
            a = r
            print(f"{label:24} {a['n']:8d} {a['p50']:7.1f} {a['p95']:7.1f} {a['p99']:7.1f} "
                  f"{a['rps']:7.1f} {r['bytes'] / 1024:8.1f} {r['errors']:6d}")
        print("\nper zoom (p50 / p95 ms):  " + "  ".join(
            f"z{z}: tile {results['vector tile']['by_tag'][z]['p50']:.1f}/"
            f"{results['vector tile']['by_tag'][z]['p95']:.1f}, GeoJSON "
            f"{results['OGC items, tile bbox']['by_tag'][z]['p50']:.1f}/"
            f"{results['OGC items, tile bbox']['by_tag'][z]['p95']:.1f}"
            for z in ZOOMS if z in results["vector tile"]["by_tag"]))
        print(f"\ngunicorn worker RSS after the run (MB): {', '.join(f'{m:.0f}' for m in rss)}")
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        drop_db(server, name)


if __name__ == "__main__":
    main()
