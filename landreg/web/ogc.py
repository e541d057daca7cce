"""OGC API – Features, Part 1 (Core) and Part 2 (CRS by reference), under /ogc.

Collections: ``plots`` (published plots, public fields) and ``municipalities``. JSON by default,
HTML when a browser asks (``Accept: text/html``) or with ``f=html``. Items in CRS84 unless
``crs`` asks for EPSG:25832/25833/4326; ``bbox-crs`` likewise; ``Content-Crs`` on every
GeoJSON response. ``limit`` defaults to 10; above 1000 it is clamped to 1000 (OGC 17-069r4
Req. 22 C: no error), and the paging links follow the clamped page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import func, select

from landreg.errors import InvalidInput, NotFound
from landreg.ingest.crs import CRS84_URI, OUTPUT_EPSG, STORE_EPSG, crs_uri
from landreg.models import Municipality, Plot
from landreg.registry.search import MAX_LIMIT, PlotQuery, fetch_one_json, search_plots_json
from landreg.web import params
from landreg.web.api import (
    compact_json,
    geojson_bytes_response,
    geojson_response,
    page_links,
)
from landreg.web.db import engine, session
from landreg.web.links import base_url, external_url

bp = Blueprint("ogc", __name__)

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
CRS_LIST = [CRS84_URI] + [crs_uri(e) for e in OUTPUT_EPSG if e != 4326]
COLLECTIONS = {
    "plots": {"title": "Næringsarealer i Glåmdalen (business plots)",
              "description": "Published business plots of the seven Glåmdalen kommuner: zoning "
                             "(arealformål), availability, readiness and area in daa."},
    "municipalities": {"title": "Kommuner i Glåmdalen (municipalities)",
                       "description": "The seven kommuner, © Kartverket N1000 (CC BY 4.0)."},
}
PLOT_ITEM_PARAMS = ("f", "bbox", "bbox-crs", "crs", "limit", "offset", "datetime",
                    "kommunenummer", "availability", "purpose_group", "min_daa", "max_daa",
                    "within_min", "to", "road_km", "junction_km", "rail_km", "station_km")
MUNI_ITEM_PARAMS = ("f", "bbox", "bbox-crs", "crs", "limit", "offset")


def _wants_html() -> bool:
    f = request.args.get("f")
    if f:
        if f not in ("json", "html"):
            raise InvalidInput(f"f must be json or html; got {f!r}", field="f", value=f)
        return f == "html"
    accept = request.headers.get("Accept")
    if not accept or accept == "*/*":  # scripts' usual headers: JSON, without parsing them
        return False
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/html"])
    return best == "text/html"


def _respond(body: dict[str, Any], template: str) -> Response | str:
    if _wants_html():
        return render_template(template, body=body, json=json, base_url=base_url())
    return jsonify(body)


def _link(rel: str, endpoint: str, mime: str = "application/json", title: str | None = None,
          **kw: Any) -> dict[str, str]:
    link = {"rel": rel, "type": mime, "href": external_url(endpoint, **kw)}
    if title:
        link["title"] = title
    return link


@bp.get("/")
def landing() -> Response | str:
    """Landing page."""
    params.check_known(request.args, ["f"])
    body = {
        "title": "landreg — Glåmdalen business land register",
        "description": "OGC API – Features of the shared business-land register of Glåmdalen.",
        "links": [
            _link("self", "ogc.landing"),
            _link("alternate", "ogc.landing", "text/html", f="html"),
            _link("service-desc", "api.openapi", "application/vnd.oai.openapi+json;version=3.0"),
            _link("service-doc", "api.docs", "text/html"),
            _link("conformance", "ogc.conformance"),
            _link("data", "ogc.collections"),
        ],
    }
    return _respond(body, "ogc/landing.html")


@bp.get("/conformance")
def conformance() -> Response | str:
    """Conformance classes."""
    params.check_known(request.args, ["f"])
    return _respond({"conformsTo": CONFORMANCE}, "ogc/conformance.html")


def _collection(cid: str) -> dict[str, Any]:
    sess = session()
    if cid == "plots":
        ext = sess.execute(
            select(func.ST_Extent(func.ST_Transform(Plot.geom, 4326)),
                   func.min(Plot.updated_at), func.max(Plot.updated_at))
            .where(Plot.published.is_(True), Plot.availability != "trukket")).one()
        box, t0, t1 = ext
        temporal = {"interval": [[t0.isoformat() if t0 else None,
                                  t1.isoformat() if t1 else None]],
                    "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    else:
        box = sess.execute(
            select(func.ST_Extent(func.ST_Transform(Municipality.geom, 4326)))).scalar_one()
        temporal = None
    bbox = _parse_box2d(box)
    body: dict[str, Any] = {
        "id": cid, **COLLECTIONS[cid], "itemType": "feature",
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84_URI}},
        "crs": CRS_LIST, "storageCrs": crs_uri(STORE_EPSG),
        "links": [
            _link("self", "ogc.collection", collection_id=cid),
            _link("alternate", "ogc.collection", "text/html", collection_id=cid, f="html"),
            _link("items", "ogc.items", "application/geo+json", collection_id=cid),
            _link("items", "ogc.items", "text/html", collection_id=cid, f="html"),
            *([_link(QUERYABLES_REL, "ogc.queryables", "application/schema+json",
                     "Queryables: the filters of the items", collection_id=cid)]
              if cid == "plots" else []),
            {"rel": "license", "type": "text/html",
             "href": "https://creativecommons.org/licenses/by/4.0/",
             "title": "CC BY 4.0 (reference data © Kartverket)"},
        ],
    }
    if temporal:
        body["extent"]["temporal"] = temporal
    return body


def _parse_box2d(box: str | None) -> list[float]:
    if not box:
        return [11.3, 59.8, 12.6, 60.9]
    inner = box[box.index("(") + 1: box.index(")")]
    (x0, y0), (x1, y1) = (map(float, p.split()) for p in inner.split(","))
    return [round(x0, 6), round(y0, 6), round(x1, 6), round(y1, 6)]


def _check_collection(cid: str) -> None:
    if cid not in COLLECTIONS:
        raise NotFound(key="err_no_collection", params={"value": cid[:100],
                                                         "listed": ", ".join(COLLECTIONS)},
                       field="collection", value=cid)


@bp.get("/collections")
def collections() -> Response | str:
    """All collections."""
    params.check_known(request.args, ["f"])
    body = {"links": [_link("self", "ogc.collections"),
                      _link("alternate", "ogc.collections", "text/html", f="html")],
            "collections": [_collection(c) for c in COLLECTIONS], "crs": CRS_LIST}
    return _respond(body, "ogc/collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response | str:
    """One collection."""
    _check_collection(collection_id)
    params.check_known(request.args, ["f"])
    return _respond(_collection(collection_id), "ogc/collection.html")


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response | str:
    """Features of a collection, filtered and paged."""
    _check_collection(collection_id)
    args = request.args.to_dict()
    if collection_id == "plots":
        params.check_known(args, PLOT_ITEM_PARAMS)
    else:
        params.check_known(args, MUNI_ITEM_PARAMS)
    srid = params.output_srid(args, "crs", ogc=True)
    bbox_crs = params.input_crs(args, "bbox-crs", ogc=True)
    limit, offset = params.page_limit(args, 10, MAX_LIMIT), params.page_offset(args)
    box = params.bbox(args)
    if collection_id == "plots":
        start, end = params.datetime_interval(args.get("datetime"))
        query = PlotQuery(
            kommuner=params.text_list(args, "kommunenummer"),
            availability=params.text_list(args, "availability"),
            purpose_groups=params.text_list(args, "purpose_group"),
            min_daa=params.number(args, "min_daa"), max_daa=params.number(args, "max_daa"),
            bbox=box, bbox_crs=bbox_crs, updated_after=start, updated_before=end,
            within_km=params.distance_limits(args), sort=["id"], limit=limit, offset=offset)
        query.reach_to, query.reach_within_min = params.parse_reach(args)
        if query.reach_to:
            from landreg.routing.filter import ensure_current

            ensure_current(session())
            session().commit()
        # The hot path: the features are PostgreSQL's bytes; only the envelope is Python's.
        page = search_plots_json(engine(), query, public=True, srid=srid)
        matched, returned = page.number_matched, page.number_returned
        features_json: bytes | None = page.features
        features: list = []
    else:
        features, matched = _municipality_features(box, bbox_crs, srid, limit, offset)
        features_json, returned = None, len(features)
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    links = (page_links("ogc.items", args, limit, offset, returned, matched,
                        collection_id=collection_id)
             + [_link("collection", "ogc.collection", collection_id=collection_id)])
    html = _wants_html()
    if features_json is not None and not html:
        return geojson_bytes_response([  # the keys in the order they always had
            b'{"type":"FeatureCollection","features":', features_json, b"".join((
                b',"numberMatched":%d,"numberReturned":%d,"timeStamp":' % (matched, returned),
                compact_json(stamp), b',"links":', compact_json(links), b"}"))], srid)
    if features_json is not None:
        features = json.loads(features_json)
    body = {
        "type": "FeatureCollection", "features": features,
        "numberMatched": matched, "numberReturned": returned, "timeStamp": stamp,
        "links": links,
    }
    if html:
        return render_template("ogc/items.html", body=body, collection_id=collection_id,
                               json=json)
    return geojson_response(body, srid)


#: The link relation of queryables (OGC API – Features Part 3).
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def plot_queryables(kommuner: list[str], targets: list[str]) -> dict[str, Any]:
    """The filters of the plot items as a JSON Schema (OGC API – Features Part 3 style): one
    property per filter, keyed by the query parameter that filters on it (``geometry`` for
    ``bbox``, ``updated_at`` for ``datetime``, the parameter itself for the others)."""
    from landreg.models import AVAILABILITY, PURPOSE_GROUPS
    from landreg.registry.distances import MAX_KM
    from landreg.registry.distances import PARAMS as KM
    from landreg.routing.filter import MAX_MINUTES
    from landreg.routing.filter import PARAMS as REACH

    def km(name: str) -> dict[str, Any]:
        return {"type": "number", "minimum": 0, "maximum": MAX_KM, "x-ogc-unit": "km",
                "description": KM[name], "x-landreg-parameter": name}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": external_url("ogc.queryables", collection_id="plots"),
        "type": "object", "title": COLLECTIONS["plots"]["title"],
        "description": "Filters of /ogc/collections/plots/items, each a query parameter "
                       "(x-landreg-parameter); several are combined with AND.",
        "properties": {
            "geometry": {"format": "geometry-multipolygon", "x-ogc-role": "primary-geometry",
                         "x-landreg-parameter": "bbox",
                         "description": "the plot's outline: bbox=minx,miny,maxx,maxy "
                                        "(bbox-crs, default CRS84) keeps plots meeting the box"},
            "updated_at": {"type": "string", "format": "date-time",
                           "x-ogc-role": "primary-instant", "x-landreg-parameter": "datetime",
                           "description": "last change: datetime=instant or interval a/b"},
            "kommunenummer": {"type": "string", "enum": kommuner,
                              "x-landreg-parameter": "kommunenummer",
                              "description": "kommune number; several comma-separated"},
            # withdrawn plots (trukket) are never published: not a value a reader can find
            "availability": {"type": "string",
                             "enum": [a for a in AVAILABILITY if a != "trukket"],
                             "x-landreg-parameter": "availability",
                             "description": "availability; several comma-separated"},
            "purpose_group": {"type": "string", "enum": list(PURPOSE_GROUPS),
                              "x-landreg-parameter": "purpose_group",
                              "description": "purpose group; several comma-separated"},
            "min_daa": {"type": "number", "minimum": 0, "x-ogc-unit": "daa",
                        "x-landreg-parameter": "min_daa",
                        "description": "area at least this many dekar (area_daa)"},
            "max_daa": {"type": "number", "minimum": 0, "x-ogc-unit": "daa",
                        "x-landreg-parameter": "max_daa",
                        "description": "area at most this many dekar (area_daa)"},
            "within_min": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_MINUTES,
                           "x-ogc-unit": "min", "x-landreg-parameter": "within_min",
                           "description": REACH["within_min"] + "; together with to"},
            "to": {"type": "string", "enum": targets, "x-landreg-parameter": "to",
                   "description": "destination of within_min (GET /api/destinations)"},
            **{name: km(name) for name in KM},
        },
        "additionalProperties": False,
    }


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response | str:
    """The filters a collection's items accept, as a JSON Schema (OGC API – Features Part 3):
    ``application/schema+json``, or a page when a browser asks (``f=html``)."""
    _check_collection(collection_id)
    params.check_known(request.args, ["f"])
    if collection_id != "plots":  # kommuner are filtered by bbox only
        body = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": external_url("ogc.queryables", collection_id=collection_id),
                "type": "object", "title": COLLECTIONS[collection_id]["title"],
                "properties": {"geometry": {
                    "format": "geometry-multipolygon", "x-ogc-role": "primary-geometry",
                    "x-landreg-parameter": "bbox", "description": "bbox=minx,miny,maxx,maxy"}},
                "additionalProperties": False}
    else:
        from landreg.routing.filter import known_targets

        kommuner = list(session().execute(select(Municipality.kommunenummer)
                                          .order_by(Municipality.kommunenummer)).scalars())
        body = plot_queryables(kommuner, known_targets())
    if _wants_html():
        return render_template("ogc/queryables.html", body=body, collection_id=collection_id)
    resp = Response(compact_json(body) + b"\n", mimetype="application/schema+json")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


def _municipality_features(box: tuple[float, float, float, float] | None, bbox_crs: int,
                           srid: int, limit: int, offset: int) -> tuple[list[dict], int]:
    from landreg.registry.search import _bbox_25833

    conds = []
    if box is not None:
        from geoalchemy2.shape import from_shape

        conds.append(func.ST_Intersects(
            Municipality.geom, from_shape(_bbox_25833(box, bbox_crs), STORE_EPSG)))
    sess = session()
    matched = sess.execute(select(func.count()).select_from(Municipality).where(*conds)
                           ).scalar_one()
    rows = sess.execute(
        select(Municipality.kommunenummer, Municipality.name, Municipality.kommunenummer_pre2020,
               func.ST_AsGeoJSON(func.ST_Transform(Municipality.geom, srid),
                                 6 if srid == 4326 else 1, 0))
        .where(*conds).order_by(Municipality.kommunenummer).limit(limit).offset(offset)).all()
    return [{"type": "Feature", "id": k, "geometry": json.loads(g),
             "properties": {"kommunenummer": k, "name": n, "kommunenummer_pre2020": old}}
            for k, n, old, g in rows], matched


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response | str:
    """One feature."""
    _check_collection(collection_id)
    args = request.args.to_dict()
    params.check_known(args, ["f", "crs"])
    srid = params.output_srid(args, "crs", ogc=True)
    links = [
        _link("self", "ogc.item", "application/geo+json", collection_id=collection_id,
              feature_id=feature_id),
        _link("collection", "ogc.collection", collection_id=collection_id),
    ]
    if collection_id == "plots":
        if not feature_id.isdigit() or len(feature_id) > 18:
            raise NotFound(key="err_no_plot", params={"id": feature_id[:100]},
                           field="featureId", value=feature_id)
        feature_json = fetch_one_json(engine(), int(feature_id), public=True, srid=srid)
        if not _wants_html():  # the hot path: PostgreSQL's bytes, with the links added
            return geojson_bytes_response(
                feature_json[:-1] + b',"links":' + compact_json(links) + b"}", srid)
        feature = json.loads(feature_json)
    else:
        found = [f for f in _municipality_features(None, 4326, srid, 10, 0)[0]
                 if f["id"] == feature_id]
        if not found:
            raise NotFound(key="err_no_kommune", params={"value": feature_id[:100]},
                           field="featureId", value=feature_id)
        feature = found[0]
    feature["links"] = links
    if _wants_html():
        return render_template("ogc/item.html", body=feature, collection_id=collection_id,
                               json=json)
    return geojson_response(feature, srid)
