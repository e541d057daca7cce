"""Benchmark landreg against its peers (pygeoapi, tipg) on the same table, side by side.

Loads N synthetic plots (default 10,000) into a benchmark database through landreg's schema
(scripts/bench_api.py's loader), installs pygeoapi and tipg from PyPI into their own
virtualenvs under .local/bench (git-ignored; once), and serves the table four ways, all on
127.0.0.1:

  landreg   as ``make run`` serves it (``landreg serve``: granian, its default workers)
  pygeoapi  gunicorn 4 workers x 4 threads, PostgreSQL provider (config generated)
  tipg      uvicorn, 4 workers
  before    optional (``--before DIR``): landreg from another checkout, e.g. an older commit
            (``git worktree add /tmp/speed-before <commit>``), served the same way

Then it sends every server the same requests, interleaved in rounds (server order rotates):

  bbox100   OGC API items in a kommune-sized box (30 x 30 km, CRS84), limit 100, 4 clients
  search100 landreg's search API (/api/plots), limit 100, 4 clients: half the requests one
            kommune's plots (kommune=3401), half the same boxes as bbox100 (landreg only:
            the peers have no such API: its ratios are to their bbox100)
  page1000  a 1,000-feature page (limit=1000, varying offsets), 1 client
  item      one feature by id, 4 clients

and prints, per scenario and server, the medians over the rounds of req/s, p50/p95/p99
latency, the server's CPU per request (user+system time of all its processes, from
/proc/<pid>/stat, before/after) and PostgreSQL's CPU per request (the backends connected to the
benchmark database), then the ratios to landreg. A peer that cannot be installed or started is
reported and left out. Runs in under 10 minutes (``--quick``: about 3).

Usage:  .venv/bin/python scripts/bench_peers.py [--plots N] [--quick] [--before DIR]
(LANDREG_TEST_SERVER_URL chooses the PostgreSQL server, as for the tests.)
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / ".local" / "bench"
sys.path.insert(0, str(ROOT))

from landreg.db import get_engine  # noqa: E402
from landreg.settings import normalise_database_url  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_api", ROOT / "scripts" / "bench_api.py")
bench_api = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(bench_api)  # type: ignore[union-attr]

DB_NAME = "landreg_bench_peers"
PEERS = {  # name: (pip requirements, port)
    "pygeoapi": (["pygeoapi==0.21.0", "gunicorn", "geoalchemy2", "psycopg2-binary"], 5201),
    "tipg": (["tipg==1.6.1", "uvicorn[standard]"], 5202),  # httptools: h11 stalls keep-alive
}
LANDREG_PORT, BEFORE_PORT = 5203, 5204
SCENARIOS = {"bbox100": 4, "search100": 4, "page1000": 1, "item": 4}  # scenario: clients
#: Scenarios only landreg's own API answers (no request paths for the peers), and the peers'
#: scenario their ratios compare with (the same boxes through the peer's OGC API).
LANDREG_ONLY = {"search100": "bbox100"}
CLK = bench_api.CLK


@dataclass
class Server:
    """One server under test: how to reach its items, and its process."""

    name: str
    port: int
    items: str  # path of the plots collection's items
    suffix: str = ""  # extra query parameters (pygeoapi wants f=json)
    landreg: bool = False  # landreg itself (this checkout or ``before``): has /api/plots
    proc: subprocess.Popen | None = None
    results: dict = field(default_factory=dict)

    def paths(self, scenario: str, boxes: list[str], offsets: list[int], ids: list[int]
              ) -> list[str]:
        """The request paths of ``scenario`` for this server (none: it does not take part)."""
        s = self.suffix
        if scenario in LANDREG_ONLY and not self.landreg:
            return []
        if scenario == "search100":
            return (["/api/plots?kommune=3401&limit=100"] * len(boxes)
                    + [f"/api/plots?bbox={b}&limit=100" for b in boxes])
        if scenario == "bbox100":
            return [f"{self.items}?bbox={b}&limit=100{s}" for b in boxes]
        if scenario == "page1000":
            return [f"{self.items}?limit=1000&offset={o}{s}" for o in offsets]
        return [f"{self.items}/{i}" + (f"?{s[1:]}" if s else "") for i in ids]


def venv(name: str, requirements: list[str]) -> Path | None:
    """The virtualenv of a peer under .local/bench, created and filled once; None (and why,
    printed) when pip cannot install it."""
    path = BENCH / name
    done = path / ".installed"
    if done.exists() and done.read_text() == " ".join(requirements):
        return path
    shutil.rmtree(path, ignore_errors=True)
    print(f"installing {name} into {path} …", flush=True)
    try:
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "pip"), "install", "-q", *requirements], check=True,
                       capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        why = getattr(exc, "stderr", "") or str(exc)
        print(f"  {name} cannot be installed, left out: {why.strip().splitlines()[-1:]}")
        return None
    done.write_text(" ".join(requirements))
    return path


def wait_ready(srv: Server, path: str, seconds: float = 60) -> bool:
    """Wait until ``path`` answers 200 (False when the server died or never did)."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if srv.proc is not None and srv.proc.poll() is not None:
            return False
        try:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def start_landreg(url: str, name: str, port: int, root: Path) -> Server:
    """landreg as ``make run`` serves it: ``landreg serve`` (from the checkout ``root``)."""
    env = dict(os.environ, LANDREG_DATABASE_URL=url, PYTHONPATH=str(root))
    env.pop("LANDREG_WORKERS", None)
    env.pop("LANDREG_THREADS", None)
    srv = Server(name, port, "/ogc/collections/plots/items", landreg=True)
    srv.proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "landreg"), "serve", "--host", "127.0.0.1", "--port",
         str(port)], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    return srv


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  cors: false
  pretty_print: false
  limits: {{default_items: 10, max_items: 1000}}
  map:
    url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png'
    attribution: OSM
