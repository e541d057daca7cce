"""Finding 15 (accounts parts): tokens that never expire and cannot be revoked one by one;
``handled_by`` as free text; an anonymous API write told "CSRF" instead of "log in".

Now tokens expire (default 90 days, ``--days``), ``landreg users token-list`` and
``token-revoke`` exist and an expired or revoked token gets 401; ``handled_by`` is the
logged-in planner or another active user, nothing else; and a write to ``/api/`` without a
session or token is answered 401 before the CSRF check (which still guards sessions).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from landreg.auth.users import create_token
from landreg.cli import main
from landreg.db import get_engine, session_scope
from landreg.models import ApiToken, Enquiry
from tests.security.conftest import csrf_token


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("LANDREG_DATABASE_URL", database_url)

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    return run


def _me(client, token: str):
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def test_a_token_expires(client, accounts, database_url, cli):
    with session_scope(get_engine(database_url)) as s:
        old = create_token(s, accounts["kv"], "old-script",
                           now=datetime.now(UTC) - timedelta(days=91))
        fresh = create_token(s, accounts["kv"], "new-script")
        expiry = s.execute(select(ApiToken.expires_at).where(ApiToken.name == "new-script")
                           .order_by(ApiToken.id.desc())).scalars().first()
    assert abs(expiry - datetime.now(UTC) - timedelta(days=90)) < timedelta(minutes=5)
    res = _me(client, old)
    assert res.status_code == 401 and "expired" in res.get_json()["description"]
    assert _me(client, fresh).get_json()["username"] == accounts["kv"]
    made = cli("users", "token", accounts["kv"], "--name", "short", "--days", "7")
    assert made.exit_code == 0 and "valid 7 days" in made.output
    assert cli("users", "token", accounts["kv"], "--days", "100000").exit_code == 2


def test_tokens_are_listed_and_revoked_one_by_one(client, accounts, database_url, cli):
    with session_scope(get_engine(database_url)) as s:
        first = create_token(s, accounts["grue"], "first")
        second = create_token(s, accounts["grue"], "second")
        third = create_token(s, accounts["grue"], "third")
        ids = dict(s.execute(select(ApiToken.name, ApiToken.id).where(
            ApiToken.name.in_(["first", "second", "third"]))).all())
    listing = cli("users", "token-list", accounts["grue"]).output
    assert all(f"{ids[n]:>6} {n}" in listing for n in ("first", "second", "third"))
    assert cli("users", "token-revoke", str(ids["first"])).exit_code == 0
    assert cli("users", "token-revoke", accounts["grue"], "--name", "third").exit_code == 0
    assert _me(client, first).status_code == 401
    assert _me(client, third).status_code == 401
    assert _me(client, second).get_json()["username"] == accounts["grue"]  # only those two
    listing = cli("users", "token-list", accounts["grue"]).output
    assert "first                revoked" in listing and "second               active" in listing
    again = cli("users", "token-revoke", str(ids["first"]))
    assert again.exit_code != 0 and "no active token" in again.output
    assert cli("users", "token-revoke", "not-a-number").exit_code == 2


@pytest.fixture
def enquiry(database_url):
    with session_scope(get_engine(database_url)) as s:
        e = Enquiry(company=f"SECTEST {uuid.uuid4().hex[:6]}", email="a@b.example",
                    profile="office", consent=True)
        s.add(e)
        s.flush()
        eid = e.id
    yield eid
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Enquiry).where(Enquiry.id == eid))


def test_handled_by_is_a_real_active_user(logged_in, accounts, enquiry, database_url):
    c = logged_in(accounts["kv"])
    h = {"X-CSRFToken": csrf_token(c)}
    for forged in ("Ordføreren personlig", "<b>admin</b>", "", 17, ["x"], "nobody-here"):
        res = c.patch(f"/api/enquiries/{enquiry}", json={"handled_by": forged}, headers=h)
        assert res.status_code == 400 and res.get_json()["field"] == "handled_by", forged
    took = c.patch(f"/api/enquiries/{enquiry}", json={"status": "under_arbeid"}, headers=h)
    assert took.get_json()["handled_by"] == accounts["kv"]  # "take it": the caller
    passed = c.patch(f"/api/enquiries/{enquiry}", json={"handled_by": accounts["grue"].upper()},
                     headers=h)
    assert passed.status_code == 200 and passed.get_json()["handled_by"] == accounts["grue"]
    with session_scope(get_engine(database_url)) as s:
        assert s.get(Enquiry, enquiry).handled_by == accounts["grue"]


def test_anonymous_api_write_is_told_to_log_in(client, logged_in, accounts, enquiry):
    for method, url in (("post", "/api/plots"), ("patch", "/api/plots/1"),
                        ("patch", f"/api/enquiries/{enquiry}"), ("post", "/api/comparisons"),
                        ("post", "/api/import")):
        res = getattr(client, method)(url, json={})
        assert res.status_code == 401, url
        assert "logg inn (eller send en api-nøkkel" in res.get_json()["description"].lower()
    # with a session, CSRF still applies
    c = logged_in(accounts["kv"])
    res = c.post("/api/plots", json={})
    assert res.status_code == 400 and res.get_json()["code"] == "csrf_failed"
