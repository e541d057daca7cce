"""Security headers on every response, and the per-response nonce for inline scripts.

Every response carries a Content-Security-Policy whose ``script-src`` is a nonce drawn fresh
for each response: a script runs only if the app itself wrote the nonce into its tag, so
markup that slips through unescaped does not execute. Templates write the nonce with
``{{ csp_nonce() }}``; folium's head is given it with the ``nonced`` filter. The policy also
forbids plugins, ``<base>`` and framing; map tiles may come from Kartverket only.

Responses to a logged-in user or an API token are never stored by a cache
(``Cache-Control: no-store``); the rest say ``Vary: Cookie, Authorization`` so a shared
cache never hands a planner's page to the public or the other way round.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from markupsafe import Markup
from werkzeug.wrappers import Response

#: Where map tiles may come from (the optional topographic background).
TILE_HOSTS = ("https://cache.kartverket.no",)
#: Endpoints whose answers are the same for everyone (files from npm and webmap/static).
STATIC_ENDPOINTS = frozenset({"static", "pages.vendor"})


def csp_nonce() -> str:
    """This response's script nonce (drawn on first use, then the same for the response)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    """The policy of an app response whose inline scripts carry ``nonce``.

    Styles may be inline: Leaflet and folium position every map element with style
    attributes, and CSS cannot run script.
    """
    return f"{_CSP_HEAD}{nonce}{_CSP_TAIL}"


#: The policy around the nonce, joined once per process.
_CSP_HEAD, _CSP_TAIL = "; ".join([
    "default-src 'self'",
    "script-src 'nonce-\0'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: " + " ".join(TILE_HOSTS),
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]).split("\0")


def nonced(markup: str) -> Markup:
    """Generated markup (folium's ``<head>`` part, which holds no user data) with this
    response's nonce on each of its ``<script>`` tags."""
    # S704: the input is already trusted markup (folium output, no user data); only our
    # nonce (URL-safe base64) is added
    return Markup(str(markup).replace("<script", f'<script nonce="{csp_nonce()}"'))  # noqa: S704


#: The session entry that holds a logged-in user's session id (see landreg/web/auth.py).
SESSION_ID_KEY = "sid"


def _authenticated() -> bool:
    """Did the request come with credentials (a session or a token)? Checked on the request
    itself, so a page that never asked who is logged in is covered too."""
    from flask import session

    return bool(request.headers.get("Authorization")) or bool(session.get(SESSION_ID_KEY))


def secure_headers(response: Response) -> Response:
    """Add the security headers to ``response`` (an ``after_request`` hook)."""
    h = response.headers
    h["Content-Security-Policy"] = content_security_policy(csp_nonce())
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if request.endpoint in STATIC_ENDPOINTS:
        return response
    if _authenticated():
        h["Cache-Control"] = "no-store"
        h.pop("Expires", None)
    if "Vary" in h:
        response.vary.update(("Cookie", "Authorization"))
    else:  # the usual case, without parsing a header set
        h["Vary"] = "Cookie, Authorization"
    return response


def init_app(app: Flask) -> None:
    """Register the header hook and the template helpers ``csp_nonce()`` and ``|nonced``."""
    app.after_request(secure_headers)
    app.add_template_global(csp_nonce, "csp_nonce")
    app.add_template_filter(nonced, "nonced")
