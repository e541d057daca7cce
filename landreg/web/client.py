"""Who is on the other end: the client address behind a configured number of trusted proxies.

``LANDREG_TRUSTED_PROXIES`` (default 0) says how many reverse proxies stand in front of the app.
With N > 0 werkzeug's ``ProxyFix`` takes the client address from the N-th last
``X-Forwarded-For`` entry (the one the nearest trusted proxy saw), so a client cannot forge it
by sending its own header; with 0 the header is ignored and the socket address is used.
Rate limits key on a keyed hash of that address, never on the address itself.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix


def install_proxy_fix(app: Flask, hops: int) -> None:
    """Trust ``hops`` reverse proxies for the client address, scheme and host."""
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def client_address() -> str:
    """The client's address as far as the trusted proxies vouch for it."""
    return request.remote_addr or "unknown"


def client_key(kind: str) -> str:
    """A rate-limit key for this client: ``kind:`` + a keyed hash of its address."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, client_address().encode(), hashlib.sha256).hexdigest()[:32]
    return f"{kind}:{digest}"
