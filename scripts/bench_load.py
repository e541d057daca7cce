"""Load test: the production server (gunicorn) against the development server (Werkzeug).

Serves the register `make run` prepared (LANDREG_DATABASE_URL, default the local cluster's
``landreg`` database on LANDREG_PG_PORT) twice, one server after the other, on 127.0.0.1 only:

  production   `landreg serve` when it runs gunicorn (it has a ``--dev`` switch); until then
               ``gunicorn -k gthread -w <2*cores+1> --threads 4 'landreg.web:create_app()'``
  development  `landreg serve --dev` (or plain `landreg serve` while that is still Werkzeug)

and drives each with N concurrent keep-alive clients (asyncio + aiohttp, one connection per
client) for a bounded time in two scenarios:

  A  OGC API items in a kommune's bounding box  /ogc/collections/plots/items?bbox=…&limit=100
  B  the search API in a kommune                /api/plots?kommune=3401&…&limit=100

Prints requests, errors (anything but 200, and failed connections), p50/p95/p99 latency and
requests/s for both servers side by side. Nothing is timed in the test suite; this is a
measurement, not a gate.

Usage:  .venv/bin/python scripts/bench_load.py [--clients 50] [--duration 60] [--port 5147]
Needs:  pip install -e '.[bench]'   (aiohttp)
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


def has_dev_switch() -> bool:
    """True once `landreg serve` is the production server (gunicorn) with a --dev switch."""
    out = subprocess.run([str(BIN / "landreg"), "serve", "--help"], capture_output=True,
                         text=True, cwd=ROOT).stdout
    return "--dev" in out


def server_commands(port: int, config: Path) -> dict[str, list[str]]:
    landreg = [str(BIN / "landreg"), "-q", "serve", "--host", HOST, "--port", str(port)]
    if has_dev_switch():
        return {"production": landreg, "development": landreg + ["--dev"]}
    workers = 2 * (os.cpu_count() or 1) + 1
    config.write_text("from landreg.web.metrics import child_exit  # noqa: F401\n")
    gunicorn = [str(BIN / "gunicorn"), "-k", "gthread", "-w", str(workers), "--threads", "4",
                "-b", f"{HOST}:{port}", "--log-level", "warning", "--config", str(config),
                "landreg.web:create_app()"]
    return {"production": gunicorn, "development": landreg}


def start(cmd: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a server (its own process group; output, e.g. Werkzeug's request log, to ``log``)
    and wait until /ready says 200."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per scenario")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before each scenario")
    ap.add_argument("--port", type=int, default=int(os.environ.get("LANDREG_PORT", 5147)))
    args = ap.parse_args()
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise SystemExit("needs aiohttp: .venv/bin/pip install -e '.[bench]'") from None
    url = database_url()
    scen = scenarios(url)
    work = Path(tempfile.mkdtemp(prefix="landreg-bench-"))
    multiproc = str(work / "prometheus")
    commands = server_commands(args.port, work / "gunicorn.conf.py")
    results: dict[tuple[str, str], dict] = {}
    try:
        for server, cmd in commands.items():
            shutil.rmtree(multiproc, ignore_errors=True)  # emptied at every start
            os.makedirs(multiproc)
            env = dict(os.environ, LANDREG_DATABASE_URL=url, PROMETHEUS_MULTIPROC_DIR=multiproc)
            print(f"{server}: {' '.join(cmd)}", flush=True)
            proc = start(cmd, args.port, env, work / f"{server}.log")
            try:
                for label, paths in scen.items():
                    asyncio.run(drive(args.port, paths, args.clients, args.warmup))
                    results[(label, server)] = asyncio.run(
                        drive(args.port, paths, args.clients, args.duration))
                    r = results[(label, server)]
                    print(f"  {label}: {r['n']} requests, {r['rps']:.0f} req/s", flush=True)
            finally:
                stop(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.clients} keep-alive clients, {args.duration:g} s per row, "
          f"{os.cpu_count()} cores (client and server share them), database {url}\n")
    print(f"{'scenario':40} {'server':12} {'requests':>8} {'errors':>6} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}")
    for (label, server), r in results.items():
        print(f"{label:40} {server:12} {r['n']:8d} {r['errors']:6d} {r['p50']:7.1f} "
              f"{r['p95']:7.1f} {r['p99']:7.1f} {r['rps']:7.1f}")


if __name__ == "__main__":
    main()
