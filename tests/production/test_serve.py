"""``landreg serve``: granian, never as root, one session key for every worker and restart,
an access log without secrets, graceful reload and shutdown."""

from __future__ import annotations

import os
import re
import signal
import stat
import time
import uuid
from pathlib import Path

import pytest
import requests

from landreg.auth.users import add_user
from landreg.db import get_engine, session_scope
from tests.production.conftest import alive, children, reload_and_wait, run_user_uid, uids

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def planner(database_url) -> str:
    name = f"serve{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3401"], password=PASSWORD)
    return name


def login(base: str, username: str) -> requests.Session:
    """Log in through the real form; the session cookie stays in the returned session."""
    web = requests.Session()
    html = web.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    res = web.post(base + "/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": token}, allow_redirects=False)
    assert res.status_code == 302, res.text
    return web


def who(base: str, cookies: dict) -> str | None:
    """The user /api/me sees, over a fresh connection each time (any worker may answer)."""
    res = requests.get(base + "/api/me", cookies=cookies, headers={"Connection": "close"},
                       timeout=10)
    assert res.status_code == 200
    return res.json().get("username")


def check_nobody_is_root(srv, n_workers: int) -> None:
    """Master and workers run as the landreg user (real, effective, saved, fs uid); the key is
    theirs alone."""
    uid = run_user_uid()
    assert uid != 0
    workers = children(srv.pid)
    assert len(workers) == n_workers
    for pid in (srv.pid, *workers):  # the master too: root is dropped before granian starts
        assert uids(pid) == [uid] * 4, pid
    key = srv.env["LANDREG_INSTANCE_DIR"] + "/secret_key"
    st = os.stat(key)
    assert st.st_uid == uid and stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(srv.env["LANDREG_INSTANCE_DIR"]).st_mode) == 0o700


def test_one_login_holds_on_every_worker_and_across_restarts_and_nobody_is_root(
        server_factory, database_url, planner):
    srv = server_factory(database_url, workers=4, LANDREG_RELOAD_INTERVAL="4")
    if os.geteuid() == 0:  # started as root, as `make run` on a fresh machine does
        check_nobody_is_root(srv, 4)
    if "MALLOC_ARENA_MAX" not in os.environ:  # issue 14: 2 malloc arenas, not 8 per core
        for pid in children(srv.pid):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert b"MALLOC_ARENA_MAX=2" in environ, pid
    web = login(srv.url, planner)
    cookies = web.cookies.get_dict()
    assert [who(srv.url, cookies) for _ in range(40)] == [planner] * 40

    reload_and_wait(srv.pid, 4)  # graceful reload: new workers, same key
    assert [who(srv.url, cookies) for _ in range(10)] == [planner] * 10

    assert srv.stop(signal.SIGTERM) == 0  # graceful shutdown exits cleanly
    srv.start()
    assert [who(srv.url, cookies) for _ in range(20)] == [planner] * 20

    log = srv.logged()
    assert re.search(rf'{planner} "GET /api/me" 200 \d+ \d+ms', log), log[-2000:]
    assert re.search(r'- "GET /login" 200 \d+ \d+ms', log)
    assert re.search(rf'{planner} "POST /login" 302 ', log)
    for value in cookies.values():
        assert value not in log


def test_the_access_log_withholds_secret_query_strings(server_factory, database_url):
    srv = server_factory(database_url, workers=1)
    requests.get(srv.url + "/api/plots?limit=1&kommune=3401", timeout=30)
    requests.get(srv.url + "/api/plots?limit=1&access_token=SECRET-T0KEN", timeout=30)
    requests.post(srv.url + "/api/plots?password=SECRET-PW", timeout=30)
    srv.stop()
    log = srv.logged()
    assert '"GET /api/plots?limit=1&kommune=3401" 200' in log
    assert '"GET /api/plots?[query withheld]"' in log
    assert '"POST /api/plots" ' in log
    assert "SECRET" not in log


def test_workers_stop_when_the_main_process_is_killed(server_factory, database_url):
    """kill -9 of granian's main process (the OOM killer, an operator's mistake) left its
    workers running, answering on the port with the old code; now they stop with it."""
    srv = server_factory(database_url, workers=2)
    deadline = time.monotonic() + 30
    while len(children(srv.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = children(srv.pid)
    assert len(workers) == 2
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait(10)
    deadline = time.monotonic() + 20
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)], "workers outlived their main process"
    with pytest.raises(requests.ConnectionError):
        requests.get(srv.url + "/health", timeout=5)
