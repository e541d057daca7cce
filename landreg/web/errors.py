"""Domain errors → HTTP, in one table. Bodies are JSON ``{code, description, …}``; the user
message is separate from the logged detail, and nothing becomes a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from landreg import errors as e

log = logging.getLogger(__name__)

STATUS: dict[type[e.LandregError], int] = {
    e.InvalidInput: 400,
    e.TooLarge: 413,
    e.NotFound: 404,
    e.AuthenticationFailed: 401,
    e.AccountLocked: 429,
    e.TooManyRequests: 429,
    e.PermissionDenied: 403,
    e.StaleVersion: 409,
    e.DatabaseUnavailable: 503,
    e.ConfigurationError: 500,
}


RETRY_AFTER_S = 5


def status_of(exc: e.LandregError) -> int:
    """The HTTP status of a domain error (most specific class wins)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def register(app: Flask) -> None:
    """Install the handlers and the per-request session teardown."""
    from landreg.web.db import close_session

    app.teardown_appcontext(close_session)

    @app.errorhandler(e.LandregError)
    def _domain(exc: e.LandregError):
        status = status_of(exc)
        if status >= 500 and not isinstance(exc, e.DatabaseUnavailable):
            log.error("%s on %s: %s %s", type(exc).__name__, request.path, exc, exc.details)
        response = jsonify(exc.to_dict())
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(int(retry_after))
        return response, status

    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeout)
    def _database_away(exc: Exception):
        # The database is down, restarting or out of connections: a clear 503 the client may
        # retry. The pool's pre-ping replaces dead connections, so the app recovers by itself
        # as soon as the database is back. Nothing was written: the transaction died with it.
        orig = getattr(exc, "orig", None) or exc
        log.warning("database unavailable on %s: %s", request.path,
                    str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig))
        return _domain(e.DatabaseUnavailable(
            "The register's database is unavailable right now (restarting or overloaded). "
            "Nothing was changed; try again in a few seconds.", retry_after=RETRY_AFTER_S))

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return jsonify({"code": "csrf_failed", "description": "The form or request has no "
                        "valid CSRF token (reload the page and try again)."}), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                413: "too_large"}.get(exc.code or 500, "http_error")
        description = exc.description
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            description = f"The upload is larger than the limit of {limit} MB."
        return jsonify({"code": code, "description": description}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return jsonify({"code": "internal_error",
                        "description": "Something went wrong on our side; it is logged."}), 500
