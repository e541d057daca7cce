"""One engine per app, one session per request."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from landreg.db import get_engine
from landreg.settings import Settings


def settings() -> Settings:
    """The app's settings."""
    return current_app.config["LANDREG_SETTINGS"]


def engine() -> Engine:
    """The app's engine."""
    return get_engine(settings().database_url)


def session() -> Session:
    """The request's session (read-only use: writes go through :func:`write_session`)."""
    if "db_session" not in g:
        g.db_session = sessionmaker(bind=engine(), expire_on_commit=False)()
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the request's session (rolling back anything uncommitted)."""
    sess = g.pop("db_session", None)
    if sess is not None:
        sess.close()
