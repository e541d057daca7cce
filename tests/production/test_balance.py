"""Keep-alive connections spread over the workers (issue 10: the load test's tail came from a
burst of connections piling onto one worker, whose single GIL then served them all)."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections import Counter

from tests.production.conftest import children

WORKERS = 4
CONNECTIONS = 24


def holders(port: int) -> Counter:
    """How many established connections to ``port`` each server process holds."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return Counter(int(pid) for pid in re.findall(r"pid=(\d+)", out))


def test_a_burst_of_keep_alive_connections_is_spread_over_the_workers(server_factory,
                                                                      database_url):
    srv = server_factory(database_url, workers=WORKERS)
    time.sleep(2)  # every worker up and waiting (the factory waits for the first one only)
    socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(CONNECTIONS)]
    try:
        for s in socks:  # all connected at once, then one request each, kept alive
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for s in socks:
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        held = holders(srv.port)
        workers = children(srv.pid)
        assert sum(held.values()) == CONNECTIONS and set(held) <= set(workers), held
        share = CONNECTIONS / WORKERS
        counts = [held.get(w, 0) for w in workers]
        assert max(counts) <= 2 * share and min(counts) >= 1, (
            f"connections per worker {counts}: one crowded worker serves its clients on one "
            "core while others idle")
    finally:
        for s in socks:
            s.close()
