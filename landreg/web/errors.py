"""Domain errors → HTTP, in one table. Bodies are JSON ``{code, description, …}``; the user
message is separate from the logged detail, and nothing becomes a bare 500.

Who reads the answer decides its form (content negotiation, :func:`wants_html`): a person's
browser that navigated here (it prefers ``text/html``) gets a page in the request's language
saying what went wrong and what to do (``error.html``); scripts, ``fetch`` and XHR calls get
the JSON, with the same status code either way. The description is in the request's language
(``?lang=``) in both: errors with a catalogue key (``landreg.errors``) are translated.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from landreg import errors as e
from landreg.i18n import catalogue
from landreg.web.text import current_lang

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


#: The error pages there are words for; any other status is shown as its class (4xx/5xx).
PAGE_STATUSES = (400, 401, 403, 404, 405, 409, 413, 429, 500, 503)


def wants_html() -> bool:
    """True when a person's browser navigated here: not XHR or ``fetch`` (``Sec-Fetch-Mode``
    other than navigate), not an explicit ``?f=json`` (OGC API), and ``text/html`` preferred
    over JSON in ``Accept`` (a tie, such as ``*/*`` or no header, is JSON)."""
    if request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return False
    if request.headers.get("Sec-Fetch-Mode", "navigate") not in ("navigate", "nested-navigate"):
        return False
    if request.args.get("f", "html") != "html":
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_page(status: int, code: str, description: str | None = None, *,
               retry_after: int | None = None) -> tuple[str, int]:
    """The HTML page of an error for a person, in the request's language: the status's title,
    ``description`` (what exactly went wrong, already in that language), what to do, links on.
    """
    words = catalogue()["text"][current_lang()]
    kind = status if status in PAGE_STATUSES else (500 if status >= 500 else 400)
    if status >= 500 and "principal" not in g:
        g.principal = None  # the top bar must not ask a database that may be the problem
    minutes = math.ceil(retry_after / 60) if retry_after else None
    return render_template("error.html", status=status, code=code,
                           title=words[f"error_{kind}_title"], help=words[f"error_{kind}_help"],
                           description=description, retry_minutes=minutes), status


def answer(body: dict[str, Any], status: int, *, html_description: str | None = None,
           retry_after: int | None = None) -> tuple[Response | str, int]:
    """``body`` as JSON for a script, or the error page for a browser (see
    :func:`wants_html`); ``html_description`` is what the page says went wrong (the JSON's
    description unless given)."""
    if wants_html():
        try:
            page, status = error_page(status, body.get("code", "error"),
                                      html_description if html_description is not None
                                      else body.get("description"), retry_after=retry_after)
        except Exception:  # noqa: BLE001 - the page itself failed: the JSON still answers
            log.exception("error page failed on %s", request.path)
        else:
            response = Response(page, status=status, mimetype="text/html")
            if retry_after:
                response.headers["Retry-After"] = str(int(retry_after))
            return response, status
    response = jsonify(body)
    if retry_after:
        response.headers["Retry-After"] = str(int(retry_after))
    return response, status


#: The JSON ``code`` of werkzeug's own errors.
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 429: "too_many_requests"}


def http_description(exc: HTTPException, lang: str) -> str:
    """What a werkzeug error (404, 405, 413 …) means, in ``lang``, from the catalogue."""
    from flask import current_app

    status = exc.code or 500
    if status == 413:
        limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        return e.LandregError(key="err_upload_too_large", params={"limit": limit}).text(lang)
    if status == 405:
        allowed = ", ".join(sorted(m for m in (getattr(exc, "valid_methods", None) or [])
                                   if m not in ("HEAD", "OPTIONS")))
        return e.LandregError(key="err_http_405", params={"allowed": allowed or "GET"}
                              ).text(lang)
    key = f"err_http_{status}"
    if key not in catalogue()["text"][lang]:
        key = "err_http_5xx" if status >= 500 else "err_http_4xx"
    return e.LandregError(key=key, params={"status": status}).text(lang)


def register(app: Flask) -> None:
    """Install the handlers and the per-request session teardown."""
    from landreg.web.db import close_session

    app.teardown_appcontext(close_session)

    @app.errorhandler(e.LandregError)
    def _domain(exc: e.LandregError):
        status = status_of(exc)
        if status >= 500 and not isinstance(exc, e.DatabaseUnavailable):
            log.error("%s on %s: %s %s", type(exc).__name__, request.path, exc, exc.details)
        return answer(exc.to_dict(current_lang()), status,
                      retry_after=getattr(exc, "retry_after", None))

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
        g.principal = None  # the top bar of an error page must not ask the database again
        return _domain(e.DatabaseUnavailable(key="err_database_unavailable",
                                             retry_after=RETRY_AFTER_S))

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return answer({"code": "csrf_failed",
                       "description": e.LandregError(key="err_csrf").text(current_lang())}, 400)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # werkzeug's own answers (unknown address, wrong method, unreadable or too large
        # request): its words are English only, so the description comes from the catalogue
        # in the request's language; a description our code passed to ``abort`` is logged.
        status = exc.code or 500
        if exc.description != type(exc).description:
            log.warning("HTTP %s on %s: %s", status, request.path, exc.description)
        response, status = answer({"code": HTTP_CODES.get(status, "http_error"),
                                   "description": http_description(exc, current_lang())},
                                  status, retry_after=getattr(exc, "retry_after", None))
        allow = dict(exc.get_headers()).get("Allow")
        if allow:  # a 405 names the methods that are allowed (RFC 9110)
            response.headers["Allow"] = allow
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return answer({"code": "internal_error",
                       "description": "Something went wrong on our side; it is logged."}, 500,
                      html_description="")
