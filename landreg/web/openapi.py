"""The OpenAPI 3.0 document of /api and /ogc, built from the same parameter tables the
endpoints use (``params.PLOT_PARAMS``, ``ogc.PLOT_ITEM_PARAMS``, ``suitability.RANK_PARAMS``,
the field lists of ``registry.fields``), so the two cannot drift. Every route of the app under
``/api`` is in it: ``tests/web/test_openapi_coverage.py`` compares it with the URL map."""

from __future__ import annotations

from typing import Any

from landreg import __version__
from landreg.models import AVAILABILITY, ENQUIRY_STATUS, PURPOSE_GROUPS
from landreg.registry.fields import EDITABLE_FIELDS, INTERNAL_FIELDS, PUBLIC_FIELDS
from landreg.registry.reference import LAYERS
from landreg.registry.search import MAX_LIMIT, SORT_KEYS
from landreg.web.ogc import MUNI_ITEM_PARAMS, PLOT_ITEM_PARAMS
from landreg.web.params import PLOT_PARAMS

_CRS_ENUM = ["4326", "25832", "25833", "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
             "http://www.opengis.net/def/crs/EPSG/0/4326",
             "http://www.opengis.net/def/crs/EPSG/0/25832",
             "http://www.opengis.net/def/crs/EPSG/0/25833"]

_SCHEMAS: dict[str, dict[str, Any]] = {
    "kommune": {"type": "string", "pattern": r"^\d{4}(,\d{4})*$"},
    "kommunenummer": {"type": "string", "pattern": r"^\d{4}(,\d{4})*$"},
    "availability": {"type": "string", "description": "comma list of " + ", ".join(AVAILABILITY)},
    "purpose_group": {"type": "string",
                      "description": "comma list of " + ", ".join(PURPOSE_GROUPS)},
    "arealformal": {"type": "string", "pattern": r"^\d+(,\d+)*$"},
    "min_daa": {"type": "number", "minimum": 0},
    "max_daa": {"type": "number", "minimum": 0},
    "byggeklar": {"type": "boolean"},
    "road_access": {"type": "boolean"},
    "water_sewer": {"type": "boolean"},
    "min_power_mw": {"type": "number", "minimum": 0},
    "within_min": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 600},
    "to": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,30}$"},
    "bbox": {"type": "string", "description": "minx,miny,maxx,maxy"},
    "bbox-crs": {"type": "string", "enum": _CRS_ENUM},
    "near": {"type": "string", "description": "WKT point or line"},
    "near-crs": {"type": "string", "enum": _CRS_ENUM},
    "distance": {"type": "number", "minimum": 0},
    # straight-line distance filters (landreg/registry/distances.py), in km
    "road_km": {"type": "number", "minimum": 0, "maximum": 200},
    "junction_km": {"type": "number", "minimum": 0, "maximum": 200},
    "rail_km": {"type": "number", "minimum": 0, "maximum": 200},
    "station_km": {"type": "number", "minimum": 0, "maximum": 200},
    "published": {"type": "boolean"},
    "q": {"type": "string", "maxLength": 200},
    "sort": {"type": "string", "description": "comma list of " + ", ".join(SORT_KEYS)
             + " (prefix - for descending)"},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    "offset": {"type": "integer", "minimum": 0},
    "crs": {"type": "string", "enum": _CRS_ENUM},
    "datetime": {"type": "string", "description": "RFC 3339 instant or interval a/b, ../b, a/.."},
    "f": {"type": "string", "enum": ["json", "html"]},
}
_OGC_DESCRIPTIONS = {
    "f": "response format", "datetime": "filter on the plot's last update (updated_at)",
    "kommunenummer": "kommunenummer, comma-separated",
    "limit": f"page size, default 10; above {MAX_LIMIT} it is clamped to {MAX_LIMIT} "
             "(OGC 17-069r4 Req. 22 C)",
}
_RANK_EXTRA = {
    "weights": ("criterion:weight pairs summing to 100, e.g. slope:30,dist_rail:70",
                {"type": "string", "pattern": r"^[a-z_]+:\d+(\.\d+)?(,[a-z_]+:\d+(\.\d+)?)*$"}),
    "f": ("csv for a spreadsheet; JSON otherwise", {"type": "string", "enum": ["json", "csv"]}),
    "top": ("only the best N (0 = all)", {"type": "integer", "minimum": 0, "maximum": 1000}),
    "candidates": ("true: add candidate areas (unzoned land) apart from the plots",
                   {"type": "boolean"}),
    "threshold": ("lowest score of a candidate area (default 90)",
                  {"type": "number", "minimum": 0, "maximum": 100}),
    "lang": ("nb or en: the language of the CSV's rank_label and selection columns",
             {"type": "string", "enum": ["nb", "en"]}),
}

