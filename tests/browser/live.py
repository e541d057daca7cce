"""Shared pieces of the browser tests: the app served on a local port, and waiting for
something the page draws after it has loaded.

By default the app runs in the test process (Werkzeug in a thread). ``LANDREG_BROWSER_SERVER``
asks for the production server instead:

- ``gunicorn``: ``landreg serve`` (gunicorn, as ``make run`` serves it) on the test database,
  started once per database for the whole session and stopped at its end;
  ``LANDREG_BROWSER_PORT`` picks its port (default: a free one);
- ``http://127.0.0.1:PORT``: a server that is already running (``scripts/bench_memory.py``
  starts one and runs the suite against it twice), used for the database it serves,
  ``LANDREG_TEST_DATABASE_URL`` (tests on another database get their own server as above).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.serving import make_server

from landreg.settings import Settings
from landreg.web import create_app

MODE_ENV = "LANDREG_BROWSER_SERVER"
_GUNICORNS: dict[str, tuple[str, subprocess.Popen]] = {}


@contextmanager
def live_server(settings: Settings, warm: tuple[str, ...] = ("/map",)) -> Iterator[str]:
    """The app on 127.0.0.1 (see the module's docstring for which server); ``warm`` pages are
    fetched once first (the first map of a process renders the folium map, slow on a busy
    machine)."""
    mode = os.environ.get(MODE_ENV, "").strip()
    if mode.startswith("http") and settings.database_url == os.environ.get(
            "LANDREG_TEST_DATABASE_URL"):
        yield _warmed(mode.rstrip("/"), warm)
    elif mode:
        yield _warmed(gunicorn_server(settings), warm)
    else:
        app = create_app({"TESTING": True}, settings=settings)
        srv = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            yield _warmed(f"http://127.0.0.1:{srv.server_port}", warm)
        finally:
            srv.shutdown()


def _warmed(url: str, warm: tuple[str, ...]) -> str:
    for path in warm:
        urlopen(f"{url}{path}", timeout=180).read()  # noqa: S310 - our own test server
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(settings: Settings) -> dict[str, str]:
    """The environment that makes ``landreg serve`` use ``settings`` (database, grid, cache)."""
    return dict(os.environ, LANDREG_DATABASE_URL=settings.database_url,
                LANDREG_SCORING_RES=f"{settings.scoring_res:g}",
                LANDREG_CACHE_DIR=str(settings.cache_dir),
                LANDREG_LAYERS_DIR=str(settings.layers_dir))


def start_gunicorn(settings: Settings, port: int, workers: int | None = None) -> subprocess.Popen:
    """``landreg serve`` on ``port`` for ``settings``, once it answers /health."""
    env = server_env(settings)
    # its own instance folder (session key, metrics files): never another server's
    env["LANDREG_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="landreg-browser-")
    cmd = [str(Path(sys.executable).with_name("landreg")), "serve", "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"landreg serve exited with {proc.returncode}")
        try:
            urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()  # noqa: S310
            return proc
        except (URLError, OSError):
            time.sleep(0.3)
    stop_gunicorn(proc)
    raise RuntimeError("landreg serve did not answer /health within 120 s")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    """TERM to the gunicorn master (it stops its workers), KILL to the group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def gunicorn_server(settings: Settings) -> str:
    """The URL of this session's gunicorn for ``settings``' database (started at first use)."""
    key = settings.database_url
    if key not in _GUNICORNS:
        port = int(os.environ.get("LANDREG_BROWSER_PORT") or 0) or _free_port()
        if any(u.endswith(f":{port}") for u, _p in _GUNICORNS.values()):
            port = _free_port()  # the given port serves another database already
        proc = start_gunicorn(settings, port)
        atexit.register(stop_gunicorn, proc)
        _GUNICORNS[key] = (f"http://127.0.0.1:{port}", proc)
    return _GUNICORNS[key][0]


def settled(page, predicate_js: str, timeout_ms: int = 10_000) -> bool:
    """Whether ``predicate_js`` (a JS function) became true within the time: for what the page
    draws after load (tiles, clusters). The caller asserts on what is on screen, so a
    failure reports the state rather than a timeout."""
    try:
        page.wait_for_function(predicate_js, timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True
