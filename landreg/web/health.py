"""Operators' probes: ``/health`` (liveness) and ``/ready`` (readiness).

``/health`` says only that the process answers: no database call, no host names, no counts (a
count of plots would reveal how many unpublished ones there are). A load balancer or
orchestrator restarts the process when it stops answering.

``/ready`` says whether this process can serve: the database answers, its schema is at the
migrations' head, and the suitability layers are built (else the first ranking would spend
minutes building them). 200 or 503; everyone sees which check failed, only an operator
(a request from this machine, or an admin — see :func:`landreg.web.metrics.is_operator`)
sees the details (revisions, missing layers, the database's error).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from landreg.web.db import settings

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness: ``{"status": "ok"}`` whenever the process answers."""
    resp = jsonify({"status": "ok"})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness: database, migrations and suitability layers; 200 when all pass, else 503."""
    from landreg.web.metrics import is_operator

    checks = readiness_checks()
    failed = [name for name, check in checks.items() if not check["ok"]]
    body: dict[str, Any] = {"status": "not ready" if failed else "ready"}
    if failed:
        body["failed"] = failed
    if is_operator():
        body["checks"] = checks
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    return resp, 503 if failed else 200


def readiness_checks() -> dict[str, dict[str, Any]]:
    """Each readiness check by name: ``{"ok": bool, …details}``."""
    from sqlalchemy import text

    from landreg.db import current_revision, get_engine, head_revision

    s = settings()
    checks: dict[str, dict[str, Any]] = {}
    try:
        with get_engine(s.database_url).connect() as conn:
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
        checks["database"] = {"ok": True, "postgis": postgis}
    except Exception as exc:  # the probe must answer even when the database does not
        checks["database"] = {"ok": False, "error": _first_line(exc)}
    if checks["database"]["ok"]:
        try:
            current, head = current_revision(s.database_url), head_revision(s.database_url)
            checks["migrations"] = {"ok": current == head, "revision": current, "head": head}
        except Exception as exc:
            checks["migrations"] = {"ok": False, "error": _first_line(exc)}
    else:
        checks["migrations"] = {"ok": False, "error": "the database does not answer"}
    checks["layers"] = _layers_check()
    return checks


def _layers_check() -> dict[str, Any]:
    """Every criterion of the catalogue has a built raster at the app's resolution.

    Only presence is checked (cheap enough for a probe every few seconds); a layer whose
    sources changed is rebuilt on first use, as always.
    """
    from landreg.scoring.catalogue import load_catalogue

    s = settings()
    try:
        catalogue = load_catalogue(s.layers_dir / "criteria.yaml")
    except Exception as exc:
        return {"ok": False, "error": _first_line(exc)}
    folder = s.cache_dir / f"{s.scoring_res:g}m"
    missing = [c for c in catalogue.criteria
               if not ((folder / f"{c}.tif").exists() and (folder / f"{c}.json").exists())]
    out: dict[str, Any] = {"ok": not missing, "resolution_m": s.scoring_res}
    if missing:
        out["missing"] = missing
        out["hint"] = f"run `landreg layers build --res {s.scoring_res:g}`"
    return out


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
