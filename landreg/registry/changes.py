"""The register's change counter: one value that moves with every write to the plots.

Caches of things drawn from the whole register (vector tiles) are keyed by it, so the next
request after a save, a withdrawal, a restore or an import sees the change — in every worker
process and on every server sharing the database.

The counter is one row of the ``rate_limit`` table (a counter shared by all workers,
``landreg/ratelimit.py``), bumped *in the writing transaction* by each write path of the
register (``registry/plots.py`` create/update — withdraw, restore and restore-version go
through update —, ``ingest/writing.py`` imports and the demo loader). So it is transactional:
readers see the new value exactly when they can see the new rows, never before. A reader
must read the counter *before* it reads what it caches (see :func:`current`): then whatever
it stores is at least as new as the key it stores it under.

The marker is the row's ``xmin`` (the id of the transaction that wrote it last) with the
count: transaction ids never repeat, so a counter lost with the unlogged table after a crash
cannot come back with an old value. Writes made outside these paths (raw SQL in ``psql``)
do not bump it; caches keyed by it also expire by age (``tiles.TileCache.max_age``).
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

#: The counter's row in ``rate_limit``: a fixed window start and no expiry (never purged).
KEY = "register:changes"
_BUMP = text(
    "INSERT INTO rate_limit (key, window_start, hits, expires_at) "
    "VALUES (:key, to_timestamp(0), 1, 'infinity') "
    "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit.hits + 1")
_READ = text("SELECT xmin::text || '.' || hits FROM rate_limit "
             "WHERE key = :key AND window_start = to_timestamp(0)")


def note_change(session: Session | Connection) -> None:
    """Bump the counter in ``session``'s transaction (call it where the register is written).

    The row stays locked until that transaction ends, so concurrent writers commit one after
    another; write paths call this after their statements, just before the caller commits."""
    session.execute(_BUMP, {"key": KEY})


def current(conn: Session | Connection) -> str:
    """The counter now (``"0"`` before the first change): read it before the data it keys."""
    return conn.execute(_READ, {"key": KEY}).scalar_one_or_none() or "0"
