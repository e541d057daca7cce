"""gunicorn's threaded worker with the keep-alive connections spread evenly over the workers.

All workers wait on the one listening socket, and whichever wakes first accepts. A keep-alive
connection then stays with that worker for all its requests, so one burst of connections (a
browser opening six, a load test opening fifty) could land 20 on one worker and none on
another. A worker handles its connections' requests with one interpreter (one GIL, about one
core), so the clients of the crowded worker waited several times as long as the rest: that was
the tail of issue 10's load test (p99 3× the median at 50 clients, with 3, 20, 14, 13 and 0
connections on the five workers).

Here a worker that has just accepted a connection steps back from accepting for a moment that
grows with the connections it already holds (:data:`ACCEPT_STEP_S` each, at most
:data:`ACCEPT_PAUSE_MAX_S`), so the next connection goes to a worker holding fewer: least
connections first, without shared state. Only accepting is delayed, never a request on a
connection already held; a lone worker still accepts within the cap.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

#: Pause after an accept, per connection the worker holds (seconds).
ACCEPT_STEP_S = 0.002
#: The longest pause: the most a new connection can wait when every worker is crowded.
ACCEPT_PAUSE_MAX_S = 0.05


class BalancedThreadWorker(ThreadWorker):
    """``gthread``, accepting new connections least-connections first (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paused_until = 0.0

    def accept(self, listener: Any) -> None:
        """Accept one connection, then pause accepting in proportion to those held."""
        before = self.nr_conns
        super().accept(listener)
        if self.nr_conns > before:
            self._paused_until = time.monotonic() + min(self.nr_conns * ACCEPT_STEP_S,
                                                        ACCEPT_PAUSE_MAX_S)
            self.set_accept_enabled(False)

    def set_accept_enabled(self, enabled: bool) -> None:
        """gthread's switch, kept off while this worker pauses."""
        if enabled and time.monotonic() < self._paused_until:
            enabled = False
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """gthread's event wait, woken when the pause ends (its loop then accepts again)."""
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            timeout = min(timeout, pause)
        super().wait_for_and_dispatch_events(timeout)