_JSON = "application/json"
_WRITE_SECURITY = [{"cookieSession": [], "csrfToken": []}, {"bearerToken": []}]
_LOGIN_SECURITY = [{"cookieSession": []}, {"bearerToken": []}]
_READ_SECURITY = [{}, *_LOGIN_SECURITY]

_FIELD_TYPES: dict[str, dict[str, Any]] = {
    "id": {"type": "integer"}, "version": {"type": "integer"},
    "area_daa": {"type": "number"}, "power_capacity_mw": {"type": "number", "nullable": True},
    "price_nok_m2": {"type": "number", "nullable": True},
    "max_bya_pct": {"type": "number", "nullable": True},
    "max_height_m": {"type": "number", "nullable": True},
    "arealformal": {"type": "integer"},
    "road_access": {"type": "boolean", "nullable": True},
    "water_sewer": {"type": "boolean", "nullable": True},
    "byggeklar": {"type": "boolean"}, "published": {"type": "boolean"},
    "availability": {"type": "string", "enum": list(AVAILABILITY)},
    "purpose_group": {"type": "string", "enum": list(PURPOSE_GROUPS)},
    "updated_at": {"type": "string", "format": "date-time"},
    "created_at": {"type": "string", "format": "date-time"},
}


def _field(name: str) -> dict[str, Any]:
    return dict(_FIELD_TYPES.get(name, {"type": "string", "nullable": True}))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": _SCHEMAS[name], "style": "form", "explode": False}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "integer", "minimum": 1}}


def _content(schema: str | dict[str, Any], media: str = _JSON) -> dict[str, Any]:
    return {media: {"schema": _ref(schema) if isinstance(schema, str) else schema}}


def _ok(description: str, schema: str | dict[str, Any], media: str = _JSON) -> dict[str, Any]:
    return {"description": description, "content": _content(schema, media)}


def _errors(*codes: str) -> dict[str, Any]:
    text = {"400": "Bad input: the message names the parameter or field and its value",
            "401": "Not logged in: log in or send a bearer token",
            "403": "Not allowed (another kommune, or a missing CSRF token)",
            "404": "Not found", "409": "Stale version: both versions in details",
            "413": "Upload too large", "429": "Too many requests (Retry-After says when)"}
    return {c: {"description": text[c], "content": _content("Error")} for c in codes}


def _op(op_id: str, summary: str, responses: dict[str, Any], *,
        parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
        security: list[dict[str, list]] | None = None, tags: tuple[str, ...] = ("plots",),
        description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": list(tags),
                           "responses": responses}
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if body:
        out["requestBody"] = body
    if security is not None:
        out["security"] = security
    return out


def _json_body(schema: str, description: str) -> dict[str, Any]:
    return {"required": True, "description": description, "content": _content(schema)}


