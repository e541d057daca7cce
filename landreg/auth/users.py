"""Users: add, list, disable, new password; password login; API tokens hashed at rest.

Passwords are hashed with Argon2id (argon2-cffi). Wrong passwords are throttled per source
and per (source, account) in ``landreg/auth/throttle.py``; there is no lockout a stranger could
trigger. An unknown user, a disabled user and a wrong password get the same answer after the
same Argon2 work. API tokens are random 32-byte strings shown once; only their SHA-256 is
stored (a token is already high-entropy, so a slow hash adds nothing); they expire (default
``TOKEN_DAYS``) and can be revoked one by one.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from landreg.auth.sessions import end_user_sessions, user_for_session
from landreg.auth.throttle import begin_attempt
from landreg.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from landreg.models import ROLES, ApiToken, User
from landreg.registry.codes import normalise_kommunenummer

MIN_PASSWORD_LENGTH = 12
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365


class OneAtATimeHasher(PasswordHasher):
    """argon2-cffi's hasher, hashing or verifying one password at a time per process.

    Argon2id holds its ``memory_cost`` (64 MiB by default) for the whole computation; a
    server worker with 4 threads took 4 x 64 MiB at once when logins met, which put it
    over its 400 MB (issue 14). One at a time bounds that to 64 MiB per process; the work is
    CPU-bound anyway (4 lanes), so a queued login waits about as long as it would have
    shared the cores. The parameters, and so the strength, are argon2-cffi's defaults."""

    _gate = threading.Lock()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        """The Argon2id hash of ``password`` (waits for any other hash in this process)."""
        with self._gate:
            return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        """True, or :class:`VerificationError` (waits for any other hash in this process)."""
        with self._gate:
            return super().verify(hash, password)


_hasher = OneAtATimeHasher()


