"""Plots as Mapbox vector tiles (MVT), cut by PostGIS for the map at national scale.

A tile is the web-map grid cell ``z/x/y`` in EPSG:3857 (``ST_TileEnvelope``). The plots are
found through the GiST index on ``plot.geom``: the tile's outline (with its buffer, densified
so its curved edges survive) is transformed once into the storage CRS (EPSG:25833) and
compared with ``&&``; only the plots found are transformed to 3857 and clipped
(``ST_AsMVTGeom``), and ``ST_AsMVT`` encodes the tile in the database: no Python geometry
work, one round trip.

At zoom :data:`POINT_MAX_ZOOM` and below a plot is a point instead of its outline: there a
plot is a pixel or two across (at z 8 and 60° N one tile unit is ~19 m, a typical plot 2–20
units), so outlines were mostly dropped as too small to draw, and clipping and simplifying
thousands of outlines per tile made these the slowest tiles (issue 14: p95 65 ms at z 8 with
100,000 plots). The point is the centre of the plot's bounding box, read from the box every
stored geometry carries (no GEOS work; ``ST_PointOnSurface`` cost a third of the z 8 tile):
for a plot of a few hundred metres it lies within a tile unit or two of the outline's inside,
under a pixel at these zooms. Rows whose feature falls outside the tile are not filtered in
SQL: ``ST_AsMVT`` skips a NULL geometry, and a filter on it made PostgreSQL clip every plot
twice (once in the filter, once in the output).

Tiles are cached per process by :class:`TileCache`: bytes (bounded in total size) under the
register's change counter (``registry/changes.py``, moved by the database on every write to
the plots and the reference layers, raw SQL included), so the next tile after any save,
withdrawal, restore, import or hand edit is built afresh, in every worker.

The public split of the rest of the register holds: with ``public`` a tile holds published,
non-withdrawn plots only. Every tile carries the same few public attributes (:data:`ATTRIBUTES`)
whoever asks; the popup fetches the rest from ``/api/plots/<id>``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from cachetools import LRUCache
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
from landreg.registry import changes
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
                func.ST_Centroid(func.ST_Envelope(Plot.geom)) if points else Plot.geom, 3857),
                envelope, EXTENT, BUFFER, True).label("geom"),
        )
        .where(Plot.geom.op("&&")(search_area), *plot_conditions(query, public))
        .subquery("t")
    )
    # no "geom IS NOT NULL": ST_AsMVT skips NULL geometries, and the filter doubled the work
    return select(func.ST_AsMVT(literal_column("t"), LAYER, EXTENT, "geom", "fid")
                  ).select_from(tile)


#: What a process keeps of built tiles at most (bytes, with a per-entry overhead).
TILE_CACHE_BYTES = 16 * 2**20
#: A cached tile is rebuilt after this many seconds even when the counter did not move: a
#: safety net for data a tile reads that the counter does not watch (none today).
TILE_CACHE_MAX_AGE = 60.0
_ENTRY_OVERHEAD = 200  # the key tuple, the entry and its slot in the dict (measured ~180 B)


@dataclass(frozen=True)
class Tile:
    """A tile's bytes, their ETag and whether they came from the cache."""

    body: bytes
    etag: str
    cached: bool = False


def _cost(entry: tuple[Tile, float]) -> int:
    """What a cached tile counts against the bound: its bytes and the entry's overhead."""
    return len(entry[0].body) + _ENTRY_OVERHEAD


@dataclass
class TileCache:
    """Built tiles by filters, public flag and z/x/y, for one value of the change counter.

    Bounded by ``max_bytes`` (least recently used tiles go first: cachetools' LRU sized by
    each tile's bytes); a new counter value empties it, so the memory of tiles nobody can be
    served again is given back at once. Thread-safe (a worker's threads share it)."""

    max_bytes: int = TILE_CACHE_BYTES
    max_age: float = TILE_CACHE_MAX_AGE
    hits: int = 0
    misses: int = 0
    _items: LRUCache = field(init=False)
    _generation: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._items = LRUCache(maxsize=max(self.max_bytes, 0), getsizeof=_cost)

    @property
    def size(self) -> int:
        """Bytes held (tile bytes plus a fixed overhead per entry)."""
        return int(self._items.currsize)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, generation: str, key: tuple) -> Tile | None:
        """The tile stored under ``key`` for this counter value, if still fresh."""
        with self._lock:
            if generation != self._generation:
                self._items.clear()
                self._generation = generation
            entry = self._items.get(key)
            if entry is None or time.monotonic() - entry[1] > self.max_age:
                self.misses += 1
                return None
            self.hits += 1
            return entry[0]

    def put(self, generation: str, key: tuple, tile: Tile) -> None:
        """Keep ``tile`` (built after ``generation`` was read) unless it alone is too big."""
        entry = (tile, time.monotonic())
        with self._lock:
            if generation != self._generation or _cost(entry) > self.max_bytes:
                return  # a newer counter was seen meanwhile: this tile may be older than it
            self._items[key] = entry


def etag_of(body: bytes) -> str:
    """The ETag of a tile's bytes (a hash: equal tiles, equal tags, in every worker)."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def cached_tile(conn: Session | Connection, z: int, x: int, y: int,
                query: PlotQuery | None = None, *, public: bool = True,
                cache: TileCache | None = None) -> Tile:
    """:func:`plot_tile` through ``cache``: one small query for the change counter, and the
    tile's own query only when it is not cached. Tiles filtered by drive time are not cached
    (the minutes are refreshed apart from the plots)."""
    query = query or PlotQuery()
    if cache is None or cache.max_bytes <= 0 or query.reach_within_min is not None:
        body = plot_tile(conn, z, x, y, query, public=public)
        return Tile(body, etag_of(body))
    check_tile(z, x, y)
    query.validate()
    key = (public, repr(replace(query, sort=[], limit=1, offset=0)), z, x, y)
    generation = changes.current(conn)  # first: what is built next is at least this new
    hit = cache.get(generation, key)
    if hit is not None:
        return Tile(hit.body, hit.etag, cached=True)
    body = plot_tile(conn, z, x, y, query, public=public)
    tile = Tile(body, etag_of(body))
    cache.put(generation, key, tile)
    return tile
