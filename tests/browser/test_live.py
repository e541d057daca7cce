"""The browser tests' server helper: the production server (landreg serve) when asked."""

from __future__ import annotations

from urllib.request import urlopen

from tests.browser.live import live_server, start_server
from tests.production.conftest import children


def test_live_server_uses_a_running_production_server_for_its_database(settings, monkeypatch):
    srv = start_server(settings, workers=1)
    try:
        assert len(children(srv.pid)) == 1  # granian's main process and its one worker
        monkeypatch.setenv("LANDREG_BROWSER_SERVER", srv.url)
        monkeypatch.setenv("LANDREG_TEST_DATABASE_URL", settings.database_url)
        with live_server(settings, warm=("/health",)) as url:
            assert url == srv.url
            assert urlopen(f"{url}/map", timeout=180).status == 200  # noqa: S310
        monkeypatch.delenv("LANDREG_BROWSER_SERVER")  # not asked: in this process, as before
        with live_server(settings, warm=()) as url:
            assert url != srv.url and urlopen(f"{url}/health", timeout=30).status == 200  # noqa: S310
    finally:
        srv.stop()
