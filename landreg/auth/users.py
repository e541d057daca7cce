"""Users: add, list, disable; password login with lockout; API tokens hashed at rest.

Passwords are hashed with Argon2id (argon2-cffi). After ``MAX_FAILURES`` wrong passwords in a
row an account is locked for ``LOCK_MINUTES`` (doubling with each further failure, capped at a
day); a correct password after the lock ends resets the counter. API tokens are random 32-byte
strings shown once; only their SHA-256 is stored (a token is already high-entropy, so a slow
hash adds nothing).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from landreg.errors import (
    AccountLocked,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from landreg.models import ROLES, ApiToken, User
from landreg.registry.codes import normalise_kommunenummer

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
                           field="password")
    user = User(username=username, display_name=display_name, role=role, kommuner=ks,
                password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return _principal(user), password


def list_users(session: Session) -> list[dict]:
    """Every user with role, kommuner and state (no hashes)."""
    users = session.execute(select(User).order_by(User.username)).scalars()
    return [{"username": u.username, "role": u.role, "kommuner": list(u.kommuner),
             "active": u.active, "locked_until": u.locked_until} for u in users]


def set_active(session: Session, username: str, active: bool) -> None:
    """Disable (or enable) a user; a disabled user cannot log in and their tokens stop working."""
    result = session.execute(update(User).where(User.username == username.strip().lower())
                             .values(active=active))
    if result.rowcount != 1:
        raise NotFound(f"There is no user {username}.", field="username", value=username)


def authenticate(session: Session, username: str, password: str,
                 now: datetime | None = None) -> Principal:
    """Check a password; count failures and lock the account after too many."""
    now = now or datetime.now(UTC)
    user = session.execute(
        select(User).where(User.username == (username or "").strip().lower()).with_for_update()
    ).scalar_one_or_none()
    if user is None or not user.active:
        _hasher.hash("timing-equaliser")  # same cost whether or not the user exists
        raise AuthenticationFailed("Wrong username or password.")
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise AccountLocked(
            f"Too many wrong passwords: the account is locked for {minutes} more minute(s)."
        )
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            extra = user.failed_logins - MAX_FAILURES
            user.locked_until = now + timedelta(minutes=min(LOCK_MINUTES * 2 ** extra, 24 * 60))
        session.flush()
        raise AuthenticationFailed("Wrong username or password.") from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return _principal(user)


def get_principal(session: Session, user_id: int) -> Principal | None:
    """The active user with ``user_id``, or None (e.g. disabled since the session began)."""
    user = session.get(User, user_id)
    return _principal(user) if user is not None and user.active else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, name: str) -> str:
    """A new API token for ``username``; the token is returned once and stored only hashed."""
    user = session.execute(select(User).where(User.username == username.strip().lower())
                           ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"There is no user {username}.", field="username", value=username)
    token = "lr_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name or "token", token_hash=_token_hash(token)))
    session.flush()
    return token


def principal_for_token(session: Session, token: str) -> Principal:
    """The user a bearer token belongs to, or :class:`PermissionDenied`."""
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token or ""), ApiToken.revoked.is_(False),
               User.active.is_(True))
    ).first()
    if row is None:
        raise AuthenticationFailed("The API token is unknown, revoked or of a disabled user.")
    token_row, user = row
    token_row.last_used_at = datetime.now(UTC)
    return _principal(user)
