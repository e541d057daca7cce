"""Vector tiles of the plots for the map at national scale: ``/tiles/plots/{z}/{x}/{y}.mvt``.

The public get published, non-withdrawn plots; a logged-in planner (or token) also gets
unpublished ones, and such a tile is never stored by a browser or proxy (``no-store``). A
public tile may be cached for a minute and carries an ETag of its bytes, so a map that pans
back gets a 304. Each process keeps built tiles (``registry.tiles.TileCache``, bounded by
``LANDREG_TILE_CACHE_MB``) under the register's change counter, so a save shows in the next
tile; a cached tile costs one small query, a new one a few milliseconds of PostGIS (index
scan, one round trip), less than the GeoJSON page it replaces, so tiles are not rate-limited
beyond the app's usual limits.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from landreg.errors import InvalidInput
from landreg.registry.tiles import MAX_ZOOM, TileCache, cached_tile
from landreg.web import params
from landreg.web.api import one_statement
from landreg.web.db import settings

bp = Blueprint("tiles", __name__)

#: The filters of /api/plots a tile understands (the map's filter panel and a few more).
TILE_PARAMS = ("kommune", "availability", "purpose_group", "arealformal", "min_daa", "max_daa",
               "byggeklar", "road_access", "water_sewer", "min_power_mw", "q",
               # the map's distance and drive-time filters (the drive minutes as stored: the
               # map's /api/plots request just before refreshed them)
               "road_km", "junction_km", "rail_km", "station_km", "within_min", "to",
               "published")  # planners only (public tiles are published plots anyway)
MVT_TYPE = "application/vnd.mapbox-vector-tile"
#: How long a browser or proxy may reuse a public tile (seconds): edits show within a minute.
PUBLIC_MAX_AGE = 60


def _coordinate(name: str, value: str) -> int:
    if not value.isdigit() or len(value) > 8:
        raise InvalidInput(f"Tile {name} must be a whole number ≥ 0 (z 0–{MAX_ZOOM}); got "
                           f"{value!r}", field=name, value=value)
    return int(value)


def tile_cache() -> TileCache:
    """This process's cache of built tiles (one per app; sized by the settings)."""
    cache = current_app.extensions.get("landreg_tile_cache")
    if cache is None:
        cache = current_app.extensions.setdefault(
            "landreg_tile_cache", TileCache(max_bytes=settings().tile_cache_mb * 2**20))
    return cache


@bp.get("/tiles/plots/<z>/<x>/<y>.mvt")
def plots_tile(z: str, x: str, y: str) -> Response:
    """The plots in one web-map tile (EPSG:3857) as a Mapbox vector tile, layer ``plots``
    with id, name, availability, purpose_group, area_daa and kommunenummer; 204 when empty."""
    zi, xi, yi = (_coordinate(n, v) for n, v in (("z", z), ("x", x), ("y", y)))
    args = request.args.to_dict()
    params.check_known(args, TILE_PARAMS)
    query = params.plot_query(args)
    from landreg.web.auth import current_principal

    public = current_principal() is None
    with one_statement() as conn:  # one statement: autocommit, no BEGIN/ROLLBACK round trips
        tile = cached_tile(conn, zi, xi, yi, query, public=public, cache=tile_cache())
    resp = Response(tile.body, status=200 if tile.body else 204, mimetype=MVT_TYPE)
    if public:
        resp.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        resp.set_etag(tile.etag)
        return resp.make_conditional(request)
    resp.headers["Cache-Control"] = "no-store"  # unpublished plots: never in a shared cache
    return resp
