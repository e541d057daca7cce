"""Planners change the register: create, edit, withdraw, restore, and read history.

A planner may change plots of their own kommuner only (both where the plot is and, when its
geometry moves, where it goes — every part of the outline, not only the larger part, checked
by the registry inside the transaction); a regional admin may change all. Every save needs the
version the editor started from: a stale one is refused (409) with both versions in the answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from landreg.errors import InvalidInput
from landreg.registry.fields import EDITABLE_FIELDS, INTERNAL_FIELDS, PUBLIC_FIELDS
from landreg.registry.history import plot_versions
from landreg.registry.plots import (
    SaveResult,
    create_plot,
    restore_plot,
    restore_version,
    update_plot,
    withdraw_plot,
)
from landreg.registry.search import fetch_one
from landreg.web.auth import require_principal
from landreg.web.db import session

bp = Blueprint("edit", __name__)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object: {\"properties\": {…}, \"geometry\": {…}}.")
    unknown = set(body) - {"properties", "geometry", "crs", "version", "repair", "reason"}
    if unknown:
        raise InvalidInput(f"Unknown member(s): {', '.join(sorted(unknown))}",
                           field=sorted(unknown)[0])
    return body


#: Fields a client may send back as it read them; they are derived, so they are ignored.
READ_ONLY = (set(PUBLIC_FIELDS) | set(INTERNAL_FIELDS)) - set(EDITABLE_FIELDS)


def _props(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise InvalidInput("properties must be an object", field="properties")
    return {k: v for k, v in props.items() if k not in READ_ONLY}


def _version(body: dict[str, Any]) -> int:
    v = body.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise InvalidInput("version (the version you edited, a whole number) is required",
                           field="version", value=v)
    return v


def _answer(result: SaveResult, status: int = 200) -> tuple[Response, int]:
    feature = fetch_one(session(), result.plot["id"], public=False)
    session().commit()
    return jsonify({"plot": feature, "warnings": result.warnings}), status


@bp.post("/plots")
def create() -> tuple[Response, int]:
    """A new plot from GeoJSON (``crs`` defaults to CRS84, as GeoJSON says)."""
    who = require_principal()
    body = _body()
    props = _props(body)
    if body.get("geometry") is None:
        raise InvalidInput("geometry is required", field="geometry")
    result = create_plot(session(), props, body["geometry"], body.get("crs", 4326),
                         user=who.username, repair=bool(body.get("repair")),
                         allowed=who.editable_kommuner)
    who.require_edit(result.plot["properties"]["kommunenummer"])  # rolled back if refused
    return _answer(result, 201)


@bp.patch("/plots/<int:plot_id>")
def edit(plot_id: int) -> tuple[Response, int]:
    """Change attributes and/or geometry of a plot, based on ``version``."""
    who = require_principal()
    body = _body()
    current = fetch_one(session(), plot_id, public=False)
    who.require_edit(current["properties"]["kommunenummer"])
    result = update_plot(session(), plot_id, _props(body),
                         expected_version=_version(body), user=who.username,
                         geometry=body.get("geometry"), crs=body.get("crs", 4326),
                         repair=bool(body.get("repair")), allowed=who.editable_kommuner)
    who.require_edit(result.plot["properties"]["kommunenummer"])
    return _answer(result)


@bp.post("/plots/<int:plot_id>/withdraw")
def withdraw(plot_id: int) -> tuple[Response, int]:
    """Withdraw (never delete) a plot."""
    who = require_principal()
    body = _body()
    who.require_edit(fetch_one(session(), plot_id, public=False)["properties"]["kommunenummer"])
    return _answer(withdraw_plot(session(), plot_id, expected_version=_version(body),
                                 user=who.username, reason=body.get("reason")))


@bp.post("/plots/<int:plot_id>/restore")
def restore(plot_id: int) -> tuple[Response, int]:
    """Undo a withdrawal."""
    who = require_principal()
    body = _body()
    who.require_edit(fetch_one(session(), plot_id, public=False)["properties"]["kommunenummer"])
    return _answer(restore_plot(session(), plot_id, expected_version=_version(body),
                                user=who.username))


@bp.post("/plots/<int:plot_id>/versions/<int:version>/restore")
def restore_old_version(plot_id: int, version: int) -> tuple[Response, int]:
    """Make an earlier version current again, as a new version."""
    who = require_principal()
    body = _body()
    who.require_edit(fetch_one(session(), plot_id, public=False)["properties"]["kommunenummer"])
    result = restore_version(session(), plot_id, version, expected_version=_version(body),
                             user=who.username, allowed=who.editable_kommuner)
    who.require_edit(result.plot["properties"]["kommunenummer"])
    return _answer(result)


@bp.get("/plots/<int:plot_id>/history")
def history(plot_id: int) -> Response:
    """Every version: who, when, what changed (planners and admins only)."""
    require_principal()
    return jsonify({"plot_id": plot_id, "versions": plot_versions(session(), plot_id)})


@bp.get("/export")
def export() -> Response:
    """The (filtered) register as a file: ``format`` gpkg|geojson|fgb|csv, ``crs`` 25833|25832|
    4326 and every /api/plots filter. The public get public fields and published plots."""
    import tempfile
    from pathlib import Path

    from landreg.ingest.export import export_plots
    from landreg.web import params
    from landreg.web.auth import current_principal

    args = request.args.to_dict()
    params.check_known(args, set(params.PLOT_PARAMS) | {"format"})
    fmt = args.pop("format", "gpkg")
    if fmt not in ("gpkg", "geojson", "fgb", "csv"):
        raise InvalidInput("format must be gpkg, geojson, fgb or csv", field="format", value=fmt)
    srid = params.output_srid(args)
    query = params.plot_query({k: v for k, v in args.items() if k != "crs"})  # not paged
    public = current_principal() is None
    with tempfile.TemporaryDirectory(prefix="landreg-export-") as folder:
        path = Path(folder) / f"naeringsarealer.{fmt}"
        export_plots(session(), path, query, srid=srid, public=public)
        blob = path.read_bytes()
    mimetypes = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
                 "fgb": "application/octet-stream", "csv": "text/csv"}
    return Response(blob, mimetype=mimetypes[fmt], headers={
        "Content-Disposition": f'attachment; filename="naeringsarealer.{fmt}"'})


@bp.post("/import")
def import_file() -> tuple[Response, int]:
    """Upload a file for a kommune: ``dry_run=true`` (default) reports per feature what would
    happen; ``dry_run=false`` writes all of it or nothing (planners of that kommune only).
    ``lang=en`` answers in English (see ``landreg.web.importing``)."""
    from landreg.web.importing import upload

    return upload(session(), require_principal())
