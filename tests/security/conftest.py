"""Fixtures for the attack replays: the web app, accounts of three roles, a logged-in client.

Every test in this folder replays one finding of the security review (issue 9) against the
real app on real PostGIS and asserts the attack now does no harm.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from landreg.auth.users import add_user, create_token
from landreg.db import get_engine, session_scope
from landreg.models import ApiToken, Plot, User
from tests.web.conftest import app, client, published_count, secret_plot  # noqa: F401

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


def csrf_token(web: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of a page's form (the session cookie stays in ``web``)."""
    html = web.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(web: FlaskClient, username: str, password: str = PASSWORD):
    """Log ``web`` (a test client) in through the real form."""
    return web.post("/login", data={"username": username, "password": password,
                                    "csrf_token": csrf_token(web)})


@pytest.fixture
def logged_in(app) -> Callable[[str], FlaskClient]:  # noqa: F811
    """``logged_in(username)`` → a new test client with that user's session."""
    def make(username: str) -> FlaskClient:
        c = app.test_client()
        res = login(c, username)
        assert res.status_code == 302, res.get_data(as_text=True)
        return c
    return make
