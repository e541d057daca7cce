"""Load test: the production server (granian) against the development server (Werkzeug).

Serves the register `make run` prepared (LANDREG_DATABASE_URL, default the local cluster's
``landreg`` database on LANDREG_PG_PORT) with each server at once, each on its own port on
127.0.0.1 only:

  production   `landreg serve` (granian, as `make run` serves it)
  development  `landreg serve --dev` (Werkzeug)
  before       optional (``--before DIR``): `landreg serve` from another checkout, e.g. main
               (``git archive main | tar -x -C /tmp/before``), for an A/B on the same run

and drives each with N concurrent keep-alive clients (one connection each, the next request
sent when the last is answered) for a bounded time in two scenarios:

  A  OGC API items in a kommune's bounding box  /ogc/collections/plots/items?bbox=…&limit=100
  B  the search API in a kommune                /api/plots?kommune=3401&…&limit=100

The servers take turns within each scenario (interleaved, so a busy moment of a shared machine
does not fall on one server only). The load generator is Debian's wrk (C: a few percent of a
core for 50 clients, where a Python client took a third of the 2 cores the server is measured
on); ``--client aiohttp`` uses the Python one. Prints requests, errors (anything but 200,
failed connections, timeouts after 10 s), p50/p95/p99 latency, requests/s and the server's CPU
per request (all its processes, from /proc) side by side. Nothing is timed in the test suite;
this is a measurement, not a gate.

Usage:  make bench-load [BENCH_ARGS="--duration 30 --before /tmp/before"]
        .venv/bin/python scripts/bench_load.py [--clients 50] [--duration 60] [--port 5147]
Needs:  `make bench-tools` (Debian's wrk; aiohttp from the bench extra)
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"  # never anything else


from scripts.bench_api import tree_cpu, worker_rss  # noqa: E402


def database_url() -> str:
    port = os.environ.get("LANDREG_PG_PORT", "5433")
    return os.environ.get("LANDREG_DATABASE_URL",
                          f"postgresql+psycopg://postgres@127.0.0.1:{port}/landreg")


def kommune_bboxes(url: str) -> dict[str, str]:
    """Each kommune's bounding box in longitude/latitude (CRS84), as the bbox parameter."""
    from sqlalchemy import text

    from landreg.db import get_engine

    with get_engine(url).connect() as c:
        rows = c.execute(text(
            "SELECT kommunenummer, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ("
            " SELECT kommunenummer, ST_Transform(geom, 4326)::box2d b FROM municipality) s"
            " ORDER BY kommunenummer")).all()
    if not rows:
        raise SystemExit(f"no kommuner in {url}: run `make db` (or `make run`) first")
    return {r[0]: ",".join(f"{v:.5f}" for v in r[1:]) for r in rows}


def scenarios(url: str) -> dict[str, list[str]]:
    boxes = kommune_bboxes(url)
    return {
        "A OGC items, kommune bbox, limit 100": [
            f"/ogc/collections/plots/items?bbox={boxes['3401']}&limit=100"],
        "B search API, kommune 3401, limit 100": [
            f"/api/plots?kommune=3401&limit=100&sort={s}{extra}"
            for s in ("name", "-area_daa") for extra in ("", "&availability=ledig",
                                                           "&min_daa=5")],
    }


def server_commands(port: int, before: Path | None) -> dict[str, tuple[list[str], int, Path]]:
    """Each server's command line, port and checkout."""
    landreg = [str(BIN / "landreg"), "-q", "serve", "--host", HOST]
    out = {"production": (landreg + ["--port", str(port)], port, ROOT)}
    if before is not None:
        out["before"] = (landreg + ["--port", str(port + 1)], port + 1, before.resolve())
    out["development"] = (landreg + ["--port", str(port + 2), "--dev"], port + 2, ROOT)
    return out


