"""OGC API – Features: the plot collection's queryables (Part 3 style JSON Schema) list every
filter its items accept, and the items accept the distance filters (issues 10, 12, 13)."""

from __future__ import annotations

import pytest

from landreg.web.ogc import PLOT_ITEM_PARAMS, QUERYABLES_REL

#: Parameters of the items that are not filters (format, paging, CRSs).
NOT_FILTERS = {"f", "crs", "bbox-crs", "limit", "offset"}

#: A valid value for each filter parameter, to check the items take what queryables promise.
EXAMPLES = {"bbox": "11.5,60.0,12.5,60.5", "datetime": "2020-01-01T00:00:00Z/..",
            "kommunenummer": "3401", "availability": "ledig", "purpose_group": "industri",
            "min_daa": "1", "max_daa": "500", "within_min": "90", "to": "gardermoen",
            "road_km": "2", "junction_km": "5", "rail_km": "3", "station_km": "10"}


def _queryables(client) -> dict:
    res = client.get("/ogc/collections/plots/queryables")
    assert res.status_code == 200
    assert res.mimetype == "application/schema+json"
    return res.get_json(force=True)


def test_queryables_list_every_filter_the_items_accept(client):
    body = _queryables(client)
    assert body["$schema"].startswith("https://json-schema.org/")
    assert body["type"] == "object" and body["$id"].endswith("/ogc/collections/plots/queryables")
    listed = {q["x-landreg-parameter"] for q in body["properties"].values()}
    accepted = set(PLOT_ITEM_PARAMS) - NOT_FILTERS
    assert accepted - listed == set(), "filters the items accept but queryables do not list"
    assert listed - accepted == set(), "queryables the items would refuse"
    assert {"road_km", "junction_km", "rail_km", "station_km", "within_min", "to"} <= listed
    props = body["properties"]
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert "3401" in props["kommunenummer"]["enum"]
    assert "gardermoen" in props["to"]["enum"]
    assert props["road_km"]["type"] == "number" and props["road_km"]["maximum"] == 200


@pytest.mark.parametrize("param", sorted(set(PLOT_ITEM_PARAMS) - NOT_FILTERS))
def test_every_queryable_is_accepted_by_the_items(client, param):
    query = {param: EXAMPLES[param]}
    if param == "within_min":
        query["to"] = "gardermoen"
    if param == "to":
        query["within_min"] = "90"
    res = client.get("/ogc/collections/plots/items", query_string=query)
    assert res.status_code == 200, res.get_json()


def test_collection_links_its_queryables_and_html_is_offered(client):
    links = client.get("/ogc/collections/plots?f=json").get_json()["links"]
    q = [link for link in links if link["rel"] == QUERYABLES_REL]
    assert q and q[0]["type"] == "application/schema+json"
    assert q[0]["href"].endswith("/ogc/collections/plots/queryables")
    page = client.get("/ogc/collections/plots/queryables", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "road_km" in html and "within_min" in html
    assert client.get("/ogc/collections/plots/queryables?f=xml").status_code == 400
    muni = client.get("/ogc/collections/municipalities/queryables").get_json(force=True)
    assert set(muni["properties"]) == {"geometry"}
    assert client.get("/ogc/collections/nope/queryables").status_code == 404


@pytest.mark.parametrize(("kind", "km"), [("road", 1.0), ("junction", 3.0), ("rail", 1.0),
                                          ("station", 4.0)])
def test_distance_filters_on_the_items_match_the_search_api(client, kind, km):
    ogc = client.get(f"/ogc/collections/plots/items?{kind}_km={km}&limit=1000").get_json()
    api = client.get(f"/api/plots?{kind}_km={km}&limit=1000").get_json()
    assert {f["id"] for f in ogc["features"]} == {f["id"] for f in api["features"]}
    assert 0 < ogc["numberMatched"] == api["numberMatched"]
    every = client.get("/ogc/collections/plots/items?limit=1000").get_json()["numberMatched"]
    assert ogc["numberMatched"] < every


@pytest.mark.parametrize("query", ["rail_km=abc", "road_km=-1", "station_km=900"])
def test_a_bad_distance_on_the_items_is_a_400_naming_it(client, query):
    res = client.get(f"/ogc/collections/plots/items?{query}")
    assert res.status_code == 400
    assert query.split("=")[0] in res.get_json()["description"]


def test_queryables_are_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    assert "/ogc/collections/plots/queryables" in doc["paths"]
    names = {p["name"] for p in doc["paths"]["/ogc/collections/plots/items"]["get"]
             ["parameters"]}
    assert {"road_km", "junction_km", "rail_km", "station_km"} <= names