def _components() -> dict[str, Any]:
    public_props = {n: _field(n) for n in PUBLIC_FIELDS}
    internal_props = {n: _field(n) for n in INTERNAL_FIELDS}
    editable_props = {n: _field(n) for n in EDITABLE_FIELDS}
    obj = {"type": "object"}
    return {
        "securitySchemes": {
            "cookieSession": {"type": "apiKey", "in": "cookie", "name": "session",
                              "description": "The signed session cookie POST /login sets "
                                             "(planners and admins)."},
            "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                          "description": "Cookie-authenticated writes also send the CSRF "
                                         "token of the page (csrf_token in its forms)."},
            "bearerToken": {"type": "http", "scheme": "bearer",
                            "description": "An API token (`landreg users token NAME`); "
                                           "needs no CSRF token."},
        },
        "schemas": {
            "Error": {"type": "object", "required": ["code", "description"], "properties": {
                "code": {"type": "string", "description": "machine-readable kind"},
                "description": {"type": "string", "description": "what was wrong, for people"},
                "field": {"type": "string", "nullable": True},
                "value": {"nullable": True},
                "details": {"type": "object", "nullable": True}}},
            "Geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
                "type": {"type": "string",
                         "enum": ["Polygon", "MultiPolygon", "Point", "LineString",
                                  "MultiLineString", "MultiPoint"]},
                "coordinates": {"type": "array", "items": {}}}},
            "Link": {"type": "object", "required": ["href"], "properties": {
                "href": {"type": "string"}, "rel": {"type": "string"},
                "type": {"type": "string"}, "title": {"type": "string"}}},
            "Feature": {"type": "object", "required": ["type", "geometry", "properties"],
                        "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                       "id": {}, "geometry": _ref("Geometry"),
                                       "properties": obj}},
            "FeatureCollection": {
                "type": "object", "required": ["type", "features"], "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": _ref("Feature")},
                    "numberMatched": {"type": "integer"},
                    "numberReturned": {"type": "integer"},
                    "timeStamp": {"type": "string", "format": "date-time"},
                    "links": {"type": "array", "items": _ref("Link")}}},
            "PlotProperties": {"type": "object", "properties": {
                **public_props,
                "drive_min": {"type": "object", "additionalProperties": {
                    "type": "number", "nullable": True}, "description":
                    "/api/plots only: stored drive minutes per destination (see `to`)"},
                "dist_m": {"type": "object", "additionalProperties": {
                    "type": "integer", "nullable": True}, "description":
                    "/api/plots only: straight-line metres to road (E16/Rv2), junction, "
                    "rail and station (the `*_km` filters measure the same)"}},
                               "description": "Public fields; logged-in planners also get "
                                              + ", ".join(INTERNAL_FIELDS) + "."},
            "PlotInternalProperties": {"allOf": [_ref("PlotProperties"), {
                "type": "object", "properties": internal_props}]},
            "PlotFeature": {"type": "object", "required": ["type", "id", "geometry",
                                                           "properties"],
                            "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                           "id": {"type": "integer"},
                                           "geometry": _ref("Geometry"),
                                           "properties": _ref("PlotProperties")}},
            "PlotFeatureCollection": {"allOf": [_ref("FeatureCollection"), {
                "type": "object", "properties": {
                    "features": {"type": "array", "items": _ref("PlotFeature")}}}]},
            "PlotCreate": {"type": "object", "required": ["properties", "geometry"],
                           "properties": {
                               "properties": {"type": "object", "properties": editable_props,
                                              "required": ["name", "arealformal"]},
                               "geometry": _ref("Geometry"),
                               "crs": {"description": "CRS of the geometry (default CRS84)",
                                       "oneOf": [{"type": "integer"}, {"type": "string"}]},
                               "repair": {"type": "boolean",
                                          "description": "repair an invalid polygon"}}},
            "PlotUpdate": {"type": "object", "required": ["version"], "properties": {
                "version": {"type": "integer", "minimum": 1,
                            "description": "the version you edited (optimistic locking)"},
                "properties": {"type": "object", "properties": editable_props},
                "geometry": _ref("Geometry"),
                "crs": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                "repair": {"type": "boolean"}}},
            "VersionedAction": {"type": "object", "required": ["version"], "properties": {
                "version": {"type": "integer", "minimum": 1},
                "reason": {"type": "string", "description": "why (withdraw only)"}}},
            "SaveResult": {"type": "object", "required": ["plot", "warnings"], "properties": {
                "plot": {"allOf": [_ref("PlotFeature")]},
                "warnings": {"type": "array", "items": {"type": "string"}}}},
            "PlotHistory": {"type": "object", "properties": {
                "plot_id": {"type": "integer"},
                "versions": {"type": "array", "items": {"type": "object", "properties": {
                    "version": {"type": "integer"}, "operation": {"type": "string"},
                    "changed_by": {"type": "string", "nullable": True},
                    "changed_at": {"type": "string", "format": "date-time"},
                    "attributes": obj, "geometry": _ref("Geometry"),
                    "changes": {"type": "object", "additionalProperties": {
                        "type": "object", "properties": {"from": {}, "to": {}}}}}}}}},
            "ScoreBreakdown": {"type": "object", "properties": {
                "criterion": {"type": "string"}, "name_nb": {"type": "string"},
                "name_en": {"type": "string"},
                "raw": {"type": "number", "nullable": True}, "unit": {"type": "string"},
                "statistic": {"type": "string"},
                "normalised": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
                "weight": {"type": "number", "description": "%"},
                "contribution": {"type": "number", "description": "points"},
                "approximate": {"type": "boolean"}}},
            "Score": {"type": "object", "properties": {
                "profile": {"type": "string"}, "profile_name_nb": {"type": "string"},
                "profile_name_en": {"type": "string"},
                "score": {"type": "number", "minimum": 0, "maximum": 100},
                "rank": {"type": "integer"}, "excluded": {"type": "boolean"},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "incomplete": {"type": "array", "items": {"type": "string"}, "nullable": True},
                "breakdown": {"type": "array", "items": _ref("ScoreBreakdown")},
                "profile_version": {"type": "string"}, "layers_version": {"type": "string"}}},
            "PlotScores": {"type": "object", "properties": {
                "plot_id": {"type": "integer"},
                "scores": {"type": "array", "items": _ref("Score")}}},
            "RankingItem": {"type": "object", "properties": {
                "rank": {"type": "integer", "description": "1-based place within the "
                         "filtered selection (best first, excluded plots after the others)"},
                "region_rank": {"type": "integer", "nullable": True, "description":
                                "place with the same profile and weights among all published "
                                "plots that are ledig, reservert or under_forhandling; null "
                                "for a sold, built or withdrawn plot"},
                "plot_id": {"type": "integer"},
                "score": {"type": "number"}, "excluded": {"type": "boolean"},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "incomplete": {},
                "breakdown": {"type": "array", "items": _ref("ScoreBreakdown")},
                "name": {"type": "string"}, "kommunenummer": {"type": "string"},
                "kommunenavn": {"type": "string"}, "area_daa": {"type": "number"},
                "availability": {"type": "string"}, "arealformal": {"type": "integer"},
                "arealformal_name": {"type": "string"}, "byggeklar": {"type": "boolean"}}},
            "Ranking": {"type": "object",
                        "required": ["profile", "count", "region_count", "items"],
                        "properties": {
                            "profile": {"type": "string"},
                            "weights": {"type": "object", "nullable": True,
                                        "additionalProperties": {"type": "number"}},
                            "count": {"type": "integer", "description":
                                      "size of the filtered selection (before top)"},
                            "region_count": {"type": "integer", "description":
                                             "published plots on the market (ledig, "
                                             "reservert, under_forhandling)"},
                            "items": {"type": "array", "items": _ref("RankingItem")},
                            "candidates": {"type": "array", "items": obj}}},
            "Profiles": {"type": "object", "properties": {
                "profiles": {"type": "array", "items": obj},
                "criteria": {"type": "array", "items": obj},
                "layers_version": {"type": "string"},
                "catalogue_version": {"type": "string"}}},
            "Comparison": {"type": "object", "properties": {
                "profile": {"type": "string"}, "profile_name_nb": {"type": "string"},
                "profile_name_en": {"type": "string"},
                "weights": {"type": "object", "additionalProperties": {"type": "number"}},
                "plots": {"type": "array", "items": obj, "description": "facts, score, "
                          "rank (within the filters' selection) and region_rank per plot"},
                "count": {"type": "integer"}, "region_count": {"type": "integer"},
                "criteria": {"type": "array", "items": obj},
                "distances": {"type": "array", "items": obj},
                "settlement_note": {"type": "boolean", "description": "a row rests on N1000 "
                                    "settlement points standing in for missing built-up "
                                    "shapes (approximate near those places)"},
                "drive": {"type": "array", "items": obj,
                          "description": "drive minutes per destination"},
                "facts": {"type": "array", "items": obj}}},
            "ComparisonCreate": {"type": "object", "required": ["name", "profile", "plots"],
                                 "properties": {
                                     "name": {"type": "string", "maxLength": 200},
                                     "profile": {"type": "string"},
                                     "plots": {"type": "array", "minItems": 2, "maxItems": 6,
                                               "items": {"type": "integer"}},
                                     "weights": {"type": "object", "additionalProperties": {
                                         "type": "number"}}}},
            "SavedComparison": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "profile": {"type": "string"},
                "plots": {"type": "array", "items": {"type": "integer"}},
                "created_by": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "url": {"type": "string"}}},
            "Enquiry": {"type": "object", "properties": {
                "id": {"type": "integer"}, "company": {"type": "string"},
                "contact_name": {"type": "string", "nullable": True},
                "email": {"type": "string", "nullable": True},
                "phone": {"type": "string", "nullable": True}, "profile": {"type": "string"},
                "min_daa": {"type": "number", "nullable": True},
                "max_daa": {"type": "number", "nullable": True},
                "timing": {"type": "string", "nullable": True},
                "rail_needed": {"type": "boolean", "nullable": True},
                "power_mw": {"type": "number", "nullable": True},
                "within_min": {"type": "number", "nullable": True},
                "within_to": {"type": "string", "nullable": True},
                **{f"{k}_km": {"type": "number", "nullable": True,
                               "description": f"at most this many km from {k} (straight line)"}
                   for k in ("road", "junction", "rail", "station")},
                "message": {"type": "string", "nullable": True},
                "status": {"type": "string", "enum": list(ENQUIRY_STATUS)},
                "handled_by": {"type": "string", "nullable": True},
                "matches": {"type": "array", "items": obj, "nullable": True},
                "created_at": {"type": "string", "format": "date-time"}}},
            "EnquiryUpdate": {"type": "object", "properties": {
                "status": {"type": "string", "enum": list(ENQUIRY_STATUS)},
                "handled_by": {"type": "string"}}},
            "LandAccounts": {"type": "object", "properties": {
                "target_jobs_per_year": {"type": "number"}, "assumptions": obj,
                "yearly_demand_daa": {"type": "object",
                                      "additionalProperties": {"type": "number"}},
                "region": obj, "kommuner": {"type": "array", "items": obj},
                "per_kommune_rule": {"type": "string"}}},
            "Municipalities": {"type": "object", "required": ["municipalities", "region"],
                               "properties": {"municipalities": {"type": "array",
                                                                 "items": obj},
                                              "region": obj}},
            "Codes": {"type": "object", "properties": {"codes": {"type": "array", "items": {
                "type": "object", "properties": {
                    "code": {"type": "integer"}, "name_nb": {"type": "string"},
                    "name_en": {"type": "string"}, "system": {"type": "string"},
                    "purpose_group": {"type": "string"}}}}}},
            "ImportReport": {"type": "object", "properties": {
                "source": {"type": "string"}, "format": {"type": "string"},
                "layer": {"type": "string", "nullable": True},
                "crs": {"type": "string", "nullable": True}, "kommune": {"type": "string"},
                "mapping": {"type": "object", "additionalProperties": {"type": "string"}},
                "ignored_columns": {"type": "array", "items": {"type": "string"}},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "skipped_by_code": {"type": "object", "additionalProperties": {
                    "type": "integer"}, "description": "areas that are not business land, "
                                                       "per arealformål"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "applied": {"type": "boolean"}, "dry_run": {"type": "boolean"},
                "features": {"type": "array", "items": {"type": "object", "properties": {
                    "row": {"type": "integer"}, "action": {"type": "string"},
                    "external_ref": {"nullable": True}, "name": {"nullable": True},
                    "kommunenummer": {"nullable": True}, "plot_id": {"nullable": True},
                    "changes": {"type": "array", "items": {"type": "string"}},
                    "reasons": {"type": "array", "items": obj},
                    "warnings": {"type": "array", "items": {"type": "string"}}}}}}},
            "Me": {"type": "object", "required": ["role"], "properties": {
                "role": {"type": "string", "enum": ["public", "planner", "admin"]},
                "username": {"type": "string"},
                "kommuner": {"type": "array", "items": {"type": "string"}}}},
            "SurfaceMeta": {"type": "object", "properties": {
                "profile": {"type": "string"},
                "bounds": {"type": "array", "items": {"type": "array",
                                                      "items": {"type": "number"}},
                           "description": "[[south, west], [north, east]] in degrees"},
                "legend": {"type": "array", "items": {"type": "object", "properties": {
                    "from": {"type": "number"}, "to": {"type": "number"},
                    "colour": {"type": "string"}}}}}},
        },
    }


