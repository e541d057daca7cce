"""Prometheus metrics at ``/metrics``: requests and latency per route, the database pool.

Metrics (prometheus_client, the reference Python client):

- ``landreg_http_requests_total{method, route, status}`` and
  ``landreg_http_request_duration_seconds{method, route}`` (histogram). ``route`` is Flask's URL
  rule (``/api/plots/<int:plot_id>``), never the raw path, so a scan of random URLs cannot
  create unbounded series; paths no rule matches count as ``route="<unmatched>"``.
- ``landreg_db_pool_size``, ``landreg_db_pool_checked_out`` and ``landreg_db_pool_overflow``
  (connections beyond the pool size), kept current by SQLAlchemy pool events.

Who may read them: a request from this machine (loopback) or an admin, judged on the client
address after ProxyFix (:func:`landreg.web.client.client_address`). Behind a reverse proxy on
the same machine a request the proxy forwards without ``X-Forwarded-For`` looks local, so the
proxy must not forward ``/metrics`` at all; Prometheus scrapes the app's own port.

Several server workers: each worker is a process with its own counters. ``landreg serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the server starts (emptied at every
start); the workers then write their samples there and any worker's ``/metrics`` reports the
sum over all of them (gauges: the sum over live workers — :func:`forget_dead_workers` marks the
files of workers that are gone, at each worker's start and each ``/metrics``). Without it,
``/metrics`` shows one worker's share.
"""

from __future__ import annotations

import ipaddress
import os
import time
import weakref

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

from landreg.errors import PermissionDenied
from landreg.web.client import client_address

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("landreg_http_requests_total",
                   "HTTP requests by method, route (the URL rule) and status",
                   ["method", "route", "status"])
LATENCY = Histogram("landreg_http_request_duration_seconds",
                    "Time from the start of the request to the response, by method and route",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
POOL_SIZE = Gauge("landreg_db_pool_size", "Configured size of the database connection pool",
                  multiprocess_mode="livesum")
POOL_CHECKED_OUT = Gauge("landreg_db_pool_checked_out",
                         "Database connections in use by requests", multiprocess_mode="livesum")
POOL_OVERFLOW = Gauge("landreg_db_pool_overflow",
                      "Database connections open beyond the pool size",
                      multiprocess_mode="livesum")

_watched: weakref.WeakSet[Engine] = weakref.WeakSet()


def init_app(app: Flask) -> None:
    """Time and count every request, and watch the app's database pool."""
    # first, so the time includes the other before_request hooks (CSRF, rate limits)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_observe)
    app.register_blueprint(bp)


def _start() -> None:
    g.metrics_start = time.perf_counter()
    from landreg.web.db import engine

    watch_pool(engine())


def _observe(response: Response) -> Response:
    rule = request.url_rule
    route = rule.rule if rule is not None else "<unmatched>"
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    start = g.get("metrics_start")
    if start is not None:
        LATENCY.labels(request.method, route).observe(time.perf_counter() - start)
    return response


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges current from ``engine``'s pool events (once per engine)."""
    if engine in _watched:
        return
    _watched.add(engine)

    def update(returning: int = 0) -> None:
        pool = engine.pool
        size = getattr(pool, "size", None)
        POOL_SIZE.set(size() if callable(size) else 0)
        checked_out = getattr(pool, "checkedout", None)
        POOL_CHECKED_OUT.set(max(checked_out() - returning, 0) if callable(checked_out) else 0)
        overflow = getattr(pool, "overflow", None)
        POOL_OVERFLOW.set(max(overflow(), 0) if callable(overflow) else 0)

    for name in ("connect", "checkout", "close", "invalidate"):
        event.listen(engine, name, lambda *_args: update())
    # the checkin event fires before the pool takes the connection back
    event.listen(engine, "checkin", lambda *_args: update(returning=1))
    update()


def is_operator() -> bool:
    """True for a request from this machine (after ProxyFix) or from a logged-in admin."""
    if _is_loopback(client_address()):
        return True
    from landreg.web.auth import current_principal

    try:
        principal = current_principal()
    except Exception:  # e.g. the database is down: nobody is an admin then
        return False
    return principal is not None and principal.is_admin


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@bp.get("/metrics")
def metrics() -> Response:
    """The metrics in Prometheus' text format (this machine and admins only)."""
    if not is_operator():
        raise PermissionDenied("The metrics are for operators: ask from the server itself "
                               "(Prometheus on this machine) or log in as an admin.")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        forget_dead_workers()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    resp = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def forget_dead_workers(folder: str | None = None) -> int:
    """Mark the prometheus_client files of processes that no longer run as dead (their live
    gauges stop counting). Returns how many processes were forgotten."""
    folder = folder or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return 0
    pids = set()
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        stem = name.rsplit(".", 1)[0]
        pid = stem.rsplit("_", 1)[-1]
        if name.endswith(".db") and pid.isdigit():
            pids.add(int(pid))
    gone = 0
    for pid in pids - {os.getpid()}:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, folder)
            gone += 1
        except PermissionError:  # alive, another user's: not ours to forget
            pass
    return gone
