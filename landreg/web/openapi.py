"""The OpenAPI 3.0 document of /api and /ogc, built from the same parameter tables the
endpoints use (``params.PLOT_PARAMS``, ``ogc.PLOT_ITEM_PARAMS``), so the two cannot drift."""

from __future__ import annotations

from typing import Any

from landreg import __version__
from landreg.models import AVAILABILITY, PURPOSE_GROUPS
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
    "bbox": {"type": "string", "description": "minx,miny,maxx,maxy"},
    "bbox-crs": {"type": "string", "enum": _CRS_ENUM},
    "near": {"type": "string", "description": "WKT point or line"},
    "near-crs": {"type": "string", "enum": _CRS_ENUM},
    "distance": {"type": "number", "minimum": 0},
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
    "kommunenummer": "kommunenummer, comma-separated", "limit": f"1–{MAX_LIMIT}, default 10",
}


def _param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": _SCHEMAS[name], "style": "form", "explode": False}


def _error() -> dict[str, Any]:
    return {"description": "Bad request: the message names the parameter",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _geojson(ref: str) -> dict[str, Any]:
    return {"application/geo+json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def openapi_document(server: str) -> dict[str, Any]:
    """The OpenAPI document, with ``server`` as its base URL ('/': relative to the document)."""
    plot_params = [{"$ref": f"#/components/parameters/{n}"} for n in PLOT_PARAMS]
    components_params = {n: _param(n, d) for n, d in PLOT_PARAMS.items()}
    ogc_plot = [_param(n, _OGC_DESCRIPTIONS.get(n, PLOT_PARAMS.get(n, n)))
                for n in PLOT_ITEM_PARAMS]
    ogc_muni = [_param(n, _OGC_DESCRIPTIONS.get(n, PLOT_PARAMS.get(n, n)))
                for n in MUNI_ITEM_PARAMS]
    not_found = {"description": "Not found", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    fmt = [_param("f", "response format")]
    return {
        "openapi": "3.0.3",
        "info": {"title": "landreg API", "version": __version__,
                 "description": "The shared business-land register of Glåmdalen: search API "
                                "and OGC API – Features. Published plots and public fields only.",
                 "license": {"name": "Data: CC BY 4.0 (© Kartverket for reference layers)"}},
        "servers": [{"url": server}],
        "paths": {
            "/api/plots": {"get": {
                "summary": "Search published plots", "operationId": "searchPlots",
                "parameters": plot_params,
                "responses": {"200": {"description": "Plots", "content": _geojson(
                    "FeatureCollection")}, "400": _error()}}},
            "/api/plots/{plotId}": {"get": {
                "summary": "One published plot", "operationId": "getPlot",
                "parameters": [{"name": "plotId", "in": "path", "required": True,
                                "schema": {"type": "integer"}},
                               {"$ref": "#/components/parameters/crs"}],
                "responses": {"200": {"description": "The plot", "content": _geojson(
                    "Feature")}, "400": _error(), "404": not_found}}},
            "/api/municipalities": {"get": {
                "summary": "The seven kommuner with plots and daa by availability and purpose "
                           "group", "operationId": "municipalities",
                "responses": {"200": {"description": "Totals", "content": {
                    "application/json": {"schema": {"type": "object", "required": [
                        "municipalities", "region"]}}}}}}},
            "/api/reference/{layer}": {"get": {
                "summary": "A reference layer (© Kartverket N1000)", "operationId": "reference",
                "parameters": [{"name": "layer", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": list(LAYERS)}}],
                "responses": {"200": {"description": "Features", "content": _geojson(
                    "FeatureCollection")}, "404": not_found}}},
            "/api/codes": {"get": {"summary": "Arealformål code list", "operationId": "codes",
                                   "responses": {"200": {"description": "Codes"}}}},
            "/ogc/": {"get": {"summary": "Landing page", "operationId": "landing",
                              "parameters": fmt, "responses": {"200": {"description": "OK"}}}},
            "/ogc/conformance": {"get": {"summary": "Conformance", "operationId": "conformance",
                                         "parameters": fmt,
                                         "responses": {"200": {"description": "OK"}}}},
            "/ogc/collections": {"get": {"summary": "Collections", "operationId": "collections",
                                         "parameters": fmt,
                                         "responses": {"200": {"description": "OK"}}}},
            "/ogc/collections/plots/items": {"get": {
                "summary": "Plot features", "operationId": "plotItems", "parameters": ogc_plot,
                "responses": {"200": {"description": "Features", "content": _geojson(
                    "FeatureCollection")}, "400": _error()}}},
            "/ogc/collections/municipalities/items": {"get": {
                "summary": "Kommune features", "operationId": "municipalityItems",
                "parameters": ogc_muni,
                "responses": {"200": {"description": "Features", "content": _geojson(
                    "FeatureCollection")}, "400": _error()}}},
        },
        "components": {
            "parameters": components_params,
            "schemas": {
                "Error": {"type": "object", "required": ["code", "description"],
                          "properties": {"code": {"type": "string"},
                                         "description": {"type": "string"},
                                         "field": {"type": "string"},
                                         "value": {}, "details": {"type": "object"}}},
                "Feature": {"type": "object", "required": ["type", "geometry", "properties"],
                            "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                           "id": {}, "geometry": {"type": "object"},
                                           "properties": {"type": "object"}}},
                "FeatureCollection": {
                    "type": "object", "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array",
                                     "items": {"$ref": "#/components/schemas/Feature"}},
                        "numberMatched": {"type": "integer"},
                        "numberReturned": {"type": "integer"},
                        "links": {"type": "array", "items": {"type": "object"}}}},
            },
        },
    }
