"""Engine, sessions and migrations: one engine per process, one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from landreg.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """Return the (cached) engine for a database URL.

    ``pool_pre_ping`` replaces connections that died with a database restart, so the app
    recovers by itself; ``connect_timeout`` makes an unreachable database a quick error (a 503
    in the web app) instead of a hung request."""
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"connect_timeout": 5})


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
