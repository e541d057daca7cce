"""Reference layers (roads, rail, stations, rivers …) as GeoJSON for the maps."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.errors import NotFound
from landreg.models import ReferenceFeature

LAYERS = ("roads", "rail", "stations", "rivers", "streams", "lakes", "built_up", "power_lines",
          "places")


def reference_collection(session: Session, layer: str, *, srid: int = 4326,
                         simplify_m: float = 0.0) -> dict[str, Any]:
    """A FeatureCollection of one reference layer (optionally simplified, in metres)."""
    if layer not in LAYERS:
        raise NotFound(f"There is no reference layer {layer!r}; layers: {', '.join(LAYERS)}",
                       field="layer", value=layer)
    geom = ReferenceFeature.geom
    if simplify_m > 0:
        geom = func.ST_SimplifyPreserveTopology(geom, simplify_m)
    rows = session.execute(
        select(ReferenceFeature.id, ReferenceFeature.name, ReferenceFeature.properties,
               func.ST_AsGeoJSON(func.ST_Transform(geom, srid), 6 if srid == 4326 else 1, 0))
        .where(ReferenceFeature.layer == layer).order_by(ReferenceFeature.id)
    ).all()
    features = []
    for fid, name, props, gj in rows:
        keep = {k: v for k, v in props.items()
                if k in ("navn", "vegkategori", "vegnummer", "høyde", "typeVeg")}
        features.append({"type": "Feature", "id": fid, "geometry": json.loads(gj),
                         "properties": {"name": name, **keep}})
    return {"type": "FeatureCollection", "features": features,
            "attribution": "© Kartverket (N1000, CC BY 4.0)"}
