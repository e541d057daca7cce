"""Shared pieces of the browser tests: the app served on a local port, and waiting for
something the page draws after it has loaded.

By default the app runs in the test process (Werkzeug in a thread). ``LANDREG_BROWSER_SERVER``
asks for the production server instead:

- ``serve`` (or any other word): ``landreg serve`` (granian, as ``make run`` serves it) on the
  test database,
  started once per database for the whole session and stopped at its end;
  ``LANDREG_BROWSER_PORT`` picks its port (default: a free one);
- ``http://127.0.0.1:PORT``: a server that is already running (``scripts/bench_memory.py``
  starts one and runs the suite against it twice), used for the database it serves,
  ``LANDREG_TEST_DATABASE_URL`` (tests on another database get their own server as above).
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.serving import make_server

from landreg.settings import Settings
from landreg.web import create_app
from tests.production.conftest import Server
from tests.web.conftest import PASSWORD

MODE_ENV = "LANDREG_BROWSER_SERVER"
_SERVERS: dict[str, tuple[str, Server]] = {}


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
        yield _warmed(production_server(settings), warm)
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


def start_server(settings: Settings, port: int | None = None,
                   workers: int | None = None) -> Server:
    """``landreg serve`` for ``settings`` (database, grid, layers) on ``port`` (default: a
    free one), with as many workers as ``make run`` starts unless told; started and answering.
    Its instance folder (session key, metrics files, log) and layer cache are its own."""
    workers = workers or min(2 * (os.cpu_count() or 1) + 1, 12)  # landreg serve's default
    private = Path(tempfile.mkdtemp(prefix="landreg-browser-"))
    # its own layer cache, as the production tests' servers: the test process (root) writes
    # to the session's, and the server's user (landreg) could not write beside it
    srv = Server(settings.database_url, private / "instance", private / "cache",
                 workers=workers, extra_env={"LANDREG_SCORING_RES": f"{settings.scoring_res:g}",
                                             "LANDREG_LAYERS_DIR": str(settings.layers_dir),
                                             "LANDREG_CACHE_DIR": str(private / "cache")})
    if port:
        srv.port, srv.url = port, f"http://127.0.0.1:{port}"
    return srv.start(timeout=180)


def production_server(settings: Settings) -> str:
    """The URL of this session's production server for ``settings``' database (started at first use,
    stopped when the session's process exits)."""
    key = settings.database_url
    if key not in _SERVERS:
        port = int(os.environ.get("LANDREG_BROWSER_PORT") or 0) or None
        if port and any(u.endswith(f":{port}") for u, _s in _SERVERS.values()):
            port = None  # the given port serves another database already
        srv = start_server(settings, port)
        atexit.register(srv.stop)
        _SERVERS[key] = (srv.url, srv)
    return _SERVERS[key][0]


def settled(page, predicate_js: str, timeout_ms: int = 10_000) -> bool:
    """Whether ``predicate_js`` (a JS function) became true within the time: for what the page
    draws after load (tiles, clusters). The caller asserts on what is on screen, so a
    failure reports the state rather than a timeout."""
    try:
        page.wait_for_function(predicate_js, timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def log_in(page, server: str, username: str, next_path: str, *, keyboard: bool = False) -> None:
    """Log ``username`` (password :data:`PASSWORD`) in through the real form, which then goes
    on to ``next_path``; ``keyboard`` sends it with Enter instead of a click."""
    page.goto(f"{server}/login?next={quote(next_path, safe='/')}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    if keyboard:
        page.keyboard.press("Enter")
    else:
        page.click("button[type=submit]")
