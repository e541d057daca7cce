"""OGC API - Features (Part 1 Core, Part 2 CRS) under /ogc."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ogc", __name__)
