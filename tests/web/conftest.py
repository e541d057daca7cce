"""A Flask app and client on the test database, and plots committed for web tests."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from landreg.auth.users import add_user, create_token
from landreg.db import get_engine, session_scope
from landreg.models import ApiToken, Plot, User
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


PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def accounts(database_url) -> Iterator[dict[str, str]]:
    """A Kongsvinger planner (3401), a Grue planner (3417) and an admin; plus a token for the
    Kongsvinger planner. Removed afterwards with everything they created."""
    tag = uuid.uuid4().hex[:6]
    names = {"kv": f"kv{tag}", "grue": f"grue{tag}", "admin": f"adm{tag}"}
    with session_scope(get_engine(database_url)) as s:
        add_user(s, names["kv"], role="planner", kommuner=["3401"], password=PASSWORD)
        add_user(s, names["grue"], role="planner", kommuner=["3417"], password=PASSWORD)
        add_user(s, names["admin"], role="admin", password=PASSWORD)
        token = create_token(s, names["kv"], "test")
    yield {**names, "token": token}
    with session_scope(get_engine(database_url)) as s:
        ids = select(User.id).where(User.username.in_(list(names.values())))
        s.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids)))
        s.execute(delete(Plot).where(Plot.created_by.in_(list(names.values()))))
        s.execute(delete(User).where(User.username.in_(list(names.values()))))


@contextmanager
def throwaway_planner(database_url: str, prefix: str, kommune: str) -> Iterator[str]:
    """A planner of ``kommune`` for one test (password :data:`PASSWORD`), named ``prefix`` and
    a random tag; removed afterwards with every plot it created."""
    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=[kommune], password=PASSWORD)
    try:
        yield name
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Plot).where(Plot.created_by == name))
            s.execute(delete(User).where(User.username == name))


def csrf_token(web: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of a page's form (the session cookie stays in ``web``)."""
    html = web.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(web: FlaskClient, username: str, password: str = PASSWORD):
    """Log ``web`` (a test client) in through the real form."""
    return web.post("/login", data={"username": username, "password": password,
                                    "csrf_token": csrf_token(web)})
