"""Benchmark the web API on a national-scale register: p50/p95 latency and requests/s.

Creates a separate database on the test server (LANDREG_TEST_SERVER_URL, default the local
cluster on port 5433), loads the seven kommuner plus one synthetic "rest of Norway" area, and
100,000 synthetic plots spread over mainland Norway through the real schema (triggers and
generated columns included). It serves the app with ``landreg serve`` (granian, 4 workers x 4
threads) and measures two scenarios with concurrent keep-alive clients:

  A  OGC API items in a kommune-sized bbox (30 × 30 km around a random plot, limit 100)
  B  the search API: purpose group + minimum area over the whole register (limit 100)

Then it drops the spatial index on plot.geom and the (kommune, name) sort index and measures
again: the named alternative.
The database is dropped at the end.  Usage:  .venv/bin/python scripts/bench_api.py [--plots N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from landreg.db import get_engine, migrate, session_scope  # noqa: E402
from landreg.demo.load import load_municipalities  # noqa: E402
from landreg.settings import Settings, normalise_database_url  # noqa: E402

PORT = 5099
CLK = os.sysconf("SC_CLK_TCK")
CLIENTS = 8
SECONDS = 6.0


def create_db(server: str, name: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_db(server: str, name: str) -> None:
    get_engine.cache_clear()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


NATION_SQL = """
INSERT INTO municipality (kommunenummer, name, geom)
SELECT '9999', 'Resten av Norge (syntetisk)',
       ST_Multi(ST_Difference(ST_MakeEnvelope(-60000, 6450000, 1100000, 7900000, 25833),
                              (SELECT ST_Union(geom) FROM municipality)))
"""

LOAD_SQL = """
WITH region AS (SELECT ST_Union(geom) g FROM municipality),
pts AS (SELECT (ST_Dump(ST_GeneratePoints(g, :n, 42))).geom p FROM region),
sq AS (
  SELECT p, sqrt(2000 + random() * 150000) AS side, random() AS r1, random() AS r2,
         row_number() OVER () AS i FROM pts)
INSERT INTO plot (external_ref, name, kommunenummer, geom, arealformal, plan_status,
                  purpose_group, availability, road_access, water_sewer, power_capacity_mw,
                  price_nok_m2, description, published, created_by, updated_by)
SELECT 'BENCH-' || i, 'Syntetisk tomt ' || i, m.kommunenummer,
       ST_Multi(ST_MakeEnvelope(ST_X(p) - side / 2, ST_Y(p) - side / 2,
                                ST_X(p) + side / 2, ST_Y(p) + side / 2, 25833)),
       (ARRAY[1300, 1340, 1350, 1826, 1310, 1811])[1 + floor(r1 * 6)::int], 'nåværende',
       (ARRAY['naering', 'industri', 'lager_logistikk', 'industri', 'kontor',
              'kombinert'])[1 + floor(r1 * 6)::int],
       (ARRAY['ledig', 'ledig', 'reservert', 'solgt', 'utbygd'])[1 + floor(r2 * 5)::int],
       r2 < 0.8, r2 < 0.6, round((r1 * 20)::numeric, 1), round((100 + r2 * 700)::numeric, -1),
       'Syntetisk tomt for ytelsestest', r1 < 0.9, 'bench', 'bench'
FROM sq JOIN municipality m ON ST_Intersects(m.geom, sq.p)
"""


def load(url: str, n: int) -> float:
    migrate(url)
    with session_scope(get_engine(url)) as s:
        load_municipalities(s, Settings().demo_gpkg)
    with get_engine(url).begin() as c:
        c.execute(text(NATION_SQL))
    t = time.perf_counter()
    with get_engine(url).begin() as c:
        c.execute(text(LOAD_SQL), {"n": n})
    elapsed = time.perf_counter() - t
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text("VACUUM ANALYZE"))
    admin.dispose()
    return elapsed


def kommune_bboxes(url: str, count: int = 200) -> list[str]:
    """Kommune-sized boxes (30 × 30 km, in longitude/latitude) around random plots."""
    with get_engine(url).connect() as c:
        rows = c.execute(text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ("
            " SELECT ST_Transform(ST_Expand(ST_Centroid(geom), 15000), 4326)::box2d b"
            " FROM plot TABLESAMPLE BERNOULLI (1) REPEATABLE (7) LIMIT :n) s"), {"n": count}
        ).all()
    return [",".join(f"{v:.5f}" for v in r) for r in rows]


def serve(url: str) -> subprocess.Popen:
    env = dict(os.environ, LANDREG_DATABASE_URL=url)
    env.update(LANDREG_ACCESS_LOG="", LANDREG_LOG_LEVEL="warning")
    cmd = [str(ROOT / ".venv" / "bin" / "landreg"), "serve", "--port", str(PORT),
           "--workers", "4", "--threads", "4"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("landreg serve did not start")


def run(paths: list, seconds: float = SECONDS, clients: int = CLIENTS, port: int = PORT,
        ok: tuple[int, ...] = (200,)) -> dict:
    """Keep-alive clients (threads, one connection each) sending ``paths`` chosen at random for
    ``seconds``: requests, errors (a status not in ``ok``, a failed connection), p50/p95/p99 (ms),
    req/s and mean bytes. An entry of ``paths`` may be a ``(path, tag)`` pair: ``by_tag`` then
    has the figures per tag. The one request loop of the benchmarks (bench_peers, bench_tiles)."""
    lat: list[tuple[object, float, int]] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.perf_counter() < stop:
            entry = rnd.choice(paths)
            path, tag = entry if isinstance(entry, tuple) else (entry, None)
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                size = len(resp.read())
                good = resp.status in ok
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                size, good = 0, False
            mine.append((tag, time.perf_counter() - t, size))
            if not good:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    out = stats([d for _t, d, _s in lat], wall)
    out["errors"] = errors[0]
    out["bytes"] = statistics.mean(s for _t, _d, s in lat) if lat else 0
    out["by_tag"] = {tag: stats([d for t, d, _s in lat if t == tag], wall)
                     for tag in sorted({t for t, _d, _s in lat if t is not None})}
    return out


def stats(lat: list[float], wall: float) -> dict:
    """Count, p50/p95/p99 (ms) and rate of a list of latencies (seconds)."""
    lat = sorted(lat)
    if not lat:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan"),
                "rps": 0.0}

    def pick(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * (len(lat) - 1)))] * 1000

    return {"n": len(lat), "p50": statistics.median(lat) * 1000, "p95": pick(0.95),
            "p99": pick(0.99), "rps": len(lat) / wall}


def proc_files(name: str) -> Iterator[tuple[int, str]]:
    """(pid, text of /proc/<pid>/<name>) of every process that is still there to read."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / name).read_text()
            except OSError:
                continue


