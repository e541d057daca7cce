"""The JSON search API under /api (see api.py's routes and /api/openapi.json)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)
