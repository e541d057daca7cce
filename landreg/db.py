"""Engine, sessions and migrations: one engine per process, one session per unit of work."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg.abc import Buffer
from psycopg.adapt import Loader
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from landreg.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

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
    pricing its per-row PostGIS work as if the cores were idle (176 ms instead of 3 ms).

    Statements psycopg has prepared (run five times on a connection: the hot path's few, the
    tiles', the session look-ups) keep one generic plan: by its own rule PostgreSQL went on
    planning the search API's page afresh for every request (the kommune search: 295 custom
    plans in 300 runs, 0.8 ms of planning each; its PostgreSQL CPU per request fell from 1.3
    to 0.4 ms with the generic plan). Their values only choose rows, never the plan's shape:
    every filter is an index lookup or a test on rows found by one."""
    engine = create_engine(url, pool_size=10, max_overflow=20, connect_args={
        "connect_timeout": 5, "options": "-c jit=off -c max_parallel_workers_per_gather=0 "
                                         "-c plan_cache_mode=force_generic_plan"})
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


class _BytesLoader(Loader):
    """psycopg: a text value as its UTF-8 bytes, not decoded."""

    def load(self, data: Buffer) -> bytes:
        """The bytes as they came."""
        return bytes(data)


def read_row(engine: Engine, sql: str, params: Mapping[str, Any], *,
             text_as_bytes: bool = False) -> tuple | None:
    """The first row of one read-only statement (driver SQL, ``%(name)s`` parameters), run in
    autocommit on a pooled connection straight through the driver; ``text_as_bytes`` gives
    text values as the UTF-8 bytes PostgreSQL sent (a page of 1,000 features is ~1 MB that
    would otherwise be decoded to str and encoded back for the response).

    For the hot path (issue 14): one statement is its own snapshot, so no BEGIN/ROLLBACK,
    and no SQLAlchemy ``Connection``/result machinery (~40 % of a small page's database work
    in Python). The pool is the engine's (its checkout ping and metrics apply) and errors
    are SQLAlchemy's, as on every other path: a lost database is an ``OperationalError`` (a
    503 in the web app) and drops the pool's connections, so the next request reconnects."""
    dbapi = engine.dialect.loaded_dbapi
    fairy = None
    try:
        fairy = engine.raw_connection()
        conn = fairy.driver_connection
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                if text_as_bytes:
                    cursor.adapters.register_loader("text", _BytesLoader)
                cursor.execute(sql, params)
                return cursor.fetchone()
        finally:
            try:
                conn.autocommit = False  # as the pool hands connections out
            except dbapi.Error:  # a broken connection: never handed out again
                fairy.invalidate()
    except dbapi.Error as err:
        lost = engine.dialect.is_disconnect(err, getattr(fairy, "dbapi_connection", None), None)
        if lost:
            if fairy is not None:
                fairy.invalidate(err)
            engine.dispose(close=False)  # its other connections died with the server
        raise DBAPIError.instance(sql, dict(params), err, dbapi.Error,
                                  connection_invalidated=lost, dialect=engine.dialect) from err
    finally:
        if fairy is not None:
            fairy.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` and sync the code lists."""
    from alembic import command  # migrations only: alembic and mako are no server's load

    check_postgis(url)
    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        from landreg.registry.codes import sync_arealformal

        with session_scope(get_engine(url)) as session:
            sync_arealformal(session)


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` removes every table)."""
    from alembic import command

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
