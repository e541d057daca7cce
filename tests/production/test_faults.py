"""Faults: the server killed in the middle of an import, PostgreSQL killed in the middle of a
save. The register is afterwards as it was or complete — never half-written — compared by an
md5 over every row of ``plot`` and ``plot_version``. While the database is away the app
answers 503 with a clear message and Retry-After, and recovers by itself when it returns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import requests
from sqlalchemy import text

from landreg.auth.users import add_user, create_token
from landreg.db import get_engine, migrate, session_scope
from landreg.demo.load import load_municipalities
from landreg.settings import Settings
from landreg.web import create_app
from tests.conftest import create_database, drop_database
from tests.helpers import INSIDE, square_25833
from tests.production.conftest import children, free_port

N_PLOTS = 1500  # enough that the write takes a while


def many_plots(path: Path, prefix: str, n: int = N_PLOTS) -> Path:
    """``n`` small squares on a grid inside Kongsvinger, as a GeoPackage."""
    x0, y0 = INSIDE["3401"]
    side, step, per_row = 20.0, 30.0, 40
    geoms = [square_25833(x0 - 600 + (i % per_row) * step, y0 - 1200 + (i // per_row) * step,
                          side) for i in range(n)]
    frame = gpd.GeoDataFrame({"ref": [f"{prefix}-{i}" for i in range(n)],
                              "navn": [f"Massetomt {prefix} {i}" for i in range(n)],
                              "formal": [1340] * n}, geometry=geoms, crs=25833)
    frame.to_file(path, layer="tomter", driver="GPKG")
    return path


def state(url: str) -> tuple:
    """Counts and md5s of every row of plot and plot_version."""
    with get_engine(url).connect() as c:
        return (
            c.execute(text("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) "
                           "FROM plot t")).one(),
            c.execute(text("SELECT count(*), md5(string_agg(t::text, '|' "
                           "ORDER BY plot_id, version)) FROM plot_version t")).one(),
        )


def assert_before_or_complete(url: str, before: tuple, prefix: str) -> str:
    """The register is exactly as before, or holds the whole import (and nothing else
    changed); returns which."""
    now = state(url)
    if now == before:
        return "as before"
    (plots, _), (versions, _) = before
    assert now[0][0] == plots + N_PLOTS and now[1][0] == versions + N_PLOTS, (before, now)
    with get_engine(url).connect() as c:
        old = c.execute(text(
            "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM plot t "
            "WHERE external_ref IS NULL OR external_ref NOT LIKE :p"), {"p": f"{prefix}-%"}).one()
        mine = c.execute(text("SELECT count(*) FROM plot p JOIN plot_version v "
                              "ON v.plot_id = p.id WHERE p.external_ref LIKE :p"),
                         {"p": f"{prefix}-%"}).scalar_one()
    assert tuple(old) == tuple(before[0]) and mine == N_PLOTS
    return "complete"


def wait_for_write(url: str, timeout: float = 120) -> bool:
    """Wait until some connection writes plots (COPY into the staging table, or the INSERT …
    SELECT from it); True when seen."""
    deadline = time.monotonic() + timeout
    with get_engine(url).connect() as c:
        while time.monotonic() < deadline:
            busy = c.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state = 'active' AND "
                "(query ILIKE 'COPY%' OR query ILIKE 'INSERT INTO plot%' "
                " OR query ILIKE 'UPDATE plot%')")).scalar_one()
            if busy:
                return True
            c.rollback()
            time.sleep(0.005)
    return False


def wait_for_no_clients(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with get_engine(url).connect() as c:
        while time.monotonic() < deadline:
            n = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND pid <> pg_backend_pid() "
                               "AND state <> 'idle'")).scalar_one()
            c.rollback()
            if not n:
                return
            time.sleep(0.1)
    raise AssertionError("connections still busy")


@pytest.fixture(scope="module")
def scratch() -> Iterator[tuple[str, str]]:
    """A migrated database with the kommuner and no plots, and a planner token for 3401."""
    url = create_database("landreg_faults")
    try:
        migrate(url)
        with session_scope(get_engine(url)) as s:
            load_municipalities(s, Settings().demo_gpkg)
            add_user(s, "importer", role="planner", kommuner=["3401"], password="x" * 16)
            token = create_token(s, "importer", "faults")
        yield url, token
    finally:
        drop_database(url)


@pytest.mark.parametrize("how", ["kill -9 worker", "kill -9 master and worker",
                                 "SIGTERM master"])
def test_killing_the_server_mid_import_never_half_writes(how, scratch, server_factory,
                                                         private_dir):
    url, token = scratch
    prefix = f"K{uuid.uuid4().hex[:5]}"
    upload = many_plots(private_dir / f"{prefix}.gpkg", prefix)
    srv = server_factory(url, workers=1)
    before = state(url)
    result: dict = {}

    def post() -> None:
        try:
            with open(upload, "rb") as f:
                res = requests.post(srv.url + "/api/import", timeout=300,
                                    headers={"Authorization": f"Bearer {token}"},
                                    data={"kommune": "3401", "dry_run": "false"},
                                    files={"file": (upload.name, f)})
            result["status"] = res.status_code
        except requests.RequestException as exc:
            result["error"] = exc

    sender = threading.Thread(target=post)
    sender.start()
    assert wait_for_write(url), "the import never started writing"
    [worker] = children(srv.pid)
    if how == "kill -9 worker":
        os.kill(worker, signal.SIGKILL)
    elif how == "kill -9 master and worker":
        os.kill(srv.pid, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)
    else:
        os.kill(srv.pid, signal.SIGTERM)  # graceful: the running import may finish
    sender.join(300)
    srv.stop(signal.SIGKILL)
    wait_for_no_clients(url)
    outcome = assert_before_or_complete(url, before, prefix)
    if how == "SIGTERM master":
        assert result.get("status") == 201 and outcome == "complete", result
    if "kill -9" in how:
        assert "status" not in result and outcome == "as before", result


# --- PostgreSQL itself killed ---------------------------------------------------------------

PGBIN = Path("/usr/lib/postgresql/15/bin")


def running(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


class Cluster:
    """A throwaway, durable PostgreSQL cluster of the test's own (never the suite's)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="landreg-pgkill-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/landreg"
        self.root = os.geteuid() == 0
        if self.root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.owner(PGBIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C.UTF-8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'"
                       "\nfsync = on\nfull_page_writes = on\nsynchronous_commit = on\n"
                       "shared_buffers = 32MB\n")

    def owner(self, *cmd: object) -> None:
        argv = [str(c) for c in cmd]
        if self.root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True)

    def start(self) -> None:
        try:
            self.owner(PGBIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-o",
                       f"-p {self.port}", "-w", "-t", "60", "start")
        except subprocess.CalledProcessError as exc:
            raise AssertionError(f"{exc.stdout}{exc.stderr}\n"
                                 + (self.dir / "log").read_text()[-3000:]) from exc

    def kill9(self) -> None:
        """SIGKILL the postmaster and every backend at once — a crash, not a shutdown."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        pids = [master, *children(master)]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(running(p) for p in pids):
            time.sleep(0.05)
        # The dead postmaster may linger as a zombie until something reaps it, and PostgreSQL
        # takes a zombie's pid in postmaster.pid for a live server. After a real crash or power
        # cut no old process remains, so the stale lock files go.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        (self.dir / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def remove(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--"] * self.root
                       + [str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "stop"], capture_output=True)
        get_engine.cache_clear()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        c.start()
        subprocess.run([str(PGBIN / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(c.port),
                        "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE landreg"],
                       check=True, capture_output=True)
        migrate(c.url)
        with session_scope(get_engine(c.url)) as s:
            load_municipalities(s, Settings().demo_gpkg)
        yield c
    finally:
        c.remove()


SAVE = textwrap.dedent("""
    import sys
    from landreg.db import get_engine, session_scope
    from landreg.ingest.importer import apply_import, plan_import
    url, path = sys.argv[1], sys.argv[2]
    with session_scope(get_engine(url)) as s:
        apply_import(s, plan_import(s, path, kommune="3401", user="saver"), "saver")
