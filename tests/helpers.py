"""Small builders shared by the tests."""

from __future__ import annotations

import math

from pyproj import Transformer
from shapely.geometry import Polygon, box

#: Points inside each kommune, from the N1000 place names (EPSG:25833), moved off the centre so
#: test plots do not sit on a demo plot.
INSIDE = {
    "3401": (336900.0, 6679500.0),   # near Kongsvinger, north of the centre
    "3414": (311500.0, 6703000.0),   # north of Sand
    "3415": (316500.0, 6686500.0),   # north of Skarnes
    "3416": (339000.0, 6652500.0),   # between Skotterud and Magnor
    "3417": (341500.0, 6703500.0),   # south-east of Kirkenær
    "3418": (336500.0, 6720500.0),   # south of Flisa
    "3419": (327000.0, 6732000.0),   # north of Våler
}
DAA_SIDE = math.sqrt(1000.0)  # the side of a 1 daa square, in metres


def square_25833(x: float, y: float, side: float = DAA_SIDE) -> Polygon:
    """An axis-aligned square with its lower-left corner at (x, y) in EPSG:25833."""
    return box(x, y, x + side, y + side)


def reproject(poly: Polygon, src: int, dst: int) -> Polygon:
    """Transform a polygon's vertices (no densifying: tests want exact vertices)."""
    tr = Transformer.from_crs(src, dst, always_xy=True)
    return Polygon([tr.transform(x, y) for x, y in poly.exterior.coords])


def plot_attrs(**overrides: object) -> dict:
    """Minimal valid attributes for a test plot."""
    base = {"name": "Testtomt", "arealformal": 1340, "availability": "ledig", "published": True}
    base.update(overrides)
    return base


def tile_of(x: float, y: float, z: int, src: int = 25833) -> tuple[int, int, int]:
    """The web-map tile (z, x, y; EPSG:3857 grid, y down) that holds a point."""
    import math

    lon, lat = Transformer.from_crs(src, 4326, always_xy=True).transform(x, y)
    n = 2**z
    tx = int((lon + 180.0) / 360.0 * n)
    ty = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, tx, ty
