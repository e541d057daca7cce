"""The JSON search API under /api (its contract: /api/openapi.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from sqlalchemy import Connection

from landreg.ingest.crs import crs_uri
from landreg.registry.codes import arealformal_codes
from landreg.registry.reference import reference_collection
from landreg.registry.search import fetch_one_json, search_plots_json
from landreg.registry.stats import municipality_totals, region_totals
from landreg.web import params
from landreg.web.db import engine, session, settings
from landreg.web.links import base_url, external_url

bp = Blueprint("api", __name__)


def geojson_response(body: dict, srid: int) -> Response:
    """A GeoJSON response, with ``Content-Crs`` when not CRS84."""
    resp = jsonify(body)
    resp.mimetype = "application/geo+json"
    resp.headers["Content-Crs"] = f"<{crs_uri(srid)}>"
    return resp


@contextmanager
def one_statement() -> Iterator[Connection]:
    """A pooled connection in autocommit, for a read that is one statement (its own snapshot):
    no BEGIN before it and no ROLLBACK after it, two round trips fewer than a session."""
    with engine().connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def compact_json(value: Any) -> bytes:
    """``value`` as Flask's provider writes it in a response (compact, UTF-8, keys in order)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


#: Bodies up to this size are sent joined, in one write: each piece is a write of its own
#: (the server sends a WSGI body item by item), and on the loopback a write costs more than
#: copying a page of 100 features.
ONE_WRITE_MAX = 256 * 1024


def geojson_bytes_response(body: bytes | list[bytes], srid: int) -> Response:
    """:func:`geojson_response` for a body that is already GeoJSON bytes (written by
    PostgreSQL): sent as it is, with the newline Flask's ``jsonify`` ends with. A list of
    pieces is joined when small (:data:`ONE_WRITE_MAX`) and otherwise sent piece by piece (a
    1,000-feature page is ~1 MB: not copied to join it)."""
    pieces = [*body, b"\n"] if isinstance(body, list) else [body, b"\n"]
    if sum(map(len, pieces)) <= ONE_WRITE_MAX:
        pieces = [b"".join(pieces)]
    resp = Response(pieces, mimetype="application/geo+json")
    resp.headers["Content-Crs"] = f"<{crs_uri(srid)}>"
    return resp


def page_links(endpoint: str, args: dict[str, str], limit: int, offset: int, returned: int,
               matched: int, **view_args: object) -> list[dict[str, str]]:
    """self/next/prev links of a paged collection, keeping every other parameter."""

    base = external_url(endpoint, **view_args)
    rest = urlencode({k: v for k, v in args.items() if k != "offset"})  # once for all links

    def href(off: int) -> str:
        query = "&".join(q for q in (rest, f"offset={off}" if off else "") if q)
        return base + ("?" + query if query else "")

    links = [{"rel": "self", "type": "application/geo+json", "href": href(offset)}]
    if offset + returned < matched:
        links.append({"rel": "next", "type": "application/geo+json", "href": href(offset + limit)})
    if offset > 0:
        links.append({"rel": "prev", "type": "application/geo+json",
                      "href": href(max(offset - limit, 0))})
    return links


@bp.get("/plots")
def plots() -> Response:
    """Search published plots; GeoJSON FeatureCollection with paging links."""
    args = request.args.to_dict()
    params.check_known(args, params.PLOT_PARAMS)
    query = params.plot_query(args)
    srid = params.output_srid(args)
    from landreg.web.auth import current_principal

    # planners (session or token) also find unpublished and, when asked, withdrawn plots,
    # with the internal fields, as /api/plots/<id> gives them; the public never
    public = current_principal() is None
    if public and query.published is not None:
        from landreg.errors import InvalidInput

        raise InvalidInput("published is a filter for logged-in planners; the public see "
                           "published plots only", field="published")
    # The drive-time filter needs current minutes (issue 13). Without it the stored minutes are
    # shown: they are refreshed with the scores (every save answers with its score) and by
    # `landreg db prepare`. The freshness check hashes every plot's outline, so it is not run
    # on every search (at 20,000 plots it cost ~80 ms a request).
    if query.reach_to:
        from landreg.web.reach import ensure_current

        ensure_current(session(), settings().layers_dir)
        session().commit()
    page = search_plots_json(engine(), query, public=public, srid=srid, minutes=True)
    links = page_links("api.plots", args, query.limit, query.offset, page.number_returned,
                       page.number_matched)
    return geojson_bytes_response([  # the keys in the order they always had
        b'{"type":"FeatureCollection","numberMatched":%d,"numberReturned":%d,"features":'
        % (page.number_matched, page.number_returned),
        page.features, b',"links":' + compact_json(links) + b"}"], srid)


@bp.get("/plots/<int:plot_id>")
def plot(plot_id: int) -> Response:
    """One published plot as a GeoJSON Feature."""
    args = request.args.to_dict()
    params.check_known(args, ["crs"])
    srid = params.output_srid(args)
    from landreg.web.auth import current_principal

    public = current_principal() is None  # planners read unpublished plots and internal fields
    feature = fetch_one_json(engine(), plot_id, public=public, srid=srid)
    return geojson_bytes_response(feature, srid)


@bp.get("/municipalities")
def municipalities() -> Response:
    """The seven kommuner with plots and daa by availability and purpose group."""
    params.check_known(request.args, [])
    per = municipality_totals(session(), public=True)
    return jsonify({"municipalities": per, "region": region_totals(per)})


@bp.get("/reference/<layer>")
def reference(layer: str) -> Response:
    """A reference layer (roads, rail, stations, …) as GeoJSON in CRS84."""
    params.check_known(request.args, [])
    resp = geojson_response(reference_collection(session(), layer, simplify_m=20), 4326)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/codes")
def codes() -> Response:
    """The arealformål code list with names and purpose groups."""
    return jsonify({"codes": [
        {"code": c.code, "name_nb": c.nb, "name_en": c.en, "system": c.system,
         "purpose_group": c.group}
        for c in sorted(arealformal_codes().values(), key=lambda c: c.code)
    ]})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of /api and /ogc (every /api route: tests compare it with the
    app's URL map)."""
    from landreg.web.openapi import openapi_document

    resp = jsonify(openapi_document(base_url() or "/"))
    resp.mimetype = "application/vnd.oai.openapi+json;version=3.0"
    return resp


@bp.get("/docs")
def docs() -> str:
    """The interactive documentation of the OpenAPI document: Swagger UI from npm, served
    under /vendor/ (no CDN)."""
    return render_template("api_docs.html", title="landreg API",
                           spec_url=url_for("api.openapi"))
