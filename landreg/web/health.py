"""``/health``: is the app up, and is its database there?

The page is public, so it answers only what a load balancer or an operator's probe needs:
up or not, PostGIS present, schema at the migration head. It names no database host or
name and counts no plots (the count would include unpublished ones); ``landreg db status``
on the server shows the full picture.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from landreg import __version__
from landreg.web.db import settings

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> tuple[Response, int]:
    """JSON: status, app version, PostGIS version and whether migrations are at the head."""
    from landreg.health import database_health

    try:
        db = database_health(settings().database_url)
    except Exception:  # the page must answer even when the database does not
        current_app.logger.exception("health: database unreachable")
        return jsonify({"status": "error", "version": __version__,
                        "database": {"ok": False, "error": "database unavailable"}}), 503
    ok = db["revision"] == db["head_revision"]
    return jsonify({"status": "ok" if ok else "migrations pending", "version": __version__,
                    "database": {"ok": True, "postgis": db["postgis"],
                                 "migrations_at_head": ok}}), 200 if ok else 503
