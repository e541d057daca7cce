"""Attack: an upload far over the limit sent to the real server (``landreg serve``), declared
in Content-Length or streamed chunked without one. The server must answer 413 without first
taking the body into memory: a worker holding a 2 GB body would be a denial of service."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import requests

from tests.production.conftest import (  # noqa: F401 - fixtures
    children,
    kv_planner_token,
    private_dir,
    server_factory,
)

LIMIT_MB = 1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def answer(sock: socket.socket, seconds: float = 20) -> bytes:
    sock.settimeout(seconds)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_oversized_uploads_are_refused_without_being_held(server_factory,  # noqa: F811
                                                          database_url):
    name, token = kv_planner_token(database_url, "upl")
    srv = server_factory(database_url, workers=1, LANDREG_MAX_UPLOAD_MB=str(LIMIT_MB))
    [worker] = children(srv.pid)
    warm = requests.post(srv.url + "/api/import", headers={"Authorization": f"Bearer {token}"},
                         data={"kommune": "3401"}, files={"file": ("a.gpkg", b"not a file")},
                         timeout=60)  # the import route's modules loaded, as in a used worker
    assert warm.status_code == 400, warm.text
    before = rss_mb(worker)
    head = (f"POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n")

    # 1. declared: 2 GB announced, a few bytes sent; the answer comes at once
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall((head + "Content-Length: 2000000000\r\n\r\n--b\r\n").encode())
        started = time.monotonic()
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert time.monotonic() - started < 10

    # 2. chunked: 64 MB streamed without a length; refused once past the limit
    sent = 0
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        part = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.gpkg\"\r\n\r\n"
        sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        block = b"x" * (1 << 20)
        try:
            for _ in range(64):
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
                sent += len(block)
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server stopped reading and closed: refused early
            pass
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 413") or reply == b"", reply[:200]
    assert sent < 32 * 2**20, sent  # the server stopped reading long before the end
    assert rss_mb(worker) - before < 16, (before, rss_mb(worker), sent)
    assert requests.get(srv.url + "/health", timeout=10).status_code == 200
