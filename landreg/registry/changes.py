"""The register's change counter, and what follows every write to the plots.

Caches of things drawn from the whole register (vector tiles) are keyed by the counter, so the
next request after a save, a withdrawal, a restore, an import or a raw SQL statement sees the
change — in every worker process and on every server sharing the database.

The counter is the one row of ``register_change`` (migration 0015), moved by the database
itself: a statement-level trigger on ``plot`` and on the reference data the distance filters
read (``reference_feature``, ``route_target``) notes each writing transaction, and a deferred
trigger bumps the counter when it commits. So no write path can forget it, and it is
transactional: readers see the new value exactly when they can see the new rows, never before.
A reader must read the counter *before* it reads what it caches (see :func:`current`): then
whatever it stores is at least as new as the key it stores it under.

The marker is the row's ``xmin`` (the id of the transaction that wrote it last) with the
count: transaction ids never repeat, so a database restored from a backup cannot bring back
an old value a cache still holds tiles for.

:func:`after_plot_write` is what every path that writes plots calls before it answers (the
stored distances, issue 10): one function, so the next write path cannot forget a step.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_READ = text("SELECT xmin::text || '.' || version FROM register_change WHERE id = 1")


def current(conn: Session | Connection) -> str:
    """The counter now (``"0"`` without the table's row): read it before the data it keys."""
    return conn.execute(_READ).scalar_one_or_none() or "0"


def after_plot_write(session: Session, plot_ids: Collection[int] | None = None) -> None:
    """What follows a write to ``plot`` in the writing transaction: the stored distances of
    ``plot_ids`` (None: of every plot whose stored row is stale, e.g. after an import).

    Call it after the plot statements and before the answer is read back. The change counter
    needs no call (the database moves it)."""
    from landreg.registry import distances

    distances.refresh(session, None if plot_ids is None else list(plot_ids))
