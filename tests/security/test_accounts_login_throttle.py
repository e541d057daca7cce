"""Finding 8: anyone could lock any account (admins included), and the lock told which
usernames exist.

Five wrong passwords from anywhere locked an account for 15 minutes, doubling up to a day, and
only existing accounts answered "locked". Now failures are throttled per source and per
(source, account) in the shared limiter: a stranger throttles only themselves, unknown and
known usernames get the same answers, and ``landreg users unlock`` / ``passwd`` exist.
"""

from __future__ import annotations

import re
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from landreg.auth.throttle import PAIR_LIMIT
from landreg.auth.users import add_user
from landreg.cli import main
from landreg.db import get_engine, session_scope
from landreg.models import User
from tests.security.conftest import PASSWORD, csrf_token


@pytest.fixture
def owner(database_url):
    """A throwaway admin (the finding: even admins could be locked out)."""
    name = f"own{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="admin", password=PASSWORD)
    yield name
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(User).where(User.username == name))


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("LANDREG_DATABASE_URL", database_url)

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return run


def _from(app):
    """A test client at an address of its own (REMOTE_ADDR)."""
    c = app.test_client()
    n = uuid.uuid4().int
    c.environ_base["REMOTE_ADDR"] = f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"
    return c


def _login(c, username: str, password: str = PASSWORD):
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf_token": csrf_token(c)})


def _answer(res) -> tuple:
    """What a caller can tell from a response: status, headers that matter, page text."""
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", res.get_data(as_text=True))
    body = re.sub(r'nonce="[^"]+"', "", body)  # fresh for every response, whoever asks
    # "try again in N min." counts down with the clock, for whoever asks
    body = re.sub(r"(om|in) \d+ min", r"\1 N min", body)
    return res.status_code, res.headers.get("Retry-After") is not None, body


def test_fifty_wrong_passwords_elsewhere_do_not_lock_the_owner_out(app, owner):
    attacker = _from(app)
    codes = [_login(attacker, owner, f"guess {i}").status_code for i in range(50)]
    assert codes[:PAIR_LIMIT] == [401] * PAIR_LIMIT
    assert set(codes[PAIR_LIMIT:]) == {429}  # the attacker is throttled …
    assert _login(attacker, owner).status_code == 429  # … even with the right password
    assert _login(_from(app), owner).status_code == 302  # … the owner elsewhere is not


def test_unknown_user_and_wrong_password_get_the_same_answer(app, owner):
    unknown = _answer(_login(_from(app), f"nobody{uuid.uuid4().hex[:6]}", "wrong password"))
    wrong = _answer(_login(_from(app), owner, "wrong password"))
    assert unknown == wrong
    assert unknown[0] == 401 and "Feil brukernavn eller passord." in unknown[2]  # nb: the default


def test_throttled_unknown_and_known_usernames_look_the_same(app, owner):
    answers = []
    for name in (owner, f"nobody{uuid.uuid4().hex[:6]}"):
        c = _from(app)
        for _ in range(PAIR_LIMIT):
            _login(c, name, "wrong password")
        answers.append(_answer(_login(c, name, "wrong password")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429 and answers[0][1]


def test_unlock_clears_the_counters(app, owner, cli):
    c = _from(app)
    for _ in range(PAIR_LIMIT):
        _login(c, owner, "wrong password")
    assert _login(c, owner).status_code == 429
    res = cli("users", "unlock", owner)
    assert res.exit_code == 0 and "cleared" in res.output
    assert _login(c, owner).status_code == 302
    assert cli("users", "unlock", "nobody-at-all").exit_code != 0


def test_passwd_sets_a_new_password_and_ends_sessions(app, owner, cli):
    before = _from(app)
    assert _login(before, owner).status_code == 302
    short = cli("users", "passwd", owner, input="short\nshort\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    mismatch = cli("users", "passwd", owner, input="a long new password\nanother one here\n"
                   "a long new password\na long new password\n")
    assert mismatch.exit_code == 0  # asked again until both entries agree
    assert _login(_from(app), owner).status_code == 401  # the old password is gone
    assert _login(_from(app), owner, "a long new password").status_code == 302
    assert before.get("/api/enquiries").status_code == 401  # sessions ended
    generated = cli("users", "passwd", owner, "--generate")
    password = generated.output.split("password (shown once): ")[1].strip()
    assert len(password) >= 20
    assert _login(_from(app), owner, password).status_code == 302
