"""Helpers for the production tests: a real ``landreg serve`` (granian) in a subprocess.

These tests start the server the way ``make run`` and systemd do, on a free port, and look at
it from outside: process owners in /proc, cookies over real HTTP, signals, kill -9.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from landreg.settings import REPO_ROOT

LANDREG = str(Path(sys.executable).with_name("landreg"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The direct children of a process (granian's workers of its main process)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def uids(pid: int) -> list[int]:
    """Real, effective, saved and filesystem uid of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(v) for v in line.split()[1:]]
    raise AssertionError(f"no Uid line for {pid}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Server:
    """``landreg serve`` on a free port, its output in a log file."""

    def __init__(self, database_url: str, instance: Path, cache: Path, *, workers: int = 2,
                 extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = instance.parent / f"serve-{self.port}.log"
        self.env = {**os.environ, "LANDREG_DATABASE_URL": database_url,
                    "LANDREG_INSTANCE_DIR": str(instance), "LANDREG_CACHE_DIR": str(cache),
                    "LANDREG_WORKERS": str(workers), **(extra_env or {})}
        self.env.pop("LANDREG_SECRET_KEY", None)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([LANDREG, "serve", "--port", str(self.port)],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=REPO_ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if requests.get(self.url + "/api/me", timeout=15).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("landreg serve did not answer:\n" + self.log.read_text())

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        """Signal the master and wait for it and its workers to be gone."""
        assert self.proc is not None
        workers = children(self.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        deadline = time.monotonic() + timeout
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
        return code

    def logged(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """A private (0700) folder outside the repository, like a fresh ``mktemp -d``."""
    path = Path(tempfile.mkdtemp(prefix="landreg-prod-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server_factory(private_dir: Path) -> Iterator:
    """``server_factory(database_url, workers=N)`` → a started :class:`Server`; all are stopped
    at the end."""
    made: list[Server] = []

    def make(database_url: str, *, workers: int = 2, start: bool = True,
             **extra_env: str) -> Server:
        srv = Server(database_url, private_dir / "instance", private_dir / "cache",
                     workers=workers, extra_env=extra_env)
        made.append(srv)
        return srv.start() if start else srv

    yield make
    for srv in made:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.stop(signal.SIGKILL)


def reload_and_wait(pid: int, workers: int, seconds: float = 90) -> set[int]:
    """HUP the server's main process ``pid`` and wait until ``workers`` new workers have
    replaced every old one; the new workers."""
    old = set(children(pid))
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + seconds
    now = old
    while time.monotonic() < deadline:
        now = set(children(pid))
        if len(now) == workers and not now & old:
            return now
        time.sleep(0.2)
    raise AssertionError(f"HUP did not replace the workers: {old} → {now}")


def kv_planner_token(database_url: str, prefix: str) -> tuple[str, str]:
    """A new Kongsvinger planner (username starting with ``prefix``) and an API token of
    theirs."""
    from landreg.auth.users import add_user, create_token
    from landreg.db import get_engine, session_scope

    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3401"], password="x" * 16)
        return name, create_token(s, name, prefix)


def run_user_uid() -> int:
    return pwd.getpwnam("landreg").pw_uid
