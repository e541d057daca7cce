"""Accounts: password hashing, login throttling, tokens, kommune permissions."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from landreg.auth.throttle import PAIR_LIMIT, TooManyLogins
from landreg.auth.users import (
    add_user,
    authenticate,
    create_token,
    principal_for_token,
    set_active,
)
from landreg.db import get_engine
from landreg.errors import (
    AuthenticationFailed,
    InvalidInput,
    PermissionDenied,
    UnknownCode,
)
from landreg.models import ApiToken, User


@pytest.fixture
def login(database_url):
    """``login(username, password, source=…)`` with the real throttle; each test its own
    source so the counters of one test do not reach another."""
    engine, source = get_engine(database_url), f"test:{uuid.uuid4().hex}"

    def attempt(session, username, password, *, source=source, now=None):
        return authenticate(session, username, password, engine=engine, source=source,
                            now=now)
    return attempt


def test_password_is_hashed_with_argon2_and_login_works(session, login):
    user, password = add_user(session, "Kari.Nordmann", role="planner", kommuner=["3401"])
    assert user.username == "kari.nordmann" and len(password) >= 20
    stored = session.execute(select(User.password_hash).where(User.id == user.id)).scalar_one()
    assert stored.startswith("$argon2id$") and password not in stored
    assert login(session, "KARI.NORDMANN", password).id == user.id


def test_wrong_password_and_unknown_user_say_the_same(session, login):
    add_user(session, "ola", role="planner", kommuner=["3415"], password="correct horse battery")
    with pytest.raises(AuthenticationFailed) as a:
        login(session, "ola", "wrong password!")
    with pytest.raises(AuthenticationFailed) as b:
        login(session, "nobody", "wrong password!")
    assert a.value.message == b.value.message == "Wrong username or password."


def test_failures_are_throttled_per_source_not_locked(session, login):
    add_user(session, "per", role="planner", kommuner=["3416"], password="correct horse battery")
    t0 = 1_800_000_000.0 - 1_800_000_000 % 900
    for _ in range(PAIR_LIMIT):
        with pytest.raises(AuthenticationFailed):
            login(session, "per", "nope", now=t0)
    with pytest.raises(TooManyLogins, match="try again in"):
        login(session, "per", "correct horse battery", now=t0 + 60)
    # the owner elsewhere is not locked out, and the pair's next window starts afresh
    assert login(session, "per", "correct horse battery", source="elsewhere",
                 now=t0 + 60).username == "per"
    assert login(session, "per", "correct horse battery", now=t0 + 901).username == "per"


def test_disabled_user_cannot_log_in_or_use_tokens(session, login):
    add_user(session, "liv", role="admin", password="correct horse battery")
    token = create_token(session, "liv", "qgis")
    assert principal_for_token(session, token).username == "liv"
    set_active(session, "liv", False)
    with pytest.raises(AuthenticationFailed):
        login(session, "liv", "correct horse battery")
    with pytest.raises(AuthenticationFailed):
        principal_for_token(session, token)


def test_token_is_stored_hashed(session):
    add_user(session, "tor", role="planner", kommuner=["3417"])
    token = create_token(session, "tor", "script")
    hashes = session.execute(select(ApiToken.token_hash)).scalars().all()
    assert token not in hashes and len(hashes[-1]) == 64
    with pytest.raises(AuthenticationFailed):
        principal_for_token(session, token + "x")


def test_planner_edits_only_own_kommuner(session):
    planner, _ = add_user(session, "siri", role="planner", kommuner=["3418", "0426"])
    admin, _ = add_user(session, "boss", role="admin")
    assert planner.kommuner == ("3418", "3419")
    assert planner.may_edit("3418") and not planner.may_edit("3401")
    assert admin.may_edit("3401")
    with pytest.raises(PermissionDenied, match="may not edit plots in kommune 3401"):
        planner.require_edit("3401")


@pytest.mark.parametrize("kw, exc", [
    (dict(role="planner", kommuner=[]), InvalidInput),
    (dict(role="planner", kommuner=["0301"]), UnknownCode),
    (dict(role="king"), InvalidInput),
    (dict(role="admin", password="short"), InvalidInput),
])
def test_bad_accounts_are_refused(session, kw, exc):
    with pytest.raises(exc):
        add_user(session, "x", **kw)