@cache
def _dummy_hash() -> str:
    """What an unknown user's password is verified against: the same Argon2 work."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Principal:
    """Who is asking: enough to decide permissions, nothing secret."""

    id: int
    username: str
    role: str
    kommuner: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        """Regional admins may edit every kommune."""
        return self.role == "admin"

    def may_edit(self, kommunenummer: str) -> bool:
        """True when this user may change plots of ``kommunenummer``."""
        return self.is_admin or kommunenummer in self.kommuner

    @property
    def editable_kommuner(self) -> tuple[str, ...] | None:
        """Where this user may put plots: their kommuner, or None (anywhere) for an admin.
        Pass it as ``allowed`` to the registry's create/update so every part of an outline
        is checked, not only the kommune holding the larger part."""
        return None if self.is_admin else self.kommuner

    def require_edit(self, kommunenummer: str) -> None:
        """Raise :class:`PermissionDenied` unless :meth:`may_edit`."""
        if not self.may_edit(kommunenummer):
            raise PermissionDenied(
                f"{self.username} may not edit plots in kommune {kommunenummer}; "
                f"your kommuner: {', '.join(self.kommuner) or 'none'}.",
                field="kommunenummer", value=kommunenummer,
            )


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, tuple(user.kommuner or ()))


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def add_user(
    session: Session, username: str, *, role: str, kommuner: list[str] | None = None,
    password: str | None = None, display_name: str | None = None,
) -> tuple[Principal, str]:
    """Create a user; returns it and its password (generated when not given) to show once."""
    username = (username or "").strip().lower()
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("A username is letters, digits, '.', '-' or '_'.", field="username",
                           value=username)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role", value=role)
    ks = sorted({normalise_kommunenummer(k) for k in (kommuner or [])})
    if role == "planner" and not ks:
        raise InvalidInput("A planner needs at least one kommune.", field="kommuner")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise InvalidInput(f"The user {username} exists already.", field="username",
                           value=username)
    password = password or generate_password()
    user = User(username=username, display_name=display_name, role=role, kommuner=ks,
                password_hash=_hash_password(password))
    session.add(user)
    session.flush()
    return _principal(user), password


def _hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
                           field="password")
    return _hasher.hash(password)


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == (username or "").strip().lower())
                           ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"There is no user {username}.", field="username", value=username)
    return user


def user_exists(session: Session, username: str) -> None:
    """Raise :class:`NotFound` unless there is a user ``username``."""
    _user(session, username)


def set_password(session: Session, username: str, password: str) -> None:
    """Give a user a new password; their open sessions end (a stolen one with them)."""
    user = _user(session, username)
    user.password_hash = _hash_password(password)
    end_user_sessions(session, user.id)
    session.flush()


def list_users(session: Session) -> list[dict]:
    """Every user with role, kommuner and state (no hashes)."""
    users = session.execute(select(User).order_by(User.username)).scalars()
    return [{"username": u.username, "role": u.role, "kommuner": list(u.kommuner),
             "active": u.active} for u in users]


def set_active(session: Session, username: str, active: bool) -> None:
    """Disable (or enable) a user; a disabled user cannot log in, their sessions end and their
    tokens stop working."""
    user = _user(session, username)
    user.active = active
    if not active:
        end_user_sessions(session, user.id)
    session.flush()


def authenticate(session: Session, username: str, password: str, *, engine: Engine,
                 source: str, now: float | None = None) -> Principal:
    """Check a password, throttled per ``source`` and account (see ``landreg/auth/throttle``).

    Unknown user, disabled user and wrong password raise the same
    :class:`AuthenticationFailed` after the same Argon2 work; a throttled attempt raises
    ``TooManyLogins`` before the username is even looked up.
    """
    attempt = begin_attempt(engine, source, username, now=now)
    user = session.execute(
        select(User).where(User.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password or "")
        if user is None or not user.active:
            raise VerificationError
    except (VerificationError, InvalidHashError):
        raise AuthenticationFailed(key="err_login_failed") from None
    attempt.succeeded()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return _principal(user)


def principal_for_session(session: Session, session_id: str,
                          now: datetime | None = None) -> Principal | None:
    """The user of a live login session, or None (logged out, disabled, idle, too old)."""
    user = user_for_session(session, session_id, now)
    return _principal(user) if user is not None else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, name: str, *, days: int = TOKEN_DAYS,
                 now: datetime | None = None) -> str:
    """A new API token for ``username`` valid for ``days`` days; the token is returned once and
    stored only hashed."""
    if not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"A token is valid for 1 to {MAX_TOKEN_DAYS} days.", field="days",
                           value=days)
    user = _user(session, username)
    token = "lr_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name or "token", token_hash=_token_hash(token),
                         expires_at=(now or datetime.now(UTC)) + timedelta(days=days)))
    session.flush()
    return token


def list_tokens(session: Session, username: str, now: datetime | None = None) -> list[dict]:
    """A user's tokens, oldest first: id, name, dates and state (never the token)."""
    now = now or datetime.now(UTC)
    user = _user(session, username)
    rows = session.execute(select(ApiToken).where(ApiToken.user_id == user.id)
                           .order_by(ApiToken.id)).scalars()
    return [{"id": t.id, "name": t.name, "created_at": t.created_at,
             "last_used_at": t.last_used_at, "expires_at": t.expires_at,
             "state": "revoked" if t.revoked else "expired" if t.expires_at <= now
             else "active"} for t in rows]


def revoke_token(session: Session, token_id: int | None = None, *, username: str | None = None,
                 name: str | None = None) -> int:
    """Revoke one token by its id, or a user's tokens of one name; returns how many."""
    query = update(ApiToken).where(ApiToken.revoked.is_(False)).values(revoked=True)
    if token_id is not None:
        query, what = query.where(ApiToken.id == token_id), f"token {token_id}"
    elif username and name:
        query = query.where(ApiToken.user_id == _user(session, username).id,
                            ApiToken.name == name)
        what = f"token named {name!r} of {username}"
    else:
        raise InvalidInput("Name the token by its id, or by user and name.", field="token")
    count = session.execute(query).rowcount
    if not count:
        raise NotFound(f"There is no active {what}.", field="token", value=token_id or name)
    return count


def principal_for_token(session: Session, token: str, now: datetime | None = None) -> Principal:
    """The user a bearer token belongs to, or :class:`AuthenticationFailed`."""
    now = now or datetime.now(UTC)
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token or ""), ApiToken.revoked.is_(False),
               ApiToken.expires_at > now, User.active.is_(True))
    ).first()
    if row is None:
        raise AuthenticationFailed("The API token is unknown, expired, revoked or of a "
                                   "disabled user.")
    token_row, user = row
    token_row.last_used_at = now
    return _principal(user)
