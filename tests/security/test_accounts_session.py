"""Finding 7: the session cookie had no SameSite, lived 31 days and survived logout.

``config.setdefault`` could not override Flask's predefined cookie settings, and the session
was only a signed cookie, so a copied cookie kept working after logout and after the user was
disabled (until re-enabled, even). Now the cookie is HttpOnly, SameSite=Lax, Secure with a
``__Host-`` name when configured, and carries only a random id of a session kept in the
database: logout and ``landreg users disable`` end it on the server, and it ends after 8 hours
idle or 24 hours in all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from landreg.cli import main
from landreg.db import get_engine, session_scope
from landreg.models import User, UserSession
from tests.security.conftest import PASSWORD, csrf_token, login
from tests.web.conftest import throwaway_planner


@pytest.fixture
def person(database_url):
    """A throwaway planner (this file disables and re-enables it)."""
    with throwaway_planner(database_url, "sess", "3401") as name:
        yield name


def _set_cookie(res) -> str:
    return next(h for h in res.headers.getlist("Set-Cookie") if "session=" in h)


def _planner_can_read(c) -> bool:
    """A request that needs a login: the enquiries with contact data."""
    return c.get("/api/enquiries").status_code == 200


def _copy(from_client, to_client) -> None:
    to_client.set_cookie("session", from_client.get_cookie("session").value)


def test_cookie_flags_and_lifetime(app, person):
    c = app.test_client()
    res = login(c, person)
    cookie = _set_cookie(res)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert expires - datetime.now(UTC) <= timedelta(hours=24)  # not Flask's 31 days


def test_secure_cookie_has_the_host_prefix(settings, person):
    from landreg.web import create_app

    secure = create_app({"TESTING": True, "SESSION_COOKIE_SECURE": True}, settings=settings)
    c = secure.test_client()
    page = c.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    res = c.post("/login", base_url="https://localhost",
                 headers={"Referer": "https://localhost/login"},  # Flask-WTF on HTTPS
                 data={"username": person, "password": PASSWORD, "csrf_token": token})
    assert res.status_code == 302
    cookie = _set_cookie(res)
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_a_copied_cookie_is_refused_after_logout(app, person):
    victim, thief = app.test_client(), app.test_client()
    login(victim, person)
    _copy(victim, thief)
    assert _planner_can_read(thief)  # the copy works while the session lives …
    res = victim.post("/logout", data={"csrf_token": csrf_token(victim)})
    assert res.status_code == 302
    assert not _planner_can_read(thief)  # … and not after logout
    assert thief.get("/api/me").get_json()["role"] == "public"
    assert thief.post("/api/plots", json={}).status_code == 401


def test_login_starts_a_new_session_id(app, person):
    c = app.test_client()
    c.get("/login")
    before = c.get_cookie("session").value
    login(c, person)
    first = c.get_cookie("session").value
    login(c, person)
    assert len({before, first, c.get_cookie("session").value}) == 3
    stale = app.test_client()
    stale.set_cookie("session", first)
    assert _planner_can_read(stale)  # an older login of the same user is a session of its own


def test_disabling_a_user_ends_their_sessions(app, person, database_url, monkeypatch):
    c, copy = app.test_client(), app.test_client()
    login(c, person)
    _copy(c, copy)
    assert _planner_can_read(c)
    monkeypatch.setenv("LANDREG_DATABASE_URL", database_url)
    res = CliRunner().invoke(main, ["users", "disable", person], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert c.get("/api/enquiries").status_code == 401
    with session_scope(get_engine(database_url)) as s:
        s.execute(text("UPDATE app_user SET active = true WHERE username = :u"), {"u": person})
    assert not _planner_can_read(c)  # enabling the user again does not revive the session,
    assert not _planner_can_read(copy)  # nor a copy of its cookie taken before


@pytest.mark.parametrize("column, age, alive", [
    ("last_seen_at", timedelta(hours=7, minutes=50), True),
    ("last_seen_at", timedelta(hours=8, minutes=1), False),  # idle
    ("created_at", timedelta(hours=25), False),  # busy, but older than the absolute limit
])
def test_idle_and_absolute_limits(app, person, database_url, column, age, alive):
    c = app.test_client()
    login(c, person)
    with session_scope(get_engine(database_url)) as s:
        uid = s.execute(select(User.id).where(User.username == person)).scalar_one()
        s.execute(text(f"UPDATE user_session SET {column} = now() - :age "  # noqa: S608
                       "WHERE user_id = :uid"), {"age": age, "uid": uid})
    assert _planner_can_read(c) is alive
    if alive:  # and being used keeps it alive
        with session_scope(get_engine(database_url)) as s:
            seen = s.execute(select(UserSession.last_seen_at)
                             .where(UserSession.user_id == uid)).scalar_one()
            now = s.execute(text("SELECT now()")).scalar_one()
        assert now - seen < timedelta(minutes=1)
