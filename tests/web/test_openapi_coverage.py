"""The OpenAPI document covers every /api route of the app, and is a valid OpenAPI 3.0."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    """Flask's ``/api/plots/<int:plot_id>`` → OpenAPI's ``/api/plots/{plot_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app, client):
    doc = client.get("/api/openapi.json").get_json()
    routes = {(method.lower(), _openapi_path(rule.rule))
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - IGNORED_METHODS}
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops
                  if method in ("get", "post", "put", "patch", "delete")}
    assert len(routes) >= 25  # the test looks at the real URL map
    missing = sorted(routes - documented, key=lambda r: (r[1], r[0]))
    assert not missing, f"routes missing from /api/openapi.json: {missing}"
    stale = sorted(r for r in documented - routes if r[1].startswith("/api/"))
    assert not stale, f"documented but not routed: {stale}"


def test_every_documented_path_parameter_is_declared_and_every_ref_resolves(client):
    doc = client.get("/api/openapi.json").get_json()
    validate(doc)  # openapi-spec-validator: structure, $refs, path parameters
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if "name" in p
                        and p["in"] == "path"}
            assert declared == names, (method, path)
            assert op["responses"], (method, path)
            assert op.get("operationId"), (method, path)


def test_writes_declare_their_security_and_the_error_schema(client):
    doc = client.get("/api/openapi.json").get_json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["cookieSession"]["in"] == "cookie"
    assert schemes["bearerToken"]["scheme"] == "bearer"
    assert set(doc["components"]["schemas"]["Error"]["properties"]) == {
        "code", "description", "field", "value", "details"}
    for name in ("PlotFeature", "FeatureCollection", "Ranking", "ScoreBreakdown",
                 "Comparison", "Enquiry"):
        assert name in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in ("post", "patch") and path.startswith("/api/"):
                assert {"bearerToken": []} in op["security"], (method, path)
                assert "401" in op["responses"], (method, path)


def test_the_documented_error_shape_is_the_real_one(client):
    body = client.get("/api/plots?limit=ten").get_json()
    assert {"code", "description"} <= set(body) <= {"code", "description", "field", "value",
                                                     "details"}
