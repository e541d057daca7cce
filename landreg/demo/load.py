"""Load the demo region: the seven real kommuner and real N1000 reference layers (© Kartverket,
CC BY 4.0) plus a fictitious, clearly labelled set of business plots.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from landreg.errors import ConfigurationError
from landreg.models import Municipality, Plot, ReferenceFeature
from landreg.registry.plots import create_plot

log = logging.getLogger(__name__)

#: Reference layers shown on the maps: our name → (GeoPackage layer, name column, filter).
REFERENCE_LAYERS: dict[str, tuple[str, str | None]] = {
    "roads": ("Veglenke", None),
    "rail": ("Bane", None),
    "stations": ("Stasjon", "navn"),
    "rivers": ("Elv", None),
    "streams": ("ElvBekk", None),
    "lakes": ("Innsjo", None),
    "built_up": ("Tettbebyggelse", None),
    "power_lines": ("LuftledningLH", None),
    "places": ("Stedsnavn", "navn"),
}
DEMO_USER = "demo"


def load_municipalities(session: Session, gpkg: Path) -> int:
    """Replace the municipality table with the Kommune layer of ``gpkg``."""
    frame = _read(gpkg, "Kommune").to_crs(25833)
    session.execute(delete(Municipality))
    rows = [
        {
            "kommunenummer": str(r.kommunenummer),
            "name": r.kommunenavn,
            "kommunenummer_pre2020": r.kommunenummer_pre2020,
            "geom": from_shape(_multi(r.geometry), srid=25833),
        }
        for r in frame.itertuples()
    ]
    session.execute(insert(Municipality), rows)
    return len(rows)


def load_reference_layers(session: Session, gpkg: Path) -> dict[str, int]:
    """Replace the reference layers with those of ``gpkg``; returns features per layer."""
    session.execute(delete(ReferenceFeature))
    counts: dict[str, int] = {}
    for layer, (source, name_col) in REFERENCE_LAYERS.items():
        frame = _read(gpkg, source).to_crs(25833)
        prop_cols = [c for c in frame.columns if c not in ("geometry", "fid")]
        rows = []
        for rec, geom in zip(frame[prop_cols].to_dict("records"), frame.geometry, strict=True):
            props = {k: _plain(v) for k, v in rec.items() if _plain(v) is not None}
            rows.append({
                "layer": layer,
                "name": props.get(name_col) if name_col else None,
                "properties": props,
                "geom": from_shape(geom, srid=25833),
            })
        if rows:
            session.execute(insert(ReferenceFeature), rows)
        counts[layer] = len(rows)
    from landreg.registry import distances

    distances.refresh(session)  # new layers: every plot's stored distances (issue 10)
    return counts


def load_demo_plots(session: Session, gpkg: Path, seed: int = 2020) -> int:
    """Add the fictitious demo plots through the registry (same checks as any plot)."""
    from landreg.demo.plots import generate_demo_plots

    frame = generate_demo_plots(gpkg, seed=seed)
    attrs = [c for c in frame.columns if c != "geometry"]
    for rec, geom in zip(frame[attrs].to_dict("records"), frame.geometry, strict=True):
        create_plot(session, {k: _plain(v) for k, v in rec.items()}, geom, 25833, user=DEMO_USER)
    return len(frame)


def load_demo(session: Session, gpkg: Path, *, if_empty: bool = False) -> dict[str, object]:
    """Load the whole demo region in one transaction (nothing if ``if_empty`` and plots exist)."""
    if if_empty and session.execute(select(func.count()).select_from(Plot)).scalar_one() > 0:
        return {"skipped": True}
    session.execute(delete(Plot))
    out: dict[str, object] = {"municipalities": load_municipalities(session, gpkg)}
    out["reference"] = load_reference_layers(session, gpkg)
    out["plots"] = load_demo_plots(session, gpkg)
    return out


def _read(gpkg: Path, layer: str) -> gpd.GeoDataFrame:
    if not Path(gpkg).exists():
        raise ConfigurationError(
            f"The demo data {gpkg} is missing. It ships with the repository in layers/sources/.",
            field="gpkg", value=str(gpkg),
        )
    return gpd.read_file(gpkg, layer=layer)


def _multi(geom: shapely.Geometry) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def _plain(value: object) -> object:
    """numpy/pandas scalars → plain Python; NaN/NaT → None."""
    if value is None:
        return None
    try:
        if value != value:  # NaN
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
