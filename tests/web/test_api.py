"""The search API: filters, paging, public/internal split, OpenAPI, bad input."""

from __future__ import annotations

import pytest
from pyproj import Transformer

from landreg.web.params import PLOT_PARAMS


def test_plots_default_is_published_geojson_in_crs84(client, published_count):
    res = client.get("/api/plots?limit=1000")
    assert res.status_code == 200
    assert res.mimetype == "application/geo+json"
    body = res.get_json()
    assert body["numberMatched"] == published_count == body["numberReturned"]
    lon, lat = body["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 11 < lon < 13 and 59.5 < lat < 61


@pytest.mark.parametrize("query, check", [
    ("kommune=3416", lambda p: p["kommunenummer"] == "3416"),
    ("kommune=0420,3417", lambda p: p["kommunenummer"] in ("3416", "3417")),
    ("availability=ledig", lambda p: p["availability"] == "ledig"),
    ("purpose_group=industri,lager_logistikk",
     lambda p: p["purpose_group"] in ("industri", "lager_logistikk")),
    ("arealformal=1340,133", lambda p: p["arealformal"] in (1340, 133)),
    ("min_daa=50", lambda p: p["area_daa"] >= 50),
    ("max_daa=10", lambda p: p["area_daa"] <= 10),
    ("byggeklar=true", lambda p: p["road_access"] and p["water_sewer"]),
    ("byggeklar=false", lambda p: not (p["road_access"] and p["water_sewer"])),
    ("road_access=false", lambda p: p["road_access"] is False),
    ("water_sewer=true", lambda p: p["water_sewer"] is True),
    ("min_power_mw=10", lambda p: p["power_capacity_mw"] >= 10),
    ("q=Skotterud", lambda p: "Skotterud" in p["name"] + (p["description"] or "")),
])
def test_each_filter_narrows_correctly(client, query, check, published_count):
    body = client.get(f"/api/plots?limit=1000&{query}").get_json()
    assert 0 < body["numberMatched"] < published_count
    assert all(check(f["properties"]) for f in body["features"])


def test_bbox_and_near(client):
    x0, y0, x1, y1 = 11.95, 60.15, 12.05, 60.22  # around Kongsvinger
    body = client.get(f"/api/plots?limit=1000&bbox={x0},{y0},{x1},{y1}").get_json()
    assert body["numberMatched"] > 0
    for f in body["features"]:
        xs = [c[0] for c in f["geometry"]["coordinates"][0][0]]
        ys = [c[1] for c in f["geometry"]["coordinates"][0][0]]
        assert max(xs) >= x0 and min(xs) <= x1 and max(ys) >= y0 and min(ys) <= y1
    utm = client.get("/api/plots?limit=1000&bbox=330000,6670000,345000,6690000"
                     "&bbox-crs=25833").get_json()
    assert utm["numberMatched"] > 0
    near = client.get("/api/plots?near=POINT(12.0 60.19)&distance=3000&limit=1000").get_json()
    far = client.get("/api/plots?near=POINT(12.0 60.19)&distance=30000&limit=1000").get_json()
    assert 0 < near["numberMatched"] < far["numberMatched"]


def test_paging_links_walk_the_whole_result(client, published_count):
    seen, url, pages = [], "/api/plots?limit=25&sort=-area_daa", 0
    while url:
        body = client.get(url).get_json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
        pages += 1
    assert len(seen) == len(set(seen)) == published_count
    assert pages == -(-published_count // 25)


def test_round_trip_25833_vs_4326(client):
    f4326 = client.get("/api/plots?limit=1&sort=id").get_json()["features"][0]
    res = client.get(f"/api/plots/{f4326['id']}?crs=25833")
    assert res.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25833>"
    f25833 = res.get_json()
    tr = Transformer.from_crs(25833, 4326, always_xy=True)
    for (x, y), (lon, lat) in zip(f25833["geometry"]["coordinates"][0][0],
                                  f4326["geometry"]["coordinates"][0][0], strict=True):
        tlon, tlat = tr.transform(x, y)
        assert tlon == pytest.approx(lon, abs=2e-7) and tlat == pytest.approx(lat, abs=2e-7)


def test_public_never_sees_unpublished_plots_or_internal_fields(client, secret_plot):
    assert client.get(f"/api/plots/{secret_plot}").status_code == 404
    for url in ("/api/plots?limit=1000", "/api/plots?q=Hemmelig", "/api/municipalities",
                f"/ogc/collections/plots/items/{secret_plot}",
                "/ogc/collections/plots/items?limit=1000"):
        text = client.get(url).get_data(as_text=True)
        assert "INTERNAL-XYZZY" not in text and "Hemmelig tomt" not in text
        assert "internal_notes" not in text


def test_municipality_totals_add_up(client):
    body = client.get("/api/municipalities").get_json()
    ms = body["municipalities"]
    assert [m["kommunenummer"] for m in ms] == ["3401", "3414", "3415", "3416", "3417", "3418",
                                                 "3419"]
    plots = client.get("/api/plots?limit=1000").get_json()["features"]
    for m in ms:
        mine = [f["properties"] for f in plots if f["properties"]["kommunenummer"] ==
                m["kommunenummer"]]
        assert m["plots"] == len(mine)
        assert m["daa"] == pytest.approx(sum(p["area_daa"] for p in mine), abs=0.1)
        assert sum(b["plots"] for b in m["by_availability"].values()) == m["plots"]
        assert sum(b["plots"] for b in m["by_purpose_group"].values()) == m["plots"]
    assert body["region"]["plots"] == len(plots)


def test_reference_layers_and_codes(client):
    roads = client.get("/api/reference/roads").get_json()
    assert len(roads["features"]) == 632 and "Kartverket" in roads["attribution"]
    assert client.get("/api/reference/secrets").status_code == 404
    codes = {c["code"]: c for c in client.get("/api/codes").get_json()["codes"]}
    assert codes[1826]["purpose_group"] == "industri"


def test_openapi_document_is_valid_and_matches_the_endpoint(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/openapi.json").get_json()
    validate(doc)
    documented = {p["$ref"].rsplit("/", 1)[1] for p in doc["paths"]["/api/plots"]["get"][
        "parameters"]}
    assert documented == set(PLOT_PARAMS)
    samples = {"kommune": "3401", "availability": "ledig", "purpose_group": "industri",
               "arealformal": "1340", "min_daa": "1", "max_daa": "500", "byggeklar": "true",
               "road_access": "true", "water_sewer": "true", "min_power_mw": "0",
               "bbox": "11,59,13,61", "bbox-crs": "4326", "near": "POINT(12 60.2)",
               "near-crs": "4326", "distance": "100000", "q": "a", "sort": "-area_daa",
               "limit": "5", "offset": "0", "crs": "25833", "within_min": "90",
               "to": "gardermoen", "road_km": "5", "junction_km": "10", "rail_km": "5",
               "station_km": "10"}
    assert set(samples) | {"published"} == set(PLOT_PARAMS)
    # planners only: the public get a 400 that says so (tests/web/test_planner_status_filter)
    assert client.get("/api/plots?published=false").status_code == 400
    partner = {"near": "&distance=1000", "distance": "&near=POINT(12 60)",
               "within_min": "&to=oslo", "to": "&within_min=120"}  # parameters that go together
    for name, value in samples.items():
        extra = partner.get(name, "")
        res = client.get(f"/api/plots?{name}={value}{extra}")
        assert res.status_code == 200, (name, res.get_json())
    assert client.get("/api/plots?colour=red").status_code == 400
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/openapi.json" in page.data
    assert b"/vendor/swagger-ui-dist/swagger-ui-bundle.js" in page.data  # the browser test


@pytest.mark.parametrize("query, field", [
    ("bbox=1,2,3", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=12,61,11,60", "bbox"),
    ("crs=EPSG:3857", "crs"),
    ("crs=banana", "crs"),
    ("bbox-crs=EPSG:9999999&bbox=1,2,3,4", "bbox-crs"),
    ("limit=100000", "limit"),
    ("limit=-1", "limit"),
    ("min_daa=ten", "min_daa"),
    ("max_daa=NaN", "max_daa"),
    ("byggeklar=kanskje", "byggeklar"),
    ("sort=name;DROP TABLE plot", "sort"),
    ("kommune=3401' OR '1'='1", "kommune"),
    ("availability=ledig'--", "availability"),
    ("arealformal=1340);DELETE FROM plot;--", "arealformal"),
    ("near=POINT(12 60)&distance=-5", "distance"),
    ("near=SELECT 1&distance=5", "near"),
    ("bbox=330000,6670000,345000,6690000", "bbox"),  # metres without bbox-crs
    ("bbox=330000,6670000,345000,6690000&bbox-crs=urn:ogc:def:crs:EPSG::4326", "bbox"),
    ("q=abc%00def", "q"),
    ("offset=99999999999999999999", "offset"),
])
def test_bad_input_is_a_400_with_a_message(client, query, field):
    res = client.get(f"/api/plots?{query}")
    assert res.status_code == 400, res.get_data(as_text=True)
    body = res.get_json()
    assert body["field"] == field and body["description"]


def test_sql_looking_free_text_is_harmless(client, published_count):
    res = client.get("/api/plots?q=' OR 1=1; DROP TABLE plot; --")
    assert res.status_code == 200 and res.get_json()["numberMatched"] == 0
    assert client.get("/api/plots?limit=1000").get_json()["numberMatched"] == published_count


def test_unknown_plot_ids(client):
    assert client.get("/api/plots/99999999").status_code == 404
    assert client.get("/api/plots/abc").status_code == 404
    assert client.get("/api/plots/abc").get_json()["code"] == "not_found"


HOSTILE = ["' OR 1=1 --", "1; DROP TABLE plot", "%00", "\u0000", "99999999999999999999999",
           "-1e309", "NaN", "Infinity", ",,,", "3401,", "POINT(", "{\"a\": 1}", "../../etc"]


@pytest.mark.parametrize("name", sorted(PLOT_PARAMS))
def test_hostile_values_in_every_parameter_never_give_a_500(client, name):
    from urllib.parse import quote

    for value in HOSTILE:
        for url in (f"/api/plots?{name}={quote(value)}",
                    f"/api/rankings/logistics?{name}={quote(value)}"):
            res = client.get(url)
            assert res.status_code < 500, (url, res.get_data(as_text=True)[:200])
            if res.status_code >= 400:
                assert res.get_json()["description"]


def test_huge_ids_are_404_not_500(client):
    for url in ("/api/plots/99999999999999999999999", "/api/plots/99999999999999999999/scores",
                "/ogc/collections/plots/items/99999999999999999999999"):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_api_docs_page_says_in_the_pages_language_how_to_get_the_data(client, lang):
    """'Data og API' in the top bar led a Bokmål reader to an English-only page; now it says
    in the page's language how to get the data (GIS, download), then the developers' part."""
    body = client.get("/api/docs" + ("?lang=en" if lang == "en" else "")).get_data(as_text=True)
    if lang == "nb":
        assert "<h1>Data og API</h1>" in body and "Last ned registeret" in body
        assert "Machine-readable" not in body and "Writes need a login" not in body
        assert 'href="/ogc/?f=html"' in body
    else:
        assert "<h1>Data and API</h1>" in body and "Download the register" in body
        assert "Last ned" not in body and 'href="/ogc/?f=html&amp;lang=en"' in body
    assert 'href="/api/export?format=csv"' in body and 'data-spec-url="/api/openapi.json"' in body