logging: {{level: ERROR}}
metadata:
  identification:
    title: bench
    description: bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: http://127.0.0.1
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: bench, url: http://127.0.0.1}}
  contact: {{name: bench, position: bench, address: bench, city: bench,
            stateorprovince: bench, postalcode: '0000', country: Norway, phone: '0',
            fax: '0', email: bench@example.org, url: http://127.0.0.1, hours: '0',
            instructions: bench, role: pointOfContact}}
resources:
  plots:
    type: collection
    title: plots
    description: plots
    keywords: [plots]
    extents:
      spatial: {{bbox: [-180, -90, 180, 90], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {host}, port: {dbport}, dbname: {db}, user: {user}, password: '{pw}',
               search_path: [public]}}
        id_field: id
        table: plot
        geom_field: geom
        storage_crs: http://www.opengis.net/def/crs/EPSG/0/25833
"""


def start_pygeoapi(env_dir: Path, url: str, port: int) -> Server:
    """pygeoapi under gunicorn (4 workers x 4 threads), its PostgreSQL provider on ``plot``."""
    u = make_url(url)
    work = BENCH / "pygeoapi-run"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, host=u.host, dbport=u.port or 5432,
                                             db=u.database, user=u.username,
                                             pw=u.password or ""))
    env = dict(os.environ, PYGEOAPI_CONFIG=str(config),
               PYGEOAPI_OPENAPI=str(work / "openapi.yml"))
    subprocess.run([str(env_dir / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(work / "openapi.yml")], env=env, check=True,
                   capture_output=True, timeout=120)
    srv = Server("pygeoapi", port, "/collections/plots/items", "&f=json")
    srv.proc = subprocess.Popen(
        [str(env_dir / "bin" / "gunicorn"), "-w", "4", "-k", "gthread", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "pygeoapi.flask_app:APP"],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    return srv


def start_tipg(env_dir: Path, url: str, port: int) -> Server:
    """tipg under uvicorn (4 workers), publishing the table ``public.plot`` only."""
    u = make_url(url)
    dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
    env = dict(os.environ, DATABASE_URL=dsn, TIPG_DB_SCHEMAS='["public"]',
               TIPG_DB_TABLES='["public.plot"]',
               TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS='["public"]', TIPG_MAX_FEATURES_PER_QUERY="10000")
    srv = Server("tipg", port, "/collections/public.plot/items")
    srv.proc = subprocess.Popen(
        [str(env_dir / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "4", "--log-level", "warning", "--no-access-log"],
        env=env, cwd=BENCH, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    return srv


def db_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of the given PostgreSQL backends."""
    out = {}
    for p in pids:
        try:
            raw = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        out[p] = (int(fields[11]) + int(fields[12])) / CLK
    return out


def backends(url: str) -> list[int]:
    """The pids of the backends connected to the benchmark database (local server only)."""
    with get_engine(url).connect() as c:
        return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                              {"d": DB_NAME}).scalars())


def measure(srv: Server, paths: list[str], clients: int, seconds: float, url: str) -> dict:
    """Keep-alive clients sending ``paths`` for ``seconds``: throughput, latency, CPU."""
    db_before = db_cpu(backends(url))
    cpu_before = bench_api.tree_cpu(srv.proc.pid)
    res = bench_api.run(paths, seconds, clients, srv.port)
    cpu = bench_api.tree_cpu(srv.proc.pid) - cpu_before
    db_after = db_cpu(backends(url))
    db = sum(v - db_before.get(p, 0.0) for p, v in db_after.items())
    n = max(res["n"], 1)
    return {"rps": res["rps"], "p50": res["p50"], "p95": res["p95"], "p99": res["p99"],
            "cpu": cpu / n * 1000, "db": db / n * 1000, "errors": res["errors"], "n": res["n"]}


