"""Finding 14 (headers): every route of the app, for the public, a session and a token.

Every GET route in the app's URL map is requested with sample arguments (a route with an
argument this test does not know fails the test, so a new route cannot be forgotten). Each
answer — 200, 302, 404 alike — must carry nosniff, DENY, a Referrer-Policy and a CSP with
``frame-ancestors 'none'``; answers to a session or a token must not be stored by a cache,
and public answers must say they vary by Cookie.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

#: A sample value for every URL argument of the app.
SAMPLE_ARGS = {"profile": "logistics", "layer": "roads", "comparison_id": 1,
               "collection_id": "plots", "version": 1, "enquiry_id": 1,
               "destination": "gardermoen",
               "z": 9, "x": 273, "y": 148}  # a vector tile over Glåmdalen
SAMPLE_FILES = {"static": "landreg.css", "pages.vendor": "leaflet/dist/leaflet.js"}
STATIC = {"static", "pages.vendor"}


def sample_urls(app: Flask, plots: list[int]) -> Iterator[tuple[str, str]]:
    """(endpoint, url) for every GET route, with sample arguments; the OGC routes also with
    ``f=html`` and the comparison routes with two plots."""
    pair = ",".join(map(str, plots[:2]))
    query = {"forum.compare_page": {"profile": "logistics", "plots": pair},
             "forum.compare_export": {"profile": "logistics", "plots": pair},
             "forum.compare_pdf": {"profile": "logistics", "plots": pair},
             "forum.compare_api": {"profile": "logistics", "plots": pair},
             "edit.export": {"format": "csv"}}
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods:
                continue
            values: dict = dict(query.get(rule.endpoint, {}))
            for arg in rule.arguments:
                if arg in ("plot_id", "feature_id"):
                    values[arg] = plots[0]
                elif arg == "filename":
                    values[arg] = SAMPLE_FILES[rule.endpoint]
                else:
                    assert arg in SAMPLE_ARGS, f"no sample value for <{arg}> of {rule.rule}"
                    values[arg] = SAMPLE_ARGS[arg]
            yield rule.endpoint, url_for(rule.endpoint, **values)
            if rule.endpoint.startswith("ogc."):
                yield rule.endpoint, url_for(rule.endpoint, **values, f="html")


@pytest.fixture(scope="module")
def published(app) -> list[int]:
    """Two published plots."""
    feats = app.test_client().get("/api/plots?limit=2").get_json()["features"]
    return [f["id"] for f in feats]


def _check_common(url: str, res) -> None:
    h = res.headers
    assert h.get("X-Content-Type-Options") == "nosniff", url
    assert h.get("X-Frame-Options") == "DENY", url
    assert h.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "same-origin"), url
    csp = h.get("Content-Security-Policy", "")
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'",
                      "script-src 'nonce-"):
        assert directive in csp, (url, csp)


def _get_all(app, web: FlaskClient, plots: list[int], **kw) -> list[tuple[str, str, object]]:
    out = []
    for endpoint, url in sample_urls(app, plots):
        res = web.get(url, **kw)
        assert res.status_code < 500, (url, res.status_code)
        out.append((endpoint, url, res))
    return out


def test_public_answers_carry_the_headers_and_vary_by_cookie(app, client, published):
    answers = _get_all(app, client, published)
    assert len(answers) > 45
    for endpoint, url, res in answers:
        _check_common(url, res)
        if endpoint not in STATIC:
            assert "cookie" in {v.lower() for v in res.vary}, url


def test_answers_to_a_session_are_not_stored(app, accounts, logged_in, published):
    web = logged_in(accounts["admin"])
    for endpoint, url, res in _get_all(app, web, published):
        _check_common(url, res)
        if endpoint not in STATIC:
            assert "no-store" in res.headers.get("Cache-Control", ""), url


def test_answers_to_a_token_are_not_stored(app, client, accounts, published):
    auth = {"Authorization": f"Bearer {accounts['token']}"}
    for endpoint, url, res in _get_all(app, client, published, headers=auth):
        _check_common(url, res)
        if endpoint not in STATIC:
            assert "no-store" in res.headers.get("Cache-Control", ""), url


def test_error_answers_carry_the_headers_too(client):
    for url in ("/no-such-page", "/api/plots/999999999", "/plots/999999999",
                "/api/plots?limit=abc"):
        res = client.get(url)
        assert 400 <= res.status_code < 500, url
        _check_common(url, res)
