"""Shared pieces of the browser tests: the app served on a free local port, and waiting for
something the page draws after it has loaded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote
from urllib.request import urlopen

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.serving import make_server

from landreg.web import create_app
from tests.web.conftest import PASSWORD


@contextmanager
def live_server(settings, warm: tuple[str, ...] = ("/map",)) -> Iterator[str]:
    """The app on 127.0.0.1 in a thread; ``warm`` pages are fetched once first (the first map
    of a process renders the folium map, slow on a busy machine)."""
    app = create_app({"TESTING": True}, settings=settings)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}"
    try:
        for path in warm:
            urlopen(f"{url}{path}", timeout=180).read()  # noqa: S310 - our own test server
        yield url
    finally:
        srv.shutdown()


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
