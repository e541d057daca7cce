"""Login throttling per source and per (source, account), in the shared rate limiter.

There is no account lockout: a lock any stranger can trigger locks the owner out too (and
told the stranger which usernames exist). Instead every login attempt counts, *before* the
password is checked, against fixed-window counters in ``rate_limit`` (landreg/ratelimit.py,
atomic across workers, so parallel guesses cannot slip past a check); a successful login gives
its hits back, so in effect the counters count failures:

=====================================  ==========================  =========================
counter                                limit                       when over
=====================================  ==========================  =========================
one source and one username            5 failures per 15 minutes  429 for that pair only
one source, any usernames              30 failures per hour        429 for that source
one username, all sources together     100 failures per hour       answered 1 s slower, never
                                                                   refused
=====================================  ==========================  =========================

So 50 wrong passwords from one address do not stop the owner logging in from another. A source
is the client address behind the trusted proxies, as a keyed hash
(:func:`landreg.web.client.client_key`). The counters key on the username as typed
(normalised), whether it exists or not, so a throttled answer says nothing about which
usernames exist. ``landreg users unlock USERNAME`` clears a username's counters.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from landreg import ratelimit
from landreg.errors import TooManyRequests

PAIR_LIMIT, PAIR_WINDOW = 5, 15 * 60
SOURCE_LIMIT, SOURCE_WINDOW = 30, 60 * 60
ACCOUNT_LIMIT, ACCOUNT_WINDOW = 100, 60 * 60
ACCOUNT_SLOWDOWN = 1.0  # seconds added to each attempt while an account is over its limit

# Giving a hit back and forgetting counters are not part of the generic limiter: only login
# needs them. Same table and window arithmetic as landreg/ratelimit.py.
_REFUND = text("""
    UPDATE rate_limit SET hits = hits - 1
    WHERE key = :key AND window_start = to_timestamp(:start) AND hits > 0
""")
_FORGET = text("DELETE FROM rate_limit WHERE key = :account OR key LIKE :pairs")


class TooManyLogins(TooManyRequests):
    """Raised when a source has failed to log in too often (for one or any username)."""


def _user(username: str) -> str:
    return hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:24]


def _keys(source: str, username: str) -> dict[str, str]:
    user = _user(username)
    return {"source": f"login:source:{source}", "pair": f"login:pair:{source}:{user}",
            "account": f"login:account:{user}"}


@dataclass
class LoginAttempt:
    """One counted attempt; :meth:`succeeded` gives its hits back."""

    engine: Engine
    now: float
    counted: list[tuple[str, int]] = field(default_factory=list)  # (key, window)

    def succeeded(self) -> None:
        """The password was right: this attempt was no failure."""
        with self.engine.begin() as conn:
            for key, window in self.counted:
                conn.execute(_REFUND, {"key": key[:200],
                                       "start": int(self.now // window) * window})


def begin_attempt(engine: Engine, source: str, username: str,
                  now: float | None = None) -> LoginAttempt:
    """Count a login attempt of ``username`` from ``source``; raise :class:`TooManyLogins`
    (429 with Retry-After) when the source, or the source for this username, is over its
    limit. Sleeps :data:`ACCOUNT_SLOWDOWN` when the username is over its global limit."""
    now = time.time() if now is None else now
    keys = _keys(source, username)
    attempt = LoginAttempt(engine, now)
    for name, limit, window in (("source", SOURCE_LIMIT, SOURCE_WINDOW),
                                ("pair", PAIR_LIMIT, PAIR_WINDOW)):
        decision = ratelimit.hit(engine, keys[name], limit=limit, window=window, now=now)
        attempt.counted.append((keys[name], window))
        if not decision.allowed:
            minutes = max(1, math.ceil(decision.retry_after / 60))
            raise TooManyLogins(key="err_login_throttled", params={"minutes": minutes},
                                retry_after=decision.retry_after)
    decision = ratelimit.hit(engine, keys["account"], limit=ACCOUNT_LIMIT,
                             window=ACCOUNT_WINDOW, now=now)
    attempt.counted.append((keys["account"], ACCOUNT_WINDOW))
    if not decision.allowed:
        time.sleep(ACCOUNT_SLOWDOWN)
    return attempt


def forget_failures(engine: Engine, username: str) -> int:
    """Clear the counters of ``username`` (all sources); returns how many were cleared.
    The per-source counters stay: they are not about this account."""
    keys = _keys("%", username)
    with engine.begin() as conn:
        return conn.execute(_FORGET, {"account": keys["account"],
                                      "pairs": keys["pair"]}).rowcount
