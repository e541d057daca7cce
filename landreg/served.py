"""The web application as ``landreg serve`` runs it under granian: access log and memory trim.

granian (landreg/cli/serve.py) is the HTTP server: its workers parse HTTP in Rust and call the
WSGI application from a few threads each. What the server used to do in Python hooks is done
here, around the Flask app, once per request:

- **The access log**: one line per request with the client, the user (username or "-"),
  method, path, status, bytes and duration (:data:`ACCESS_LOG_FORMAT`). It never logs cookies,
  headers or tokens, and logs a query string only on a GET or HEAD whose parameters do not look
  secret (:func:`logged_path`). granian's own access log is off: it has no user and would log
  every query string.
- **Freed memory back to the system** after a request that grew the worker by 16 MB
  (:class:`landreg.memtrim.Trimmer`, issue 14).
- **A worker ends with the server**: each worker asks the kernel for a TERM when granian's
  main process dies (:func:`stop_with_parent`); a main process killed with ``kill -9`` (or by
  the OOM killer) otherwise left its workers running, still answering on the port with the
  old code beside a restarted server.
- **Metrics of dead workers**: prometheus_client's per-process files of a worker that is gone
  (recycled, killed) stop counting in the live gauges (:func:`forget_dead_workers`), at every
  worker's start and every ``/metrics``.

The duration runs from the call of the application to the last byte handed to the server (or,
for an answer built in one piece, to the answer being ready).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from landreg.memtrim import Trimmer
from landreg.web.auth import ENVIRON_USER
from landreg.web.metrics import forget_dead_workers

SECRET_PARAMS = ("token", "password", "passwd", "secret", "key", "csrf", "session", "auth")

#: The access log's line: client, user, method, path (see :func:`logged_path`), status, bytes,
#: duration.
ACCESS_LOG_FORMAT = '{client} {user} "{method} {path}" {status} {size} {ms:.0f}ms'

access_logger = logging.getLogger("landreg.access")


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


def access_line(environ: dict[str, Any], status: str, size: int | None, seconds: float) -> str:
    """One line of the access log (:data:`ACCESS_LOG_FORMAT`)."""
    return ACCESS_LOG_FORMAT.format(
        client=environ.get("REMOTE_ADDR") or "-", user=environ.get(ENVIRON_USER) or "-",
        method=environ.get("REQUEST_METHOD") or "-", path=logged_path(environ),
        status=status.split(None, 1)[0] if status else "-",
        size="-" if size is None else size, ms=seconds * 1000)


class Served:
    """WSGI middleware: the access log line and the memory trim after every request."""

    def __init__(self, app: Callable, *, log: logging.Logger = access_logger,
                 trimmer: Trimmer | None = None) -> None:
        self.app = app
        self.log = log
        self.trimmer = trimmer if trimmer is not None else Trimmer(step_mb=16)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Call the app; log and trim when its answer has been handed over."""
        started = time.perf_counter()
        answer: list[str] = []

        def start(status: str, headers: list, exc_info: Any = None) -> Callable:
            answer[:] = [status]
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            self.done(environ, "500", None, started)
            raise
        if isinstance(body, list):  # complete already (the server writes it in one piece)
            self.done(environ, answer[0] if answer else "", sum(map(len, body)), started)
            return body
        return _Logged(self, body, environ, answer, started)

    def done(self, environ: dict[str, Any], status: str, size: int | None,
             started: float) -> None:
        """The request is over: its access log line, then the trim check."""
        if self.log.isEnabledFor(logging.INFO):
            self.log.info(access_line(environ, status, size, time.perf_counter() - started))
        self.trimmer.after_request()


class _Logged:
    """The app's answer, counted as the server takes it; logged when the server closes it."""

    __slots__ = ("_served", "_body", "_iter", "_environ", "_answer", "_started", "_size",
                 "_closed")

    def __init__(self, served: Served, body: Iterable[bytes], environ: dict[str, Any],
                 answer: list[str], started: float) -> None:
        self._served, self._body, self._environ = served, body, environ
        self._answer, self._started = answer, started
        self._iter: Iterator[bytes] | None = None
        self._size = 0
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._iter is None:
            self._iter = iter(self._body)
        chunk = next(self._iter)
        self._size += len(chunk)
        return chunk

    def close(self) -> None:
        """WSGI: the server is done with the answer (sent, or the client went away)."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._served.done(self._environ, self._answer[0] if self._answer else "",
                              self._size, self._started)


def _log_to(target: str) -> logging.Handler:
    """A handler for the access log: ``-`` is standard output, anything else a file."""
    if target == "-":
        return logging.StreamHandler(sys.stdout)
    return logging.FileHandler(target, encoding="utf-8")


#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def stop_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send this process ``sig`` when its parent dies (Linux ``prctl``), and
    end now if the parent is gone already (it may die while the worker still loads the app).
    False where the system has no such call.

    Until granian installs its own handler (after the app is loaded), ``sig`` ends the
    process at once: a forked worker still carries the main process's handler, which would
    only set a flag in the main's copied state."""
    import multiprocessing

    started_by = multiprocessing.parent_process()  # granian's main (its workers are forked)
    parent = started_by.pid if started_by is not None else os.getppid()
    name = ctypes.util.find_library("c")
    try:
        prctl = ctypes.CDLL(name, use_errno=True).prctl if name else None
    except (OSError, AttributeError):
        prctl = None
    if prctl is None:
        return False
    signal.signal(sig, lambda *_args: os._exit(0))
    if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)
    return True


def app() -> Callable:
    """granian's factory (``landreg.served:app``): the Flask app wrapped in :class:`Served`.

    ``LANDREG_ACCESS_LOG``: ``-`` (standard output, the default) or a file; empty: no log."""
    from landreg.web import create_app

    target = os.environ.get("LANDREG_ACCESS_LOG", "-")
    if target and not access_logger.handlers:
        handler = _log_to(target)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_logger.addHandler(handler)
        access_logger.setLevel(logging.INFO)
        access_logger.propagate = False
    elif not target:
        access_logger.setLevel(logging.WARNING)
    stop_with_parent()
    forget_dead_workers()
    return Served(create_app())
