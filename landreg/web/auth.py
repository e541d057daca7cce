"""Login, logout and who is asking: a session cookie for people, a bearer token for scripts.

The session cookie is signed, HttpOnly and SameSite=Lax, Secure (and named ``__Host-session``)
when LANDREG_SECURE_COOKIES is set; it carries only a random session id. The session itself
lives in the database (``landreg/auth/sessions.py``): logout or disabling the user ends it on
the server, it ends after 8 hours idle and 24 hours at most, and login always starts a new one.
Logins are throttled per source and per (source, account) (``landreg/auth/throttle.py``).

Every form and every cookie-authenticated write carries a CSRF token (Flask-WTF). Requests with
``Authorization: Bearer <token>`` are authenticated by the token alone and need no CSRF token
(a browser never adds that header by itself). A write to ``/api/`` with neither a session nor
a token is answered 401 before the CSRF check, so a script learns what is really missing.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from landreg.auth.sessions import MAX_AGE, end_session, start_session
from landreg.auth.users import (
    Principal,
    authenticate,
    principal_for_session,
    principal_for_token,
)
from landreg.errors import AuthenticationFailed, LandregError
from landreg.web.client import client_key
from landreg.web.db import engine
from landreg.web.db import session as db_session
from landreg.web.headers import SESSION_ID_KEY

bp = Blueprint("auth", __name__)
ENVIRON_USER = "landreg.user"  # the WSGI environ key the access log reads the username from
csrf = CSRFProtect()
DEFAULT_NEXT = "/map"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, with its signing serializer made once per key instead of on
    every request (Flask builds one even for a request without a cookie: ~40 µs each)."""

    _made: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer of the app's current keys (made again only when they change)."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        made = self._made
        if made is None or made[0] != keys:
            made = self._made = (keys, super().get_signing_serializer(app))
        return made[1]


def init_app(app: Flask) -> None:
    """Cookie settings and CSRF protection (token-authenticated API calls are exempt).

    Flask predefines the session-cookie keys (SameSite off, 31 days), so ``setdefault`` would
    keep Flask's values: the flags are set here, and only a lifetime configured explicitly
    (differing from Flask's default) is kept."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config["PERMANENT_SESSION_LIFETIME"] == \
            Flask.default_config["PERMANENT_SESSION_LIFETIME"]:
        app.config["PERMANENT_SESSION_LIFETIME"] = MAX_AGE
    if (app.config.get("SESSION_COOKIE_SECURE") and not app.config.get("SESSION_COOKIE_DOMAIN")
            and app.config.get("SESSION_COOKIE_PATH") in (None, "/")
            and app.config.get("APPLICATION_ROOT", "/") == "/"
            and app.config.get("SESSION_COOKIE_NAME") == "session"):
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"  # only for this host, only HTTPS
    app.session_interface = SessionInterface()
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, token requests exempt
    csrf.init_app(app)

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.routing_exception is not None:
            return  # no view runs: the 404/405 itself answers (as Flask-WTF's own check does)
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return  # authenticated by the token alone; a browser never sends it by itself
        if request.path.startswith("/api/") and current_principal() is None:
            raise AuthenticationFailed(key="err_login_to_change")
        csrf.protect()


# anything but the characters RFC 3986 allows in a URL (no quotes, no <>, no backslash)
_UNSAFE_RAW = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]")  # what browsers drop or trim from a URL


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/map``.

    Judged as browsers read it: the raw value may hold only characters RFC 3986 allows (no
    spaces, controls, quotes or backslashes), and it and every percent-decoded form of it
    (with the tabs, newlines and spaces browsers drop removed) must parse without scheme or
    host and start with exactly one ``/``. So ``//evil``, ``/\\evil``, ``/%09/evil``,
    ``/%2F%2Fevil`` and ``javascript:…`` all fall back to the map."""
    if not target or len(target) > 2000 or _UNSAFE_RAW.search(target):
        return DEFAULT_NEXT
    form = target
    for _ in range(4):
        bare = _INVISIBLE.sub("", form)
        parts = urlsplit(bare)
        if ("\\" in bare or parts.scheme or parts.netloc or not bare.startswith("/")
                or bare.startswith("//")):
            return DEFAULT_NEXT
        decoded = unquote(form)
        if decoded == form:
            return target
        form = decoded
    return DEFAULT_NEXT  # encoded over and over: no honest link looks like that


def current_principal() -> Principal | None:
    """The logged-in user or token owner of this request, or None for the public."""
    if "principal" in g:
        return g.principal
    principal = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        principal = principal_for_token(db_session(), header[7:].strip())
        db_session().commit()  # last_used_at
    elif session.get(SESSION_ID_KEY):
        principal = principal_for_session(db_session(), str(session[SESSION_ID_KEY]))
        db_session().commit()  # last_seen_at
        if principal is None:
            session.clear()  # logged out, disabled, idle or too old
    g.principal = principal
    if principal is not None:  # for the access log (landreg.served), never the secret
        request.environ[ENVIRON_USER] = principal.username
    return principal


def require_principal() -> Principal:
    """The caller, or a 401 that says how to log in."""
    p = current_principal()
    if p is None:
        raise AuthenticationFailed(key="err_login_required")
    return p


@bp.get("/login")
def login_form() -> str:
    """The login page (``next`` is kept only when it is a path on this site)."""
    return render_template("login.html", error=None, next=safe_next(request.args.get("next")))


@bp.post("/login")
def login() -> Response | tuple[str, int, dict]:
    """Check the password (throttled per source and account) and start a new session."""
    from landreg.web.errors import status_of

    target = safe_next(request.form.get("next"))
    try:
        principal = authenticate(db_session(), request.form.get("username", ""),
                                 request.form.get("password", ""), engine=engine(),
                                 source=client_key("client"))
    except LandregError as exc:
        db_session().rollback()
        retry = getattr(exc, "retry_after", None)
        from landreg.web.text import current_lang

        return (render_template("login.html", error=exc.text(current_lang()), next=target),
                status_of(exc), {"Retry-After": str(retry)} if retry else {})
    session_id = start_session(db_session(), principal.id)
    db_session().commit()
    session.clear()  # nothing from before the login survives (session fixation)
    session[SESSION_ID_KEY] = session_id
    request.environ[ENVIRON_USER] = principal.username
    session.permanent = True
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    """End the session on the server: the cookie, or any copy of it, stops working."""
    if session.get(SESSION_ID_KEY):
        end_session(db_session(), str(session[SESSION_ID_KEY]))
        db_session().commit()
    session.clear()
    return redirect(DEFAULT_NEXT)


@bp.get("/api/me")
def me() -> Response:
    """Who the caller is (public, planner or admin) and which kommuner they may edit."""
    from flask import jsonify

    p = current_principal()
    if p is None:
        return jsonify({"role": "public"})
    return jsonify({"username": p.username, "role": p.role, "kommuner": list(p.kommuner)})
