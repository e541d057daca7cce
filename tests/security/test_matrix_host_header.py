"""Links never point where the Host header says (issue 9 #14, last point).

Replays: a request with ``Host: evil.example`` (or, behind a trusted proxy, with
``X-Forwarded-Host: evil.example``) used to get OGC API and OpenAPI links to
``http://evil.example/...`` — a cache in front of the app would then hand them to everyone.
Links now start with LANDREG_PUBLIC_URL, or with the request's own address only for a host in
LANDREG_ALLOWED_HOSTS, and are relative otherwise.
"""

from __future__ import annotations

import dataclasses

import pytest

from landreg.settings import Settings, parse_public_url
from landreg.web import create_app

LINKED = ["/ogc/", "/ogc/?f=html", "/ogc/collections", "/ogc/collections?f=html",
          "/ogc/collections/plots", "/ogc/collections/plots/items?limit=2",
          "/ogc/collections/municipalities/items?limit=2",
          "/ogc/collections/municipalities/items/3401", "/api/plots?limit=2",
          "/api/openapi.json", "/api/docs"]


def _hrefs(res) -> list[str]:
    body = res.get_json(silent=True) or {}
    links = list(body.get("links", []))
    for c in body.get("collections", []):
        links += c.get("links", [])
    return [link["href"] for link in links] + [s["url"] for s in body.get("servers", [])]


@pytest.mark.parametrize("path", LINKED)
def test_a_forged_host_is_never_echoed_in_links(client, path):
    res = client.get(path, headers={"Host": "evil.example"})
    assert res.status_code == 200
    assert b"evil.example" not in res.get_data()
    assert all(href.startswith("/") for href in _hrefs(res) if "opengis" not in href
               and "creativecommons" not in href)


def test_forwarded_host_behind_a_trusted_proxy_is_checked_too(settings):
    app = create_app({"TESTING": True}, settings=dataclasses.replace(settings,
                                                                     trusted_proxies=1))
    web = app.test_client()
    for path in ("/ogc/collections", "/api/openapi.json", "/api/plots?limit=1"):
        res = web.get(path, headers={"X-Forwarded-Host": "evil.example",
                                     "X-Forwarded-For": "192.0.2.1"})
        assert res.status_code == 200 and b"evil.example" not in res.get_data()


def test_the_configured_public_url_wins(settings):
    public = "https://landreg.glamdalen.example"
    app = create_app({"TESTING": True}, settings=dataclasses.replace(settings,
                                                                     public_url=public))
    web = app.test_client()
    for path in ("/ogc/", "/ogc/collections", "/api/plots?limit=1", "/api/openapi.json"):
        res = web.get(path, headers={"Host": "evil.example"})
        hrefs = [h for h in _hrefs(res) if "opengis" not in h and "creativecommons" not in h]
        assert hrefs and all(h.startswith(public + "/") or h == public for h in hrefs), hrefs
        assert b"evil.example" not in res.get_data()


def test_an_allowed_host_keeps_absolute_links(client):
    body = client.get("/ogc/collections", headers={"Host": "localhost:5000"}).get_json()
    assert body["links"][0]["href"] == "http://localhost:5000/ogc/collections"


@pytest.mark.parametrize("value", ["javascript:alert(1)", "landreg.example.org",
                                   "https://landreg.example.org/?x=1", "https://u:p@h.example",
                                   "ftp://landreg.example.org"])
def test_a_wrong_public_url_is_refused_at_start(value):
    from landreg.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        Settings.from_env({"LANDREG_PUBLIC_URL": value})


def test_public_url_and_allowed_hosts_from_the_environment():
    s = Settings.from_env({"LANDREG_PUBLIC_URL": "https://landreg.example.org/",
                           "LANDREG_ALLOWED_HOSTS": "Landreg.example.org, .kommune.example"})
    assert s.public_url == parse_public_url("https://landreg.example.org")
    assert s.public_url == "https://landreg.example.org"
    assert s.allowed_hosts == ("landreg.example.org", ".kommune.example")
