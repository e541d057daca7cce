"""Fixtures for the attack replays: the web app, accounts of three roles, a logged-in client.

Every test in this folder replays one finding of the security review (issue 9) against the
real app on real PostGIS and asserts the attack now does no harm.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import (  # noqa: F401 - fixtures and helpers shared with tests/web
    PASSWORD,
    accounts,
    app,
    client,
    csrf_token,
    login,
    published_count,
    secret_plot,
)


@pytest.fixture
def logged_in(app) -> Callable[[str], FlaskClient]:  # noqa: F811
    """``logged_in(username)`` → a new test client with that user's session."""
    def make(username: str) -> FlaskClient:
        c = app.test_client()
        res = login(c, username)
        assert res.status_code == 302, res.get_data(as_text=True)
        return c
    return make
