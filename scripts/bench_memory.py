"""Memory of the server's workers after the whole browser test suite has run against it.

Issue 14: "each server worker under 400 MB after the whole browser test suite has run against
it; caches bounded by size". Creates a test database (migrated, demo region loaded), starts
``landreg serve`` on it — granian, as ``make run`` serves it (workers 2 x CPUs + 1, 4 threads)
— and runs ``tests/browser`` against that one server (``LANDREG_BROWSER_SERVER``, see
tests/browser/live.py), twice. Prints each worker's resident memory (RSS, from
/proc/<pid>/status) when started, after the first pass and after the second, the highest
value sampled every half second and each worker's VmHWM (the kernel's record of its highest
RSS, which sampling can miss), against the limit. Between passes the rate-limit counts of
the test client are deleted from the database (every request comes from 127.0.0.1, so the
second pass's enquiries were refused on the first's counts); the limits are not changed.
The named alternative is the second pass:
a cache without a bound, or a leak, shows as growth from the first pass to the second; bounded
caches level off. Browser tests on a database of their own (the 20,000-plot tile test) run
in-process as before and are not part of the figures. The database is dropped at the end.

Usage:  .venv/bin/python scripts/bench_memory.py [--port P] [--passes N] [-k EXPR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from landreg.db import get_engine, migrate, session_scope  # noqa: E402
from landreg.settings import Settings  # noqa: E402
from scripts.bench_api import proc_files  # noqa: E402

LIMIT_MB = 400
PORT = int(os.environ.get("LANDREG_BENCH_PORT", "5097"))


def workers(master: int, field: str = "VmRSS") -> dict[int, float]:
    """RSS (MB) of each direct child of ``master`` (the server's workers); ``VmHWM``: the
    highest RSS each has had (the kernel's own peak, which sampling can miss)."""
    out = {}
    for pid, status in proc_files("status"):
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and field in fields:
            out[pid] = int(fields[field].split()[0]) / 1024
    return out


def pss_mb(pid: int) -> float:
    """Proportional set size (MB): RSS with each shared page (the libraries every worker maps,
    ~90-165 MB of each RSS) divided among the processes sharing it."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_rate_limits(db: str) -> dict[str, int]:
    """Delete the rate-limit counts (rows of ``rate_limit``) left by a pass, per kind.

    Every request comes from this machine, 127.0.0.1, so a second pass would start with the
    first one's counts and be refused what a fresh client is allowed (the two enquiry tests:
    enquiries per address per day). The limits themselves stay as they are."""
    from sqlalchemy import text

    with get_engine(db).begin() as conn:
        keys = conn.execute(text("DELETE FROM rate_limit RETURNING key")).scalars().all()
    kinds: dict[str, int] = {}
    for key in keys:
        kinds[key.split(":", 1)[0]] = kinds.get(key.split(":", 1)[0], 0) + 1
    return kinds


class Sampler(threading.Thread):
    """The highest RSS seen per worker, sampled every ``every`` seconds."""

    def __init__(self, master: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.peak: dict[int, float] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for pid, mb in workers(self.master).items():
                self.peak[pid] = max(mb, self.peak.get(pid, 0.0))
            self.halt.wait(self.every)


def run_suite(url: str, db: str, extra: list[str]) -> tuple[str, float]:
    """The browser tests against the server at ``url``: pytest's summary line and seconds."""
    env = dict(os.environ, LANDREG_BROWSER_SERVER=url, LANDREG_TEST_DATABASE_URL=db)
    t = time.perf_counter()
    res = subprocess.run(  # noqa: S603 - our own interpreter and test folder
        [sys.executable, "-m", "pytest", "tests/browser", "-q", "-p", "no:cacheprovider",
         *extra], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [ln for ln in res.stdout.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    for failed in (ln for ln in res.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))):
        print(f"  {failed[:200]}")
    if res.returncode not in (0, 1):
        sys.stderr.write(res.stdout[-3000:] + res.stderr[-2000:])
    return (lines[-1] if lines else f"pytest exited {res.returncode}"), time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("-k", dest="keyword", help="only the browser tests matching (pytest -k)")
    args = ap.parse_args()
    if not os.environ.get("LANDREG_TEST_SERVER_URL"):
        os.environ["LANDREG_TEST_SERVER_URL"] = (
            "postgresql+psycopg://postgres@127.0.0.1:"
            f"{os.environ.get('LANDREG_PG_PORT', '5433')}/postgres")
    from landreg.demo.load import load_demo
    from tests.browser.live import start_server
    from tests.conftest import create_database, drop_database

    db = create_database("landreg_bench_mem")
    srv = None
    try:
        migrate(db)
        with session_scope(get_engine(db)) as s:
            load_demo(s, Settings().demo_gpkg)
        get_engine.cache_clear()
        settings = Settings(database_url=db, scoring_res=200.0)  # the tests' grid
        srv = start_server(settings, args.port)
        url = srv.url
        time.sleep(2)
        started = workers(srv.pid)
        sampler = Sampler(srv.pid)
        sampler.start()
        extra = ["-k", args.keyword] if args.keyword else []
        passes = []
        resets = []
        for i in range(args.passes):
            if i:
                resets.append(reset_rate_limits(db))
            summary, secs = run_suite(url, db, extra)
            passes.append((f"after pass {i + 1}", workers(srv.pid), summary, secs))
        urlopen(f"{url}/health", timeout=10).read()  # noqa: S310 - our own server
        sampler.halt.set()
        sampler.join()
        hwm = workers(srv.pid, "VmHWM")
        pss = {pid: pss_mb(pid) for pid in hwm}
        load1, load5, _ = os.getloadavg()
        print(f"landreg serve (granian, {len(started)} workers) on {url}; browser suite x"
              f"{args.passes}; {os.cpu_count()} cores, load average {load1:.1f} "
              f"(5 min {load5:.1f})")
        for n, (label, _rss, summary, secs) in enumerate(passes):
            if n:
                cleared = ", ".join(f"{v} {k}" for k, v in sorted(resets[n - 1].items()))
                print(f"  before pass {n + 1}: rate-limit counts of the test client "
                      f"(127.0.0.1) deleted from the database ({cleared or 'none'}); "
                      "limits unchanged")
            print(f"  {label}: {summary} ({secs:.0f} s)")
        pids = sorted(set(started) | {p for _l, r, _s, _t in passes for p in r})
        head = f"{'worker':>8} {'started':>8} " + " ".join(
            f"{label:>13}" for label, *_ in passes) + (
            f" {'max':>7} {'VmHWM':>6} {'PSS':>5} {'limit':>6}")
        print("\nRSS per worker (MB; max: sampled every 0.5 s; VmHWM: the kernel's peak; PSS: "
              "the end's RSS with shared pages divided among the workers)\n"
              + head)
        worst = 0.0
        for pid in pids:
            cells = [started.get(pid)] + [r.get(pid) for _l, r, _s, _t in passes]
            peak = sampler.peak.get(pid, 0.0)
            worst = max(worst, peak, hwm.get(pid, 0.0), *(c or 0.0 for c in cells))
            print(f"{pid:8d} " + " ".join(
                f"{c:8.0f}" if i == 0 and c is not None else
                (f"{c:13.0f}" if c is not None else f"{'(gone)':>13}" if i else f"{'-':>8}")
                for i, c in enumerate(cells)) + f" {peak:7.0f} "
                  + (f"{hwm[pid]:6.0f} {pss[pid]:5.0f}" if pid in hwm else f"{'-':>6} {'-':>5}")
                  + f" {LIMIT_MB:6d}")
        growth = [r2.get(p, 0) - r1.get(p, 0) for (_a, r1, *_x), (_b, r2, *_y)
                  in zip(passes, passes[1:], strict=False) for p in r2 if p in r1]
        verdict = "under" if worst < LIMIT_MB else "OVER"
        print(f"\nhighest worker RSS {worst:.0f} MB: {verdict} the {LIMIT_MB} MB limit"
              + (f"; from pass to pass each worker grew {min(growth):+.0f} to "
                 f"{max(growth):+.0f} MB" if growth else ""))
    finally:
        if srv is not None:
            srv.stop()
        drop_database(db)


if __name__ == "__main__":
    main()
