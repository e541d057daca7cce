"""Drive times on the road network: destinations and isochrones under /api (issue 13)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from landreg.ratelimit import enforce
from landreg.routing import db as rdb
from landreg.routing.filter import ensure_current
from landreg.web import params
from landreg.web.api import geojson_response
from landreg.web.client import client_key
from landreg.web.db import engine, session, settings

bp = Blueprint("reach", __name__)

#: Isochrone computations (cache misses) one client may start per window;
#: ``LANDREG_EXPENSIVE_LIMIT`` = (count, seconds) in the app config, shared with suitability.
EXPENSIVE_LIMIT = (30, 600)

ATTRIBUTION = ("Road network © Kartverket N1000 (CC BY 4.0), generalised 1:1M; speeds are "
               "assumptions (layers/road_speeds.yaml); Alnabru point from Wikipedia")


@bp.get("/destinations")
def destinations() -> Response:
    """The destinations drive times are measured to, with their points."""
    params.check_known(request.args, [])
    net = rdb.served_network(session(), settings().layers_dir)
    resp = jsonify({"destinations": rdb.destinations(net), "attribution": ATTRIBUTION,
                    "network_version": net.version})
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/isochrones/<destination>")
def isochrones(destination: str) -> Response:
    """Areas within 15/30/45/60 (or ``minutes=``) minutes' drive of a destination (CRS84)."""
    params.check_known(request.args, ["minutes"])
    body = isochrones_for(destination, rdb.parse_minutes(request.args.get("minutes")))
    resp = geojson_response(body, 4326)
    resp.headers["Cache-Control"] = "public, max-age=600"
    return resp


def isochrones_for(destination: str, minutes: list[int]) -> dict[str, Any]:
    """Drive-time zones around ``destination`` (the map's API and the meeting map): a cache
    miss counts against the caller's limit of expensive computations (429 when over)."""
    net = rdb.served_network(session(), settings().layers_dir)
    if destination in net.targets and rdb.ISOCHRONES.get(
            (net.version, destination, tuple(minutes))) is None:
        limit, window = current_app.config.get("LANDREG_EXPENSIVE_LIMIT", EXPENSIVE_LIMIT)
        enforce(engine(), client_key("expensive"), limit=limit, window=window,
                message="Too many isochrone computations from your address; try again "
                        "later — the usual 15/30/45/60 minutes stay available from the cache.")
    body = rdb.isochrones(session(), net, destination, minutes)
    session().commit()  # keep a network loaded on first use
    return body


def attach_minutes(features: list[dict[str, Any]]) -> None:
    """Add ``drive_min`` ({destination: minutes}) to each plot feature's properties."""
    sess = session()
    ensure_current(sess, settings().layers_dir)
    sess.commit()
    minutes = rdb.plot_minutes(sess, [int(f["id"]) for f in features])
    for f in features:
        f["properties"]["drive_min"] = minutes.get(int(f["id"]), {})
