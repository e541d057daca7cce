"""gunicorn settings for ``landreg serve`` (``gunicorn -c python:landreg.gunicorn_conf``).

Workers and threads follow the CPU count (``LANDREG_WORKERS``/``LANDREG_THREADS`` override);
``HUP`` reloads the code gracefully (new workers, then the old ones finish their requests and
go), ``TERM`` lets the running requests finish before stopping. The access log has one line per
request with the client, the user (username or "-"), method, path, status, bytes and duration;
it never logs cookies, headers or tokens, and logs a query string only on a GET or HEAD whose
parameters do not look secret.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from landreg.memtrim import Trimmer
from landreg.web.auth import ENVIRON_USER
from landreg.web.metrics import child_exit  # noqa: F401 - gunicorn's hook: a worker's metrics

SECRET_PARAMS = ("token", "password", "passwd", "secret", "key", "csrf", "session", "auth")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def logged_path(environ: dict[str, Any]) -> str:
    """The path for the access log: with its query only for a GET/HEAD without secrets."""
    path = environ.get("PATH_INFO") or "/"
    query = environ.get("QUERY_STRING") or ""
    if query and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        names = [part.split("=", 1)[0].lower() for part in query.split("&")]
        if not any(word in name for name in names for word in SECRET_PARAMS):
            return f"{path}?{query}"
        return f"{path}?[query withheld]"
    return path


#: The access log's line: client, user, method, path (see :func:`logged_path`), status, bytes,
#: duration.
ACCESS_LOG_FORMAT = '%(h)s %(user)s "%(m)s %(path)s" %(s)s %(B)s %(ms)sms'


class AccessLogger(Logger):
    """gunicorn's logger with three atoms of our own: ``user``, ``path`` and ``ms``."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        """gunicorn's atoms plus the username the app put into the environ.

        For :data:`ACCESS_LOG_FORMAT` only the atoms it names are made: gunicorn's full set
        holds every request and response header and environ variable, lower-cased, and
        cost as much per request as the app's own routing."""
        if self.cfg.access_log_format == ACCESS_LOG_FORMAT:
            status = resp.status
            atoms = {"h": environ.get("REMOTE_ADDR", "-"), "m": environ.get("REQUEST_METHOD"),
                     "s": status.split(None, 1)[0] if isinstance(status, str) else status,
                     "B": getattr(resp, "sent", None)}
        else:
            atoms = super().atoms(resp, req, environ, request_time)
        atoms["user"] = environ.get(ENVIRON_USER) or "-"
        atoms["path"] = logged_path(environ)
        atoms["ms"] = f"{request_time.total_seconds() * 1000:.0f}"
        return atoms


_cpus = os.cpu_count() or 1
workers = _env_int("LANDREG_WORKERS", min(2 * _cpus + 1, 12))
threads = _env_int("LANDREG_THREADS", 4)
# gthread, with new connections going to the worker holding the fewest (issue 10's tail came
# from keep-alive connections piling up on one worker: landreg/gunicorn_worker.py)
worker_class = "landreg.gunicorn_worker.BalancedThreadWorker"
timeout = _env_int("LANDREG_WORKER_TIMEOUT", 120)  # an import of a large file takes a while
graceful_timeout = _env_int("LANDREG_GRACEFUL_TIMEOUT", 30)
keepalive = 5
preload_app = False  # HUP must load new code after an upgrade
# Recycle a worker now and then (geospatial libraries may hold memory; the caches are bounded).
# Rarely: a new worker spends a second or two of CPU importing the app, which under load at
# 2,000 requests (every ~40 s per worker at 250 req/s) was a steady source of slow requests.
max_requests = 50_000
max_requests_jitter = 5_000
proc_name = "landreg"
logger_class = AccessLogger
accesslog = os.environ.get("LANDREG_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LANDREG_LOG_LEVEL", "info")
access_log_format = ACCESS_LOG_FORMAT

#: Freed memory goes back to the system after a request that grew a worker by 16 MB
#: (landreg/memtrim.py; issue 14).
_trimmer = Trimmer(step_mb=16)


def post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    """gunicorn hook (in the worker, after each request): ``malloc_trim`` when it grew."""
    _trimmer.after_request()

