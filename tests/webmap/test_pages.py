"""The HTML pages and the vendor route, through the Flask test client."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


def test_map_page(client):
    res = client.get("/map")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "landreg-map.js" in html and "/vendor/leaflet/dist/leaflet.js" in html
    assert "Kongsvinger" in html and 'lang="nb"' in html
    assert "internal_notes" not in html
    # one scale bar, in metres and kilometres only
    assert "L.control.scale({imperial: false" in html and html.count("L.control.scale(") == 1
    en = client.get("/map?lang=en").get_data(as_text=True)
    assert "Business land in Glåmdalen" in en
    assert client.get("/").status_code == 302


def test_plot_page_public_facts_only(client):
    plot = client.get("/api/plots?limit=1&sort=id").get_json()["features"][0]
    res = client.get(f"/plots/{plot['id']}")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert plot["properties"]["name"] in html and "daa" in html
    assert "Intern merknad" not in html
    assert client.get("/plots/99999999").status_code == 404


def test_vendor_serves_only_the_front_end_packages(client):
    res = client.get("/vendor/leaflet/dist/leaflet.js")
    assert res.status_code == 200 and b"Leaflet" in res.data[:2000]
    res.close()
    assert client.get("/vendor/leaflet/../../../pyproject.toml").status_code == 404
    assert client.get("/vendor/lodash/package.json").status_code == 404