def stop_server(srv: Server) -> None:
    """TERM the server's process group, then KILL what is left."""
    if srv.proc is None or srv.proc.poll() is not None:
        return
    try:
        os.killpg(srv.proc.pid, signal.SIGTERM)
        srv.proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(srv.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plots", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0, help="per scenario, server, round")
    ap.add_argument("--quick", action="store_true", help="1 round of 2 s, 5,000 plots")
    ap.add_argument("--before", type=Path, help="another landreg checkout to serve alongside")
    ap.add_argument("--skip", action="append", default=[], help="leave out a peer")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 2.0
        args.plots = min(args.plots, 5_000)
    t_start = time.monotonic()
    server = normalise_database_url(os.environ.get(
        "LANDREG_TEST_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5433/postgres"))
    url = bench_api.create_db(server, DB_NAME)
    servers: list[Server] = []
    try:
        secs = bench_api.load(url, args.plots)
        with get_engine(url).connect() as c:
            n = c.execute(text("SELECT count(*) FROM plot")).scalar_one()
            ids = list(c.execute(text(
                "SELECT id FROM plot WHERE published AND availability <> 'trukket' "
                "ORDER BY random() LIMIT 300")).scalars())
            public = c.execute(text("SELECT count(*) FROM plot WHERE published AND "
                                    "availability <> 'trukket'")).scalar_one()
        print(f"loaded {n:,} synthetic plots in {secs:.1f} s ({public:,} published)")
        boxes = [quote(b, safe=",") for b in bench_api.kommune_bboxes(url)]
        offsets = [1000 * k for k in range(max(1, public // 1000 - 1))]

        starters = [("landreg", lambda: start_landreg(url, "landreg", LANDREG_PORT, ROOT))]
        if args.before:
            starters.append(("before", lambda: start_landreg(
                url, "before", BEFORE_PORT, args.before.resolve())))
        for name, (reqs, port) in PEERS.items():
            if name in args.skip:
                continue
            env_dir = venv(name, reqs)
            if env_dir is None:
                continue
            starter = start_pygeoapi if name == "pygeoapi" else start_tipg
            starters.append((name, lambda s=starter, d=env_dir, p=port: s(d, url, p)))
        for name, start in starters:
            try:
                srv = start()
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
                print(f"  {name} cannot start, left out: {exc}")
                continue
            servers.append(srv)
            if not wait_ready(srv, srv.paths("item", boxes, offsets, ids[:1])[0]):
                print(f"  {name} did not answer, left out")
                stop_server(srv)
                servers.remove(srv)
        if not servers:
            raise SystemExit("no server could be started")
        print("servers: " + ", ".join(f"{s.name} (:{s.port})" for s in servers))
        for srv in servers:  # warm-up: every worker connects and caches
            for scen in SCENARIOS:
                if paths := srv.paths(scen, boxes, offsets, ids):
                    measure(srv, paths, 4, 0.7, url)
        for r in range(args.rounds):
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for scen, clients in SCENARIOS.items():
                for srv in order:
                    paths = srv.paths(scen, boxes, offsets, ids)
                    if not paths:
                        continue
                    res = measure(srv, paths, clients, args.seconds, url)
                    srv.results.setdefault(scen, []).append(res)
            print(f"round {r + 1}/{args.rounds} done ({time.monotonic() - t_start:.0f} s)",
                  flush=True)
        report(servers, args, n)
    finally:
        for srv in servers:
            stop_server(srv)
        bench_api.drop_db(server, DB_NAME)
    print(f"\nfinished in {time.monotonic() - t_start:.0f} s")


def report(servers: list[Server], args: argparse.Namespace, plots: int) -> None:
    """The table: medians over the rounds, and ratios to landreg."""
    print(f"\n{plots:,} plots; medians of {args.rounds} interleaved round(s) of "
          f"{args.seconds:g} s; {os.cpu_count()} cores shared with whatever else runs; "
          "CPU = server processes' user+system time per request, db = PostgreSQL backends'")
    print(f"{'scenario':10} {'clients':>7} {'server':9} {'req/s':>8} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'db ms':>6} {'errors':>6}")
    med: dict[tuple[str, str], dict] = {}
    for scen, clients in SCENARIOS.items():
        for srv in servers:
            rows = srv.results.get(scen, [])
            if not rows:
                continue
            m = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            m["errors"] = sum(r["errors"] for r in rows)
            med[(scen, srv.name)] = m
            print(f"{scen:10} {clients:7d} {srv.name:9} {m['rps']:8.1f} {m['p50']:7.1f} "
                  f"{m['p95']:7.1f} {m['p99']:7.1f} {m['cpu']:7.2f} {m['db']:6.2f} "
                  f"{m['errors']:6d}")
    print("\nratios: landreg's req/s ÷ theirs, and its CPU per request ÷ theirs")
    for scen in SCENARIOS:
        mine = med.get((scen, "landreg"))
        if not mine:
            continue
        parts = []
        for srv in servers:
            other = med.get((scen, srv.name)) or med.get((LANDREG_ONLY.get(scen), srv.name))
            if srv.name == "landreg" or not other or not other["rps"]:
                continue
            theirs = "" if (scen, srv.name) in med else f" ({LANDREG_ONLY[scen]})"
            parts.append(f"vs {srv.name}{theirs}: {mine['rps'] / other['rps']:.2f}x req/s, "
                         f"{mine['cpu'] / other['cpu']:.2f}x CPU" if other["cpu"] else "")
        if parts:
            print(f"  {scen:10} " + "; ".join(parts))


if __name__ == "__main__":
    main()
