"""Server-side login sessions: a logout or a disabled account ends them at once.

The browser's signed cookie carries only a random session id (32 bytes, new at every login, so
an id planted before login is worthless); the database keeps its SHA-256 in ``user_session``
with when it began, when it was last used and whether it was revoked. A session is honoured
only while

- it is not revoked (logout, ``landreg users disable``, ``landreg users passwd``),
- its user is active,
- it was used within the last ``IDLE`` (8 hours), and
- it began less than ``MAX_AGE`` ago (24 hours), however busy it was.

``last_seen_at`` is written at most once a minute per session, not on every request; a user's
expired rows are deleted when they next log in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from landreg.models import User, UserSession

IDLE = timedelta(hours=8)
MAX_AGE = timedelta(hours=24)
_TOUCH_EVERY = timedelta(minutes=1)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, user_id: int, now: datetime | None = None) -> str:
    """Begin a session for ``user_id``; returns the random id to put in the signed cookie."""
    now = now or datetime.now(UTC)
    session_id = secrets.token_urlsafe(32)
    session.execute(delete(UserSession).where(UserSession.user_id == user_id,
                                              UserSession.created_at < now - MAX_AGE))
    session.add(UserSession(id_hash=_hash(session_id), user_id=user_id, created_at=now,
                            last_seen_at=now))
    session.flush()
    return session_id


def user_for_session(session: Session, session_id: str,
                     now: datetime | None = None) -> User | None:
    """The active user of a live session, or None (unknown, revoked, idle or too old)."""
    now = now or datetime.now(UTC)
    row = session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.id_hash == _hash(session_id or ""),
               UserSession.revoked_at.is_(None), User.active.is_(True),
               UserSession.last_seen_at > now - IDLE, UserSession.created_at > now - MAX_AGE)
    ).first()
    if row is None:
        return None
    record, user = row
    if now - record.last_seen_at >= _TOUCH_EVERY:
        record.last_seen_at = now
        session.flush()
    return user


def end_session(session: Session, session_id: str, now: datetime | None = None) -> None:
    """Revoke one session (logout): its cookie, even a copy of it, no longer works."""
    session.execute(update(UserSession)
                    .where(UserSession.id_hash == _hash(session_id or ""),
                           UserSession.revoked_at.is_(None))
                    .values(revoked_at=now or datetime.now(UTC)))


def end_user_sessions(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Revoke every session of a user (disabled, new password); returns how many."""
    result = session.execute(update(UserSession)
                             .where(UserSession.user_id == user_id,
                                    UserSession.revoked_at.is_(None))
                             .values(revoked_at=now or datetime.now(UTC)))
    return result.rowcount
