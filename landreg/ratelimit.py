"""Rate limits shared by every worker process: fixed windows counted in PostgreSQL.

One row per (key, window start) in ``rate_limit``; a hit is a single
``INSERT … ON CONFLICT DO UPDATE … RETURNING hits``, so parallel requests (other threads,
other server workers, other servers on the same database) cannot both pass a check that
only one of them should pass. Each hit commits on its own connection, so a request that later
fails still counts, and a rollback of the caller's work never refunds a hit.

Keys are opaque strings built by the caller, e.g. ``"login:src:<hash>"``; callers hash client
addresses before they get here (see :func:`landreg.web.client.client_key`).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from sqlalchemy import Engine, text

from landreg.errors import TooManyRequests

_HIT = text("""
    INSERT INTO rate_limit (key, window_start, hits, expires_at)
    VALUES (:key, to_timestamp(:start), 1, to_timestamp(:start + :window))
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit.hits + 1
    RETURNING hits
""")
_PEEK = text("SELECT hits FROM rate_limit WHERE key = :key AND window_start = to_timestamp(:start)")
_PURGE = text("DELETE FROM rate_limit WHERE expires_at < now()")


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit: allowed or not, the count so far and when to try again."""

    allowed: bool
    hits: int
    limit: int
    retry_after: int  # seconds until the window ends (0 when allowed)


def _window_start(now: float, window: int) -> int:
    return int(now // window) * window


def hit(engine: Engine, key: str, *, limit: int, window: int,
        now: float | None = None) -> Decision:
    """Count one hit on ``key`` in the current ``window`` (seconds); allowed while
    the count is at most ``limit``."""
    now = time.time() if now is None else now
    start = _window_start(now, window)
    with engine.begin() as conn:
        hits = conn.execute(_HIT, {"key": key[:200], "start": start, "window": window}
                            ).scalar_one()
        if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
            conn.execute(_PURGE)
    allowed = hits <= limit
    retry = 0 if allowed else max(1, math.ceil(start + window - now))
    return Decision(allowed, hits, limit, retry)


def peek(engine: Engine, key: str, *, window: int, now: float | None = None) -> int:
    """How many hits ``key`` has in the current window, without counting one."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        hits = conn.execute(_PEEK, {"key": key[:200], "start": _window_start(now, window)}
                            ).scalar_one_or_none()
    return int(hits or 0)


def enforce(engine: Engine, key: str, *, limit: int, window: int, message: str | None = None,
            message_key: str | None = None, now: float | None = None) -> Decision:
    """:func:`hit`, raising :class:`TooManyRequests` (429 with Retry-After) when over; its
    text is ``message``, or the catalogue's ``message_key`` (in the reader's language)."""
    decision = hit(engine, key, limit=limit, window=window, now=now)
    if not decision.allowed:
        raise TooManyRequests(message, key=message_key, retry_after=decision.retry_after)
    return decision
