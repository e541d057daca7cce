"""A reload (HUP, ``systemctl reload landreg``) under traffic refuses no connection.

granian replaces the workers one at a time, and each worker listens on its own socket: if an
old worker stopped before its successor listened, or its waiting connections were not handed
to another worker (the kernel's ``net.ipv4.tcp_migrate_req``), clients were refused — 58,277
refused connections over one reload with 20 busy clients before landreg serve waited for new
workers and turned the switch on."""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path

from landreg.cli.serve import allow_connection_migration
from tests.production.conftest import children, reload_and_wait

CLIENTS = 8


def test_a_reload_under_traffic_refuses_no_connection(server_factory, database_url):
    srv = server_factory(database_url, workers=2)
    deadline = time.monotonic() + 30
    while len(children(srv.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    done = threading.Event()
    counts = {"ok": 0, "failed": 0}
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client() -> None:
        while not done.is_set():
            try:  # a connection per request, as nginx sends them by default
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20)
                conn.request("GET", "/health", headers={"Connection": "close"})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                why = None if resp.status == 200 else str(resp.status)
            except OSError as exc:
                why = type(exc).__name__
            with lock:
                counts["ok" if why is None else "failed"] += 1
                if why:
                    errors[why] = errors.get(why, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        time.sleep(1)
        reload_and_wait(srv.pid, 2)
        time.sleep(1)
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert counts["ok"] > 200, counts
    assert counts["failed"] <= max(1, counts["ok"] // 2000), (counts, errors)


def test_the_connection_switch_is_turned_on_and_said(tmp_path, capsys):
    switch = tmp_path / "tcp_migrate_req"
    switch.write_text("0\n")
    assert allow_connection_migration(switch)
    assert switch.read_text().strip() == "1"
    assert "tcp_migrate_req=1" in capsys.readouterr().err
    assert allow_connection_migration(switch)  # already on: nothing said
    assert capsys.readouterr().err == ""
    assert not allow_connection_migration(Path(tmp_path / "missing"))  # an older kernel
