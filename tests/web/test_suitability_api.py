"""Suitability over HTTP: profiles, plot scores, rankings with custom weights, candidates."""

from __future__ import annotations

import csv
import io

import pytest


def test_profiles_and_criteria(client):
    body = client.get("/api/profiles").get_json()
    ids = {p["id"] for p in body["profiles"]}
    assert {"logistics", "industry", "office", "wood_processing", "datacentre"} <= ids
    for p in body["profiles"]:
        assert sum(p["weights"].values()) == pytest.approx(100)
    slope = next(c for c in body["criteria"] if c["id"] == "slope")
    assert slope["approximate"] is True


def test_plot_scores_explain_themselves(client):
    pid = client.get("/api/plots?limit=1&sort=-area_daa").get_json()["features"][0]["id"]
    body = client.get(f"/api/plots/{pid}/scores").get_json()
    assert len(body["scores"]) == 5
    for s in body["scores"]:
        total = sum(b["contribution"] for b in s["breakdown"])
        assert total == pytest.approx(s["score"], abs=0.01)
        assert all({"raw", "unit", "normalised", "weight"} <= set(b) for b in s["breakdown"])


def test_ranking_filters_weights_and_csv(client):
    body = client.get("/api/rankings/logistics?kommune=3415").get_json()
    assert body["count"] > 0
    assert all(i["kommunenummer"] == "3415" for i in body["items"])
    eligible = [i for i in body["items"] if not i["excluded"]]
    assert [i["score"] for i in eligible] == sorted((i["score"] for i in eligible),
                                                    reverse=True)
    assert [i["rank"] for i in body["items"]] == list(range(1, body["count"] + 1))
    custom = client.get("/api/rankings/logistics?weights=slope:50,dist_rail:50").get_json()
    assert {b["criterion"] for b in custom["items"][0]["breakdown"]} == {"slope", "dist_rail"}
    res = client.get("/api/rankings/office?f=csv&top=5")
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    assert res.mimetype == "text/csv" and len(rows) == 5 and rows[0]["rank"] == "1"


def test_candidates_are_polygons_with_score_area_and_kommune(client):
    res = client.get("/api/candidates/logistics?threshold=90")
    assert res.status_code == 200
    fc = res.get_json()
    assert fc["features"]
    for f in fc["features"]:
        p = f["properties"]
        assert p["score"] >= 90 and p["area_daa"] >= 20
        assert p["kommunenummer"] in {"3401", "3414", "3415", "3416", "3417", "3418", "3419"}


def test_surface_overlay(client):
    meta = client.get("/api/surface/industry.json").get_json()
    (south, west), (north, east) = meta["bounds"]
    assert 59.5 < south < north < 61.5 and 11 < west < east < 13
    png = client.get("/api/surface/industry.png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("url, status, field", [
    ("/api/rankings/nope", 404, "profile"),
    ("/api/rankings/logistics?weights=slope:60", 400, "weights"),
    ("/api/rankings/logistics?weights=colour:100", 400, "weights"),
    ("/api/rankings/logistics?weights=slope", 400, "weights"),
    ("/api/rankings/logistics?min_daa=big", 400, "min_daa"),
    ("/api/candidates/logistics?threshold=150", 400, "threshold"),
    ("/api/candidates/logistics?threshold=abc", 400, "threshold"),
    ("/api/candidates/nope", 404, "profile"),
])
def test_bad_suitability_requests(client, url, status, field):
    res = client.get(url)
    assert res.status_code == status
    assert res.get_json()["field"] == field