""")


def test_killing_postgresql_mid_save_never_half_writes(cluster, private_dir):
    prefix = f"P{uuid.uuid4().hex[:5]}"
    upload = many_plots(private_dir / f"{prefix}.gpkg", prefix)
    before = state(cluster.url)
    get_engine(cluster.url).dispose()
    saver = subprocess.Popen([sys.executable, "-c", SAVE, cluster.url, str(upload)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert wait_for_write(cluster.url), saver.communicate()[0].decode()[-2000:]
    cluster.kill9()
    saver.wait(60)
    get_engine(cluster.url).dispose()
    cluster.start()  # crash recovery replays the WAL
    assert saver.returncode != 0
    assert assert_before_or_complete(cluster.url, before, prefix) == "as before"

    # and a save that got its commit through survives the crash whole
    prefix = f"Q{uuid.uuid4().hex[:5]}"
    upload = many_plots(private_dir / f"{prefix}.gpkg", prefix)
    subprocess.run([sys.executable, "-c", SAVE, cluster.url, str(upload)], check=True)
    before = state(cluster.url)
    cluster.kill9()
    get_engine(cluster.url).dispose()
    cluster.start()
    assert state(cluster.url) == before


def test_the_app_answers_503_while_the_database_is_away_and_recovers(cluster, private_dir):
    app = create_app({"TESTING": True}, settings=Settings(
        database_url=cluster.url, instance_dir=private_dir / "instance",
        cache_dir=private_dir / "cache"))
    web = app.test_client()
    assert web.get("/api/plots?limit=1").status_code == 200
    cluster.kill9()
    try:
        res = web.get("/api/plots?limit=1")
        assert res.status_code == 503
        assert res.headers["Retry-After"] == "5"
        body = res.get_json()
        assert body["code"] == "database_unavailable"
        assert "prøv igjen" in body["description"]  # in the request's language (nb)
        assert "127.0.0.1" not in body["description"]  # no connection details leak
    finally:
        cluster.start()
    assert web.get("/api/plots?limit=1").status_code == 200  # recovered without a restart
