"""Login, logout and who is asking: a session cookie for people, a bearer token for scripts.

Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure when LANDREG_SECURE_COOKIES is
set); every form and every cookie-authenticated write carries a CSRF token (Flask-WTF).
Requests with ``Authorization: Bearer <token>`` are authenticated by the token alone and need
no CSRF token (a browser never adds that header by itself).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, session
from flask_wtf.csrf import CSRFProtect

from landreg.auth.users import Principal, authenticate, get_principal, principal_for_token
from landreg.errors import AuthenticationFailed, LandregError
from landreg.web.db import session as db_session

bp = Blueprint("auth", __name__)
ENVIRON_USER = "landreg.user"  # the WSGI environ key the access log reads the username from
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Cookie settings and CSRF protection (token-authenticated API calls are exempt)."""
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=8))
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, token requests exempt
    csrf.init_app(app)

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return  # authenticated by the token alone; a browser never sends it by itself
        csrf.protect()


def current_principal() -> Principal | None:
    """The logged-in user or token owner of this request, or None for the public."""
    if "principal" in g:
        return g.principal
    principal = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        principal = principal_for_token(db_session(), header[7:].strip())
        db_session().commit()  # last_used_at
    elif session.get("user_id"):
        principal = get_principal(db_session(), int(session["user_id"]))
        if principal is None:
            session.clear()
    g.principal = principal
    if principal is not None:  # for the access log (landreg.gunicorn_conf), never the secret
        request.environ[ENVIRON_USER] = principal.username
    return principal


def require_principal() -> Principal:
    """The caller, or a 401 that says how to log in."""
    p = current_principal()
    if p is None:
        raise AuthenticationFailed("Log in (or send an API token) to change the register.")
    return p


@bp.get("/login")
def login_form() -> str:
    """The login page."""
    return render_template("login.html", error=None, next=request.args.get("next", "/map"))


@bp.post("/login")
def login() -> Response | tuple[str, int]:
    """Check the password; lock the account for a while after repeated failures."""
    target = request.form.get("next") or "/map"
    if not target.startswith("/") or target.startswith("//"):
        target = "/map"
    try:
        principal = authenticate(db_session(), request.form.get("username", ""),
                                 request.form.get("password", ""))
    except LandregError as exc:
        db_session().commit()  # keep the failure count
        status = 429 if exc.code == "account_locked" else 401
        return render_template("login.html", error=exc.message, next=target), status
    db_session().commit()
    session.clear()
    session["user_id"] = principal.id
    request.environ[ENVIRON_USER] = principal.username
    session.permanent = True
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    """Forget the session."""
    session.clear()
    return redirect("/map")


@bp.get("/api/me")
def me() -> Response:
    """Who the caller is (public, planner or admin) and which kommuner they may edit."""
    from flask import jsonify

    p = current_principal()
    if p is None:
        return jsonify({"role": "public"})
    return jsonify({"username": p.username, "role": p.role, "kommuner": list(p.kommuner)})
