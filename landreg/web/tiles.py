"""Vector tiles of the plots for the map at national scale: ``/tiles/plots/{z}/{x}/{y}.mvt``.

The public get published, non-withdrawn plots; a logged-in planner (or token) also gets
unpublished ones, and such a tile is never stored by a cache (``no-store``). A public tile may
be cached for a minute and carries an ETag of its bytes, so a map that pans back gets a 304.
A tile costs a few milliseconds of PostGIS (index scan, one round trip), less than the
GeoJSON page it replaces, so it is not rate-limited beyond the app's usual limits.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from landreg.errors import InvalidInput
from landreg.registry.tiles import MAX_ZOOM, plot_tile
from landreg.web import params
from landreg.web.api import one_statement

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
        body = plot_tile(conn, zi, xi, yi, query, public=public)
    resp = Response(body, status=200 if body else 204, mimetype=MVT_TYPE)
    if public:
        resp.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        resp.set_etag(hashlib.blake2b(body, digest_size=12).hexdigest())
        return resp.make_conditional(request)
    resp.headers["Cache-Control"] = "no-store"  # unpublished plots: never in a shared cache
    return resp