def start(cmd: list[str], port: int, env: dict[str, str], log: Path, root: Path = ROOT
          ) -> subprocess.Popen:
    """Start a server from checkout ``root`` (its own process group; output, e.g. the access
    log, to ``log``) and wait until /ready says 200."""
    env = dict(env, PYTHONPATH=str(root))
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited with {proc.returncode}:\n"
                             + log.read_text(errors="replace")[-2000:])
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/ready")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise SystemExit(f"the server did not become ready: {' '.join(cmd)}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server this script started (its own process group only)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def drive(port: int, paths: list[str], clients: int, seconds: float) -> dict:
    """``clients`` keep-alive connections, each sending its next request when the last one
    is answered, for ``seconds``."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)

    async def client(seed: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        rnd = random.Random(seed)
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                async with session.get(f"http://{HOST}:{port}{rnd.choice(paths)}") as resp:
                    await resp.read()
                    ok = resp.status == 200
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            latencies.append(time.perf_counter() - t)
            errors += not ok

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(i, session) for i in range(clients)))
        wall = time.perf_counter() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"n": len(latencies), "errors": errors, "p50": pct(0.50), "p95": pct(0.95),
            "p99": pct(0.99), "rps": len(latencies) / wall}


WRK_SCRIPT = """
local paths = {%s}
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%f %%f %%f\\n", summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def drive_wrk(port: int, paths: list[str], clients: int, seconds: float, work: Path) -> dict:
    """:func:`drive` with Debian's wrk (2 threads, ``clients`` connections, 10 s timeout)."""
    script = work / "paths.lua"
    script.write_text(WRK_SCRIPT % ",".join(f'"{p}"' for p in paths))
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s",
                          "--timeout", "10s", "-s", str(script), f"http://{HOST}:{port}"],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, failed, status, p50, p95, p99 = line.split()[1:]
    rate = next(x for x in out.splitlines() if x.startswith("Requests/sec"))
    return {"n": int(n), "errors": int(failed) + int(status), "p50": float(p50) / 1000,
            "p95": float(p95) / 1000, "p99": float(p99) / 1000, "rps": float(rate.split()[1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per scenario")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before each scenario")
    ap.add_argument("--port", type=int, default=int(os.environ.get("LANDREG_PORT", 5147)),
                    help="the production server's port (+1 before, +2 development)")
    ap.add_argument("--before", type=Path, help="another checkout to serve alongside")
    ap.add_argument("--client", choices=("wrk", "aiohttp"),
                    default="wrk" if shutil.which("wrk") else "aiohttp")
    ap.add_argument("--no-dev", action="store_true", help="leave out the development server")
    args = ap.parse_args()
    if args.client == "aiohttp":
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            raise SystemExit("needs wrk or aiohttp: make bench-tools") from None
    url = database_url()
    scen = scenarios(url)
    work = Path(tempfile.mkdtemp(prefix="landreg-bench-"))
    commands = server_commands(args.port, args.before)
    if args.no_dev:
        commands.pop("development")

    def measure(port: int, paths: list[str], seconds: float) -> dict:
        if args.client == "wrk":
            return drive_wrk(port, paths, args.clients, seconds, work)
        return asyncio.run(drive(port, paths, args.clients, seconds))

    results: dict[tuple[str, str], dict] = {}
    procs: dict[str, subprocess.Popen] = {}
    try:
        for server, (cmd, port, root) in commands.items():
            # every checkout reads this one's built layers (for /ready) and keeps its own
            # session key and metrics folder
            env = dict(os.environ, LANDREG_DATABASE_URL=url,
                       LANDREG_LAYERS_DIR=str(ROOT / "layers"),
                       LANDREG_CACHE_DIR=str(ROOT / "layers" / "cache"),
                       LANDREG_INSTANCE_DIR=str(work / f"instance-{server}"))
            env.pop("LANDREG_WORKERS", None)
            env.pop("LANDREG_THREADS", None)
            print(f"{server}: {' '.join(cmd)} (in {root})", flush=True)
            procs[server] = start(cmd, port, env, work / f"{server}.log", root)
        for label, paths in scen.items():
            for server, (_cmd, port, _root) in commands.items():  # interleaved
                measure(port, paths, args.warmup)
                cpu = tree_cpu(procs[server].pid)
                r = results[(label, server)] = measure(port, paths, args.duration)
                r["cpu"] = (tree_cpu(procs[server].pid) - cpu) / max(r["n"], 1) * 1000
                print(f"  {label} {server}: {r['n']} requests, {r['rps']:.0f} req/s, "
                      f"p99 {r['p99']:.0f} ms", flush=True)
        rss = {server: worker_rss(proc.pid) for server, proc in procs.items()}
    finally:
        for proc in procs.values():
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    load1, load5, _ = os.getloadavg()
    print(f"\n{args.clients} keep-alive clients ({args.client}), {args.duration:g} s per row, "
          f"{os.cpu_count()} cores (client and servers share them; load average {load1:.1f}, "
          f"5 min {load5:.1f}), database {url}\n")
    print(f"{'scenario':40} {'server':12} {'requests':>8} {'errors':>6} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} {'CPU ms':>6}")
    for (label, server), r in results.items():
        print(f"{label:40} {server:12} {r['n']:8d} {r['errors']:6d} {r['p50']:7.1f} "
              f"{r['p95']:7.1f} {r['p99']:7.1f} {r['rps']:7.1f} {r['cpu']:6.2f}")
    print("\nresident memory (RSS, MB) of each server's child processes afterwards: " + "; ".join(
        f"{server} {', '.join(f'{m:.0f}' for m in mb)}" for server, mb in rss.items()))


if __name__ == "__main__":
    main()
