"""Distance filters of the plot search (issue 12): ``road_km``, ``junction_km``, ``rail_km``,
``station_km`` on /api/plots, the rankings and the tiles, checked against PostGIS itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from landreg.registry import distances


def _ids(client, query: str) -> set[int]:
    res = client.get(f"/api/plots?limit=1000&{query}")
    assert res.status_code == 200, res.get_json()
    return {f["id"] for f in res.get_json()["features"]}


@pytest.fixture(scope="module")
def network_loaded(app):
    """The junctions are the drive-time network's target: load it once (as a search with a
    drive-time filter does)."""
    res = app.test_client().get("/api/plots?within_min=600&to=junction&limit=1")
    assert res.status_code == 200


@pytest.mark.parametrize(("kind", "km"), [("road", 1.0), ("junction", 3.0), ("rail", 1.0),
                                          ("station", 4.0)])
def test_filter_agrees_with_postgis_and_the_shown_distance(client, session, network_loaded,
                                                           kind, km):
    everything = client.get("/api/plots?limit=1000").get_json()["features"]
    expected = {r[0] for r in session.execute(text(
        "SELECT plot.id FROM plot WHERE plot.published AND plot.availability <> 'trukket' AND "
        + distances.within_sql(kind)), {f"{kind}_m": km * 1000}).all()}
    got = _ids(client, f"{kind}_km={km}")
    assert got == expected
    assert 0 < len(got) < len(everything), "the demo should split on this distance"
    # the distance each plot shows (dist_m) tells the same story as the filter
    for f in everything:
        shown = f["properties"]["dist_m"][kind]
        assert shown is not None
        assert (f["id"] in got) == (shown <= km * 1000 + 0.5), (f["id"], shown)


def test_filters_combine_and_apply_to_rankings_and_tiles(client, network_loaded):
    both = _ids(client, "rail_km=2&road_km=1")
    assert both == _ids(client, "rail_km=2") & _ids(client, "road_km=1")
    ranked = client.get("/api/rankings/logistics?rail_km=2&road_km=1").get_json()
    assert {i["plot_id"] for i in ranked["items"]} == both
    tile = client.get("/tiles/plots/9/272/146.mvt?rail_km=2")
    assert tile.status_code in (200, 204)


@pytest.mark.parametrize("query", ["rail_km=abc", "rail_km=-1", "station_km=900",
                                   "road_km=nan"])
def test_bad_distance_is_a_400_naming_the_parameter(client, query):
    res = client.get(f"/api/plots?{query}")
    assert res.status_code == 400
    body = res.get_json()
    assert query.split("=")[0] in body["description"]


def test_documented_in_openapi(client):
    doc = client.get("/api/openapi.json").get_json()
    names = {p["$ref"].rsplit("/", 1)[-1] for p in doc["paths"]["/api/plots"]["get"]["parameters"]
             if "$ref" in p}
    assert {"road_km", "junction_km", "rail_km", "station_km"} <= names
