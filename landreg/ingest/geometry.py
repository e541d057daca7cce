"""Turn a user's geometry (GeoJSON, WKT, WKB or shapely, in any CRS) into a valid
MultiPolygon in EPSG:25833 — or refuse it with a message that says what and where."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from landreg.errors import InvalidCRS, InvalidGeometry
from landreg.ingest.crs import STORE_EPSG, guess_crs, in_norway, parse_crs, transformer


def read_geometry(value: Any) -> BaseGeometry:
    """Read a geometry from GeoJSON (dict or text), WKT, WKB/hex or a shapely object."""
    try:
        if isinstance(value, BaseGeometry):
            geom = value
        elif isinstance(value, dict):
            geom = shape(value.get("geometry", value) if value.get("type") == "Feature" else value)
        elif isinstance(value, bytes | bytearray | memoryview):
            geom = shapely.from_wkb(bytes(value))
        elif isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return read_geometry(json.loads(text))
            if all(c in "0123456789abcdefABCDEF" for c in text[:16]) and len(text) > 16:
                geom = shapely.from_wkb(text)
            else:
                geom = shapely.from_wkt(text)
        else:
            raise TypeError(type(value).__name__)
    except Exception as exc:  # shapely/json raise many types; all mean "unreadable"
        raise InvalidGeometry(
            f"The geometry could not be read ({exc}). Give GeoJSON or WKT, for example "
            "POLYGON((x1 y1, x2 y2, x3 y3, x1 y1)).",
            field="geometry",
        ) from None
    if geom is None or geom.is_empty:
        raise InvalidGeometry("The geometry is empty.", field="geometry")
    return geom


def to_store_crs(geom: BaseGeometry, crs: object) -> BaseGeometry:
    """Transform ``geom`` from ``crs`` to EPSG:25833, refusing coordinates that cannot be Norway."""
    src = parse_crs(crs)
    coords = shapely.get_coordinates(geom)
    if src.to_epsg() == STORE_EPSG:
        out = geom
    else:
        tr = transformer(src)
        out = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    moved = shapely.get_coordinates(out)
    if not np.all(np.isfinite(moved)) or not in_norway(moved[:, 0], moved[:, 1]):
        looks = guess_crs(coords[:, 0], coords[:, 1])
        name = _crs_name(src)
        hint = f" They look like {looks}." if looks else ""
        raise InvalidCRS(
            f"The coordinates are not in Norway when read as {name}.{hint} "
            "Check the CRS the data was exported in.",
            field="crs",
            value=name,
            details={"looks_like": looks} if looks else None,
        )
    return out


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def as_multipolygon(geom: BaseGeometry, *, repair: bool = False) -> MultiPolygon:
    """Return a valid 2-D MultiPolygon; invalid input is refused unless ``repair`` is True.

    The message of a refused geometry names the problem and where it is, in the coordinates of
    the stored CRS (EPSG:25833), e.g. ``Self-intersection at 312345.0 6672345.0``.
    """
    geom = shapely.force_2d(geom)
    if not isinstance(geom, Polygon | MultiPolygon):
        raise InvalidGeometry(
            f"A plot must be a polygon or multipolygon, not a {geom.geom_type}.",
            field="geometry",
            value=geom.geom_type,
        )
    if not geom.is_valid:
        if not repair:
            reason = shapely.is_valid_reason(geom)
            raise InvalidGeometry(
                f"The polygon is not valid: {_describe(reason)}. Fix the outline, or ask for "
                "it to be repaired (repair=true).",
                field="geometry",
                details={"reason": reason},
            )
        geom = shapely.make_valid(geom)
        polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
        geom = shapely.union_all(polys) if polys else Polygon()
        if geom.is_empty:
            raise InvalidGeometry("Repairing the polygon left no area.", field="geometry")
    if geom.area <= 0:
        raise InvalidGeometry("The polygon has no area.", field="geometry")
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def _describe(reason: str) -> str:
    # GEOS says "Self-intersection[312345.1 6672345.2]": turn it into words a planner reads.
    if "[" in reason and reason.endswith("]"):
        what, where = reason[:-1].split("[", 1)
        x, y = (float(v) for v in where.split()[:2])
        return f"{what.lower()} at {x:.1f} {y:.1f} (EPSG:25833)"
    return reason


def normalise_geometry(value: Any, crs: object, *, repair: bool = False) -> MultiPolygon:
    """Read, transform to EPSG:25833 and validate a plot geometry in one call."""
    if crs is None:
        raise InvalidCRS(
            "The geometry has no coordinate reference system. Say which one it is in, "
            "for example EPSG:25833, EPSG:25832 or EPSG:4326.",
            field="crs",
        )
    return as_multipolygon(to_store_crs(read_geometry(value), crs), repair=repair)
