"""A plot's history: every version, who made it, when, and what changed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.errors import NotFound
from landreg.models import PlotVersion

_IGNORED = {"version", "updated_at", "updated_by", "created_at", "created_by"}


def plot_versions(session: Session, plot_id: int, *, srid: int = 4326) -> list[dict[str, Any]]:
    """All versions of a plot, oldest first, each with a field-by-field diff to the one before
    and its ``source`` (``import`` when an import made it, else None)."""
    if not 0 < plot_id < 2**63:
        raise NotFound(f"There is no plot with id {plot_id}.", field="id", value=plot_id)
    rows = session.execute(
        select(
            PlotVersion.version, PlotVersion.operation, PlotVersion.changed_by,
            PlotVersion.changed_at, PlotVersion.attributes,
            func.ST_AsGeoJSON(func.ST_Transform(PlotVersion.geom, srid),
                              7 if srid == 4326 else 2, 0),
            func.md5(func.ST_AsBinary(PlotVersion.geom)), PlotVersion.source,
        ).where(PlotVersion.plot_id == plot_id).order_by(PlotVersion.version)
    ).all()
    if not rows:
        raise NotFound(f"There is no plot with id {plot_id}.", field="id", value=plot_id)
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    previous_geom: str | None = None
    for version, op, who, when, attrs, geojson, geom_hash, source in rows:
        changes = {}
        if previous is not None:
            for key in sorted(set(attrs) | set(previous)):
                if key in _IGNORED:
                    continue
                if attrs.get(key) != previous.get(key):
                    changes[key] = {"from": previous.get(key), "to": attrs.get(key)}
            if geom_hash != previous_geom:
                changes["geometry"] = {"from": "…", "to": "…"}
        out.append({
            "version": version, "operation": op, "source": source, "changed_by": who,
            "changed_at": when.isoformat(), "attributes": attrs,
            "geometry": json.loads(geojson), "changes": changes,
        })
        previous, previous_geom = attrs, geom_hash
    return out