def openapi_document(server: str) -> dict[str, Any]:
    """The OpenAPI document, with ``server`` as its base URL ('/': relative to the document)."""
    plot_params = [{"$ref": f"#/components/parameters/{n}"} for n in PLOT_PARAMS]
    filter_params = [{"$ref": f"#/components/parameters/{n}"} for n in PLOT_PARAMS
                     if n not in ("sort", "limit", "offset", "crs")]
    components_params = {n: _param(n, d) for n, d in PLOT_PARAMS.items()}
    ogc_plot = [_param(n, _OGC_DESCRIPTIONS.get(n, PLOT_PARAMS.get(n, n)))
                for n in PLOT_ITEM_PARAMS]
    ogc_muni = [_param(n, _OGC_DESCRIPTIONS.get(n, PLOT_PARAMS.get(n, n)))
                for n in MUNI_ITEM_PARAMS]
    fmt = [_param("f", "response format")]
    plot_id = _path("plot_id", "the plot's id")
    profile = _path("profile", "a purpose profile id (GET /api/profiles)", {"type": "string"})
    weights = _query("weights", *_RANK_EXTRA["weights"])
    crs = {"$ref": "#/components/parameters/crs"}
    geojson = "application/geo+json"
    ogc = ("OGC API – Features",)
    suit = ("suitability",)
    forum = ("forum",)
    versioned = _json_body("VersionedAction", "the version you saw (and a reason)")
    ranking_params = filter_params + [_query(n, d, s) for n, (d, s) in _RANK_EXTRA.items()]
    comparison_params = [
        _query("profile", "purpose profile (default logistics)", {"type": "string"}),
        _query("plots", "2–6 plot ids, comma-separated",
               {"type": "string", "pattern": r"^\d+(,\d+){1,5}$"}),
        weights, _query("lang", "nb or en", {"type": "string", "enum": ["nb", "en"]}),
        *filter_params]  # the selection the ranks are counted in
    paths: dict[str, Any] = {
        "/api/plots": {
            "get": _op("searchPlots", "Search published plots",
                       {"200": _ok("Plots, paged", "PlotFeatureCollection", geojson),
                        **_errors("400")}, parameters=plot_params, security=_READ_SECURITY),
            "post": _op("createPlot", "Create a plot (planners of its kommune)",
                        {"201": _ok("The new plot (internal fields included)", "SaveResult"),
                         **_errors("400", "401", "403", "429")},
                        body=_json_body("PlotCreate", "GeoJSON-like plot"),
                        security=_WRITE_SECURITY)},
        "/api/plots/{plot_id}": {
            "get": _op("getPlot", "One published plot",
                       {"200": _ok("The plot", "PlotFeature", geojson),
                        **_errors("400", "404")}, parameters=[plot_id, crs]),
            "patch": _op("updatePlot", "Change a plot's attributes and/or geometry",
                         {"200": _ok("The saved plot", "SaveResult"),
                          **_errors("400", "401", "403", "404", "409")},
                         parameters=[plot_id], body=_json_body("PlotUpdate", "changes"),
                         security=_WRITE_SECURITY)},
        "/api/plots/{plot_id}/withdraw": {"post": _op(
            "withdrawPlot", "Withdraw a plot (availability trukket, unpublished; never deleted)",
            {"200": _ok("The withdrawn plot", "SaveResult"),
             **_errors("400", "401", "403", "404", "409")},
            parameters=[plot_id], body=versioned, security=_WRITE_SECURITY)},
        "/api/plots/{plot_id}/restore": {"post": _op(
            "restorePlot", "Undo a withdrawal",
            {"200": _ok("The restored plot", "SaveResult"),
             **_errors("400", "401", "403", "404", "409")},
            parameters=[plot_id], body=versioned, security=_WRITE_SECURITY)},
        "/api/plots/{plot_id}/versions/{version}/restore": {"post": _op(
            "restorePlotVersion", "Make an earlier version current again (as a new version)",
            {"200": _ok("The plot", "SaveResult"),
             **_errors("400", "401", "403", "404", "409")},
            parameters=[plot_id, _path("version", "the version to bring back")],
            body=versioned, security=_WRITE_SECURITY)},
        "/api/plots/{plot_id}/history": {"get": _op(
            "plotHistory", "Every version of a plot: who, when, what changed (planners)",
            {"200": _ok("Versions, oldest first", "PlotHistory"), **_errors("401", "404")},
            parameters=[plot_id], security=_LOGIN_SECURITY)},
        "/api/plots/{plot_id}/scores": {"get": _op(
            "plotScores", "A published plot's score for every profile, criterion by criterion",
            {"200": _ok("Scores with breakdown", "PlotScores"), **_errors("404")},
            parameters=[plot_id], tags=suit)},
        "/api/municipalities": {"get": _op(
            "municipalities", "The seven kommuner with plots and daa by availability and "
            "purpose group", {"200": _ok("Totals", "Municipalities"), **_errors("400")})},
        "/api/reference/{layer}": {"get": _op(
            "reference", "A reference layer (© Kartverket N1000)",
            {"200": _ok("Features in CRS84", "FeatureCollection", geojson),
             **_errors("400", "404")},
            parameters=[_path("layer", "layer name", {"type": "string", "enum": list(LAYERS)})])},
        "/api/codes": {"get": _op("codes", "Arealformål code list",
                                  {"200": _ok("Codes", "Codes")})},
        "/api/destinations": {"get": _op(
            "destinations", "Destinations drive times are measured to (Gardermoen, Oslo, "
            "Alnabru, nearest E16/Rv2 junction, station, border crossing)",
            {"200": _ok("Destinations with their points", {"type": "object"}),
             **_errors("400")}, tags=("drive times",))},
        "/api/isochrones/{destination}": {"get": _op(
            "isochrones", "Areas within N minutes' drive of a destination (N1000 roads, "
            "assumed speeds; cached, rate-limited when computed)",
            {"200": _ok("One polygon per minutes value, CRS84", "FeatureCollection", geojson),
             **_errors("400", "404", "429")},
            parameters=[_path("destination", "a destination id (GET /api/destinations)",
                              {"type": "string"}),
                        _query("minutes", "1–8 whole minutes, comma-separated (default "
                               "15,30,45,60; at most 180)", {"type": "string"})],
            tags=("drive times",))},
        "/api/export": {"get": _op(
            "exportPlots", "The (filtered) register as a file",
            {"200": {"description": "The file (attachment)", "content": {
                "application/geopackage+sqlite3": {"schema": {"type": "string",
                                                              "format": "binary"}},
                geojson: {"schema": _ref("FeatureCollection")},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}}}}, **_errors("400", "429")},
            parameters=filter_params + [crs, _query(
                "format", "file format (default gpkg)",
                {"type": "string", "enum": ["gpkg", "geojson", "fgb", "csv"]})],
            security=_READ_SECURITY,
            description="Without login: published plots and public fields only.")},
        "/api/import": {"post": _op(
            "importPlots", "Import a file for a kommune (dry run first, then all or nothing)",
            {"200": _ok("Dry run: what would happen, feature by feature", "ImportReport"),
             "201": _ok("Written", "ImportReport"),
             **_errors("400", "401", "403", "413", "429")},
            body={"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file", "kommune"], "properties": {
                    "file": {"type": "string", "format": "binary",
                             "description": "GeoPackage, GeoJSON, zipped Shapefile, "
                                            "FlatGeobuf, CSV, SOSI (.sos), plan GML …"},
                    "kommune": {"type": "string", "pattern": r"^\d{4}$"},
                    "crs": {"type": "string", "description": "when the file has none"},
                    "map": {"type": "array", "items": {"type": "string"},
                            "description": "field=column, repeated"},
                    "dry_run": {"type": "boolean", "default": True},
                    "lang": {"type": "string", "enum": ["nb", "en"], "default": "nb",
                             "description": "language of the messages"},
                    "allow_partial": {"type": "boolean", "default": False,
                                      "description": "write the valid features even if "
                                                     "some are rejected"}}}}}},
            security=_WRITE_SECURITY)},
        "/api/openapi.json": {"get": _op(
            "openapi", "This document", {"200": {"description": "OpenAPI 3.0", "content": {
                "application/vnd.oai.openapi+json;version=3.0": {"schema": {
                    "type": "object"}}}}}, tags=("meta",))},
        "/api/docs": {"get": _op(
            "apiDocs", "Interactive documentation of this document (HTML)",
            {"200": {"description": "HTML page", "content": {"text/html": {
                "schema": {"type": "string"}}}}}, tags=("meta",))},
        "/api/me": {"get": _op("me", "Who the caller is and which kommuner they may edit",
                               {"200": _ok("The caller", "Me")}, security=_READ_SECURITY,
                               tags=("meta",))},
        "/api/profiles": {"get": _op(
            "profiles", "Purpose profiles (weights, hard limits) and the criteria catalogue",
            {"200": _ok("Profiles and criteria", "Profiles")}, tags=suit)},
        "/api/rankings/{profile}": {"get": _op(
            "ranking", "Published plots best first for a profile (the /api/plots filters "
            "apply): rank within that selection, region_rank among plots on the market",
            {"200": {"description": "Ranking", "content": {
                **_content("Ranking"), "text/csv": {"schema": {"type": "string"}}}},
                **_errors("400", "404")},
            parameters=[profile] + ranking_params, tags=suit)},
        "/api/candidates/{profile}": {"get": _op(
            "candidates", "Candidate areas: connected unzoned land scoring at least the "
            "threshold", {"200": _ok("Areas in CRS84", "FeatureCollection", geojson),
                          **_errors("400", "404")},
            parameters=[profile, _query("threshold", *_RANK_EXTRA["threshold"]), weights],
            tags=suit)},
        "/api/surface/{profile}.png": {"get": _op(
            "surfacePng", "The suitability surface as a web-map overlay (PNG, EPSG:3857); "
            "bounds in the X-Bounds header",
            {"200": {"description": "PNG", "content": {"image/png": {"schema": {
                "type": "string", "format": "binary"}}}}, **_errors("400", "404")},
            parameters=[profile, weights], tags=suit)},
        "/api/surface/{profile}.json": {"get": _op(
            "surfaceMeta", "Bounds and legend of the overlay",
            {"200": _ok("Bounds and legend", "SurfaceMeta"), **_errors("400", "404")},
            parameters=[profile, weights], tags=suit)},
        "/api/compare": {"get": _op(
            "compare", "2–6 plots side by side for a profile",
            {"200": _ok("The comparison", "Comparison"), **_errors("400", "404")},
            parameters=comparison_params, security=_READ_SECURITY, tags=forum)},
        "/api/comparisons": {
            "get": _op("listComparisons", "Saved comparisons, newest first",
                       {"200": _ok("Saved comparisons", {"type": "object", "properties": {
                           "comparisons": {"type": "array",
                                           "items": _ref("SavedComparison")}}})},
                       tags=forum),
            "post": _op("saveComparison", "Save a comparison under a name (planners)",
                        {"201": _ok("Saved", "SavedComparison"),
                         **_errors("400", "401", "404")},
                        body=_json_body("ComparisonCreate", "what to save"),
                        security=_WRITE_SECURITY, tags=forum)},
        "/api/accounts": {"get": _op(
            "landAccounts", "Free land per kommune and purpose group, overlaps, demand and "
            "years of supply", {"200": _ok("Land accounts", "LandAccounts"), **_errors("400")},
            security=_READ_SECURITY, tags=forum)},
        "/api/enquiries": {"get": _op(
            "listEnquiries", "Every enquiry (planners only: contains contact data)",
            {"200": _ok("Enquiries", {"type": "object", "properties": {
                "enquiries": {"type": "array", "items": _ref("Enquiry")}}}),
             **_errors("401")}, security=_LOGIN_SECURITY, tags=forum)},
        "/api/enquiries/{enquiry_id}": {"patch": _op(
            "updateEnquiry", "Set status and/or handler of an enquiry (planners)",
            {"200": _ok("The enquiry", {"type": "object", "properties": {
                "id": {"type": "integer"}, "status": {"type": "string"},
                "handled_by": {"type": "string", "nullable": True}}}),
             **_errors("400", "401", "404")},
            parameters=[_path("enquiry_id", "the enquiry's id")],
            body=_json_body("EnquiryUpdate", "new status and/or handler"),
            security=_WRITE_SECURITY, tags=forum)},
        "/ogc/": {"get": _op("landing", "Landing page", {"200": {"description": "OK"}},
                             parameters=fmt, tags=ogc)},
        "/ogc/conformance": {"get": _op("conformance", "Conformance",
                                        {"200": {"description": "OK"}}, parameters=fmt,
                                        tags=ogc)},
        "/ogc/collections": {"get": _op("collections", "Collections",
                                        {"200": {"description": "OK"}}, parameters=fmt,
                                        tags=ogc)},
        "/ogc/collections/plots/items": {"get": _op(
            "plotItems", "Plot features",
            {"200": _ok("Features", "PlotFeatureCollection", geojson), **_errors("400")},
            parameters=ogc_plot, tags=ogc)},
        "/ogc/collections/plots/queryables": {"get": _op(
            "plotQueryables", "The filters of the plot features (OGC API – Features Part 3 "
            "queryables, a JSON Schema)",
            {"200": {"description": "JSON Schema", "content": {
                "application/schema+json": {"schema": {"type": "object"}},
                "text/html": {"schema": {"type": "string"}}}}},
            parameters=fmt, tags=ogc)},
        "/ogc/collections/municipalities/items": {"get": _op(
            "municipalityItems", "Kommune features",
            {"200": _ok("Features", "FeatureCollection", geojson), **_errors("400")},
            parameters=ogc_muni, tags=ogc)},
    }
    components = _components()
    components["parameters"] = components_params
    return {
        "openapi": "3.0.3",
        "info": {"title": "landreg API", "version": __version__,
                 "description": "The shared business-land register of Glåmdalen: search API, "
                                "planners' writes and OGC API – Features. Without login: "
                                "published plots and public fields only.",
                 "license": {"name": "Data: CC BY 4.0 (© Kartverket for reference layers)"}},
        "servers": [{"url": server}],
        "security": [{}],
        "tags": [{"name": "plots"}, {"name": "suitability"}, {"name": "forum"},
                 {"name": "meta"}, {"name": "OGC API – Features"}, {"name": "drive times"}],
        "paths": paths,
        "components": components,
    }
