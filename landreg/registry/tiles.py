"""Plots as Mapbox vector tiles (MVT), cut by PostGIS for the map at national scale.

A tile is the web-map grid cell ``z/x/y`` in EPSG:3857 (``ST_TileEnvelope``). The plots are
found through the GiST index on ``plot.geom``: the tile's outline (with its buffer, densified
so its curved edges survive) is transformed once into the storage CRS (EPSG:25833) and
compared with ``&&``; only the plots found are transformed to 3857 and clipped
(``ST_AsMVTGeom``), and ``ST_AsMVT`` encodes the tile in the database: no Python geometry
work, one round trip.

At zoom :data:`POINT_MAX_ZOOM` and below a plot is a point on its surface instead of its
outline: there a plot is a pixel or two across (at z 8 and 60° N one tile unit is ~19 m, a
typical plot 2–20 units), so outlines were mostly dropped as too small to draw, and clipping
and simplifying thousands of outlines per tile made these the slowest tiles (issue 14: p95
65 ms at z 8 with 100,000 plots). A point per plot keeps every plot visible and clickable on
the overview, for a fraction of the work.

The public split of the rest of the register holds: with ``public`` a tile holds published,
non-withdrawn plots only. Every tile carries the same few public attributes (:data:`ATTRIBUTES`)
whoever asks; the popup fetches the rest from ``/api/plots/<id>``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Numeric,
    Select,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from landreg.errors import InvalidInput
from landreg.models import Plot
from landreg.registry.search import PlotQuery
from landreg.registry.search import _conditions as plot_conditions

#: The tile grid's zoom levels (web-map convention; 22 is a few centimetres a pixel).
MAX_ZOOM = 22
#: Tile coordinate space and the buffer around it (MVT units), as the map libraries expect.
EXTENT = 4096
BUFFER = 64
#: At this zoom and below, plots are points (see the module's docstring).
POINT_MAX_ZOOM = 9
#: The name of the layer inside each tile.
LAYER = "plots"
#: The attributes of every feature (besides its geometry and the feature id).
ATTRIBUTES = ("id", "name", "availability", "purpose_group", "area_daa", "kommunenummer")
#: Web Mercator's full width in metres, to size the densifying step of a tile's outline.
_WORLD = 2 * 20037508.342789244


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile outside the grid: z 0–22, x and y 0–2^z−1 (a 400, naming the part)."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"Zoom level z must be 0–{MAX_ZOOM}; got {z}", field="z", value=z)
    top = 2**z - 1
    for name, v in (("x", x), ("y", y)):
        if not 0 <= v <= top:
            raise InvalidInput(f"Tile {name} must be 0–{top} at zoom {z}; got {v}",
                               field=name, value=v)


def plot_tile(session: Session | Connection, z: int, x: int, y: int,
              query: PlotQuery | None = None, *, public: bool = True) -> bytes:
    """The plots in tile ``z/x/y`` that match ``query``'s filters, as an MVT (empty bytes when
    none). ``query``'s paging, sorting and output CRS are ignored."""
    stmt, values = tile_statement(z, x, y, query, public=public)
    return bytes(session.execute(stmt, values).scalar_one() or b"")


#: Built statements by filters (the tile itself is a parameter): building one costs more than
#: the query of a small tile. Bounded; the map asks for a few filter combinations at a time.
_STATEMENTS: OrderedDict[tuple, Select] = OrderedDict()
STATEMENT_CACHE_SIZE = 256


def tile_statement(z: int, x: int, y: int, query: PlotQuery | None = None, *,
                   public: bool = True) -> tuple[Select, dict[str, float]]:
    """The one query that makes tile ``z/x/y`` (see :func:`plot_tile`) and its parameters."""
    check_tile(z, x, y)
    query = query or PlotQuery()
    query.validate()
    points = z <= POINT_MAX_ZOOM
    key = (public, points, repr(replace(query, sort=[], limit=1, offset=0)))
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = _build(query, public, points)
        while len(_STATEMENTS) > STATEMENT_CACHE_SIZE:
            _STATEMENTS.popitem(last=False)
    width = _WORLD / 2**z
    # the tile and its buffer, 16 segments an edge: the outline's curve in 25833 is kept
    return stmt, {"tile_z": z, "tile_x": x, "tile_y": y, "tile_margin": width * BUFFER / EXTENT,
                  "tile_step": width / 16}


def _build(query: PlotQuery, public: bool, points: bool = False) -> Select:
    zi, xi, yi = (bindparam(f"tile_{n}", type_=Integer) for n in "zxy")
    envelope = func.ST_TileEnvelope(zi, xi, yi)
    search_area = func.ST_Transform(
        func.ST_Segmentize(func.ST_Expand(envelope, bindparam("tile_margin", type_=Float)),
                           bindparam("tile_step", type_=Float)),
        Plot.geom.type.srid)
    tile = (
        select(
            Plot.id.label("fid"),  # the feature id (MVT keeps it out of the attributes) ...
            Plot.id,  # ... and an attribute, for clients that read attributes only
            Plot.name,
            Plot.availability,
            Plot.purpose_group,
            cast(func.round(cast(Plot.area_daa, Numeric), 3), Float).label("area_daa"),
            Plot.kommunenummer,
            func.ST_AsMVTGeom(func.ST_Transform(
                func.ST_PointOnSurface(Plot.geom) if points else Plot.geom, 3857),
                envelope, EXTENT, BUFFER, True).label("geom"),
        )
        .where(Plot.geom.op("&&")(search_area), *plot_conditions(query, public))
        .subquery("t")
    )
    return (select(func.ST_AsMVT(literal_column("t"), LAYER, EXTENT, "geom", "fid"))
            .select_from(tile).where(tile.c.geom.is_not(None)))
