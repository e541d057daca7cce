"""Fixtures on a real, throwaway PostGIS database.

``make test`` sets LANDREG_TEST_SERVER_URL to the project-local cluster (or to
LANDREG_DATABASE_URL); this file creates a fresh database on it for the session, migrates it,
loads the demo region once, and drops the database at the end. Each test's ``session`` runs in
a transaction that is rolled back, so tests never see each other's writes. Without a reachable
PostGIS the run fails — it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from landreg.db import get_engine, migrate
from landreg.settings import Settings, normalise_database_url


def _server_url() -> str:
    url = os.environ.get("LANDREG_TEST_SERVER_URL")
    if not url:
        pytest.exit(
            "LANDREG_TEST_SERVER_URL is not set: run the tests with `make test`, which starts a "
            "local PostGIS, or set it to a PostGIS server URL.",
            returncode=2,
        )
    return normalise_database_url(url)


def create_database(prefix: str) -> str:
    """Create an empty PostGIS database on the test server; returns its URL."""
    server = make_url(_server_url())
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # The cluster is durable (scripts/pg.sh); a throwaway test database need not wait for
        # the disk on every commit. A crash can lose its last commits, never corrupt it.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    return url


def drop_database(url: str) -> None:
    """Drop a database made by :func:`create_database`."""
    get_engine.cache_clear()
    name = make_url(url).database
    admin = create_engine(make_url(_server_url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated test database holding the demo region (``LANDREG_TEST_DATABASE_URL``: one
    prepared so already, used as is and kept — scripts/bench_memory.py runs the browser tests
    twice against one server on one database)."""
    given = os.environ.get("LANDREG_TEST_DATABASE_URL")
    if given:
        yield given
        return
    url = create_database("landreg_test")
    try:
        migrate(url)
        from landreg.db import session_scope
        from landreg.demo.load import load_demo

        with session_scope(get_engine(url)) as session:
            load_demo(session, Settings().demo_gpkg)
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory) -> Settings:
    """Settings pointing at the test database; suitability layers at 200 m in a temp cache."""
    return Settings(database_url=database_url, scoring_res=200.0,
                    cache_dir=tmp_path_factory.mktemp("layer-cache"))


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    engine = get_engine(database_url)
    with engine.connect() as conn:
        trans = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield sess
        finally:
            sess.close()
            trans.rollback()
