"""A Flask app and client on the test database, and plots committed for web tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.plots import create_plot
from landreg.web import create_app
from tests.helpers import INSIDE, plot_attrs, square_25833


@pytest.fixture(scope="session")
def app(settings):
    return create_app({"TESTING": True}, settings=settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def secret_plot(database_url) -> Iterator[int]:
    """An unpublished plot with internal notes, committed (the app uses its own connections)."""
    with session_scope(get_engine(database_url)) as s:
        x, y = INSIDE["3417"]
        pid = create_plot(s, plot_attrs(name="Hemmelig tomt", published=False,
                                        internal_notes="INTERNAL-XYZZY"),
                          square_25833(x, y, 80), 25833, user="test").plot["id"]
    yield pid
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.id == pid))


@pytest.fixture(scope="session")
def published_count(database_url) -> int:
    from sqlalchemy import func

    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Plot).where(
            Plot.published.is_(True), Plot.availability != "trukket")).scalar_one()
