"""HTML pages: the interactive map, plot pages, and the locally served front-end libraries."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages", __name__)
