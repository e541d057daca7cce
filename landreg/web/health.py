"""``/health``: is the app up, and is its database there?"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from landreg import __version__
from landreg.web.db import settings

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> tuple[Response, int]:
    """JSON: app version, database, PostGIS version, schema revision and plot count."""
    from landreg.health import database_health

    try:
        db = database_health(settings().database_url)
    except Exception as exc:  # the page must answer even when the database does not
        return jsonify({"status": "error", "version": __version__,
                        "database": {"error": str(exc).splitlines()[0]}}), 503
    ok = db["revision"] == db["head_revision"]
    return jsonify({"status": "ok" if ok else "migrations pending", "version": __version__,
                    "database": db}), 200 if ok else 503
