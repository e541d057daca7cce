"""The Flask application: a thin adapter over the registry (no domain logic here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from landreg.settings import Settings, load_secret_key

WEBMAP_DIR = Path(__file__).resolve().parents[2] / "webmap"


def create_app(config: dict[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    """Build the app. Settings come from ``LANDREG_*`` variables unless given; ``config``
    overrides Flask config keys (tests use it). No work is done at import time."""
    app = Flask(
        __name__,
        template_folder=str(WEBMAP_DIR / "templates"),
        static_folder=str(WEBMAP_DIR / "static"),
        static_url_path="/static",
    )
    settings = settings or Settings.from_env()
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or load_secret_key(settings.instance_dir),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        JSON_SORT_KEYS=False,
        LANDREG_SETTINGS=settings,
    )
    app.config.from_prefixed_env("LANDREG")
    if app.config.get("SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    from landreg.web.client import install_proxy_fix

    install_proxy_fix(app, settings.trusted_proxies)

    from landreg.web import (
        api,
        auth,
        edit,
        errors,
        forum,
        headers,
        health,
        metrics,
        ogc,
        pages,
        reach,
        suitability,
        text,
        tiles,
    )

    errors.register(app)
    metrics.init_app(app)
    headers.init_app(app)
    text.init_app(app)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(edit.bp, url_prefix="/api")
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(suitability.bp, url_prefix="/api")
    app.register_blueprint(reach.bp, url_prefix="/api")
    app.register_blueprint(ogc.bp, url_prefix="/ogc")
    app.register_blueprint(tiles.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(forum.bp)
    from landreg.web import planner  # Mine tomter, edit form, withdrawal (issue 12)

    app.register_blueprint(planner.bp)
    return app
