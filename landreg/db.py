"""Engine, sessions and migrations: one engine per process, one session per unit of work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from landreg.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: A connection idle in the pool longer than this is pinged before use (seconds).
IDLE_PING_S = 10.0


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """Return the (cached) engine for a database URL.

    Connections that died with a database restart are replaced, so the app recovers by
    itself, without a ping on every checkout (``pool_pre_ping`` costs a round trip per
    request): a connection idle for more than :data:`IDLE_PING_S` is pinged before use, and a
    connection that fails in use makes SQLAlchemy invalidate the whole pool (that request is a
    503, the next ones get fresh connections). ``connect_timeout`` makes an unreachable
    database a quick error (a 503 in the web app) instead of a hung request. JIT compilation
    is off: the register's queries are short, and compiling cost more than it saved (a count
    over 90,000 plots took 190–250 ms with it, 77 ms without; issue 14). So are parallel
    workers: a request must not take every core of a small server from the others, and the
    planner chose a parallel scan of the whole table over the index for a dense map tile,
    pricing its per-row PostGIS work as if the cores were idle (176 ms instead of 3 ms)."""
    engine = create_engine(url, pool_size=10, max_overflow=20, connect_args={
        "connect_timeout": 5, "options": "-c jit=off -c max_parallel_workers_per_gather=0"})
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(dbapi_conn: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, proxy: Any) -> None:
    """Ping a connection that sat idle (a restart may have killed it meanwhile); a dead one
    raises DisconnectionError, on which the pool connects afresh."""
    since = record.info.get("checked_in")
    if since is None or time.monotonic() - since < IDLE_PING_S:
        return
    try:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1")
        finally:
            cur.close()
        dbapi_conn.rollback()
    except Exception as exc:  # noqa: BLE001 - any failure means: do not use this connection
        raise DisconnectionError("idle connection is dead") from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` and sync the code lists."""
    check_postgis(url)
    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        from landreg.registry.codes import sync_arealformal

        with session_scope(get_engine(url)) as session:
            sync_arealformal(session)


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` removes every table)."""
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str | None:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def check_postgis(url: str) -> str:
    """Return the PostGIS version, or raise :class:`DatabaseUnavailable` with what to do."""
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.commit()
            return conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            "Cannot reach the database. Start the local one with `make run` (or scripts/pg.sh up)"
            " or set LANDREG_DATABASE_URL to a PostGIS database.",
            details={"error": str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)},
        ) from exc