def worker_rss(pid: int) -> list[float]:
    """RSS (MB) of the direct children of ``pid`` (a server's workers), sorted."""
    out = []
    for _child, status in proc_files("status"):
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(pid) and "VmRSS" in fields:
            out.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(out)


def tree_cpu(pid: int) -> float:
    """User+system CPU seconds of ``pid`` and all its descendants, living or reaped."""
    children: dict[int, list[int]] = {}
    own: dict[int, float] = {}
    for entry, raw in proc_files("stat"):
        fields = raw[raw.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(entry)
        # utime + stime, and cutime + cstime: the CPU of children already reaped (a
        # recycled worker's time moves to its master and is still counted)
        own[entry] = sum(int(f) for f in fields[11:15]) / CLK
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += own.get(p, 0.0)
        todo += children.get(p, [])
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plots", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=SECONDS)
    args = ap.parse_args()
    server = normalise_database_url(os.environ.get(
        "LANDREG_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"))
    name = "landreg_bench_api"
    url = create_db(server, name)
    proc = None
    try:
        secs = load(url, args.plots)
        with get_engine(url).connect() as c:
            n = c.execute(text("SELECT count(*) FROM plot")).scalar_one()
        with get_engine(url).connect() as c:
            inside = c.execute(text("SELECT count(*) FROM plot WHERE kommunenummer <> '9999'")
                               ).scalar_one()
        print(f"loaded {n:,} synthetic plots in {secs:.1f} s (with history triggers); "
              f"{inside:,} of them in Glåmdalen")
        boxes = kommune_bboxes(url)
        scen = {
            "A OGC items, 30 km bbox, limit 100": [
                f"/ogc/collections/plots/items?bbox={b}&limit=100" for b in boxes],
            "B search API, purpose+area, limit 100": [
                f"/api/plots?purpose_group={g}&min_daa={m}&limit=100"
                for g in ("industri", "lager_logistikk", "kontor") for m in (5, 20, 50)],
        }
        proc = serve(url)
        results = {}
        for label, paths in scen.items():
            run(paths, 1.0)  # warm-up
            for clients in (1, CLIENTS):
                results[(label, "with indexes", clients)] = run(paths, args.seconds, clients)
        with get_engine(url).begin() as c:
            c.execute(text("DROP INDEX idx_plot_geom"))
            c.execute(text("DROP INDEX ix_plot_kommune_name"))
            c.execute(text("DROP INDEX ix_plot_public_purpose_area"))
        for label, paths in scen.items():
            run(paths, 1.0)
            for clients in (1, CLIENTS):
                results[(label, "without indexes", clients)] = run(paths, args.seconds, clients)
        print(f"\nkeep-alive clients, {args.seconds:g} s per row, landreg serve 4 workers x 4 "
              f"threads, {os.cpu_count()} cores; 'without' = geometry, sort and count "
              "indexes dropped\n")
        print(f"{'scenario':40} {'variant':16} {'clients':>7} {'requests':>8} {'p50 ms':>7} "
              f"{'p95 ms':>7} {'req/s':>7} {'errors':>6}")
        for (label, variant, clients), r in results.items():
            print(f"{label:40} {variant:16} {clients:7d} {r['n']:8d} {r['p50']:7.1f} "
                  f"{r['p95']:7.1f} {r['rps']:7.1f} {r['errors']:6d}")
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        drop_db(server, name)


if __name__ == "__main__":
    main()
