"""Drive times over HTTP: the plots filter (API, OGC, enquiries), destinations, isochrones."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import delete, select

from landreg.db import get_engine, session_scope
from landreg.models import Enquiry


@pytest.fixture(scope="module")
def app(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True, "LANDREG_EXPENSIVE_LIMIT": (3, 600)},
                      settings=settings)


@pytest.fixture
def client(app):
    return app.test_client()


def _minutes(client, **args) -> dict[int, dict]:
    res = client.get("/api/plots", query_string={"limit": 1000, **args})
    assert res.status_code == 200, res.get_json()
    return {f["id"]: f["properties"]["drive_min"] for f in res.get_json()["features"]}


def test_plots_carry_minutes_and_filter_by_them(client) -> None:
    _minutes(client, within_min=600, to="gardermoen")  # a drive-time search brings them up
    everyone = _minutes(client)
    assert everyone and all(set(m) >= {"gardermoen", "oslo", "alnabru", "junction", "station",
                                       "border"} for m in everyone.values())
    times = sorted(m["gardermoen"] for m in everyone.values())
    cut = times[len(times) // 2]
    near = _minutes(client, within_min=cut, to="gardermoen")
    assert near and len(near) < len(everyone)
    assert set(near) == {i for i, m in everyone.items() if m["gardermoen"] <= cut + 0.05}
    # the same filter as an OGC queryable
    ogc = client.get("/ogc/collections/plots/items", query_string={
        "within_min": cut, "to": "gardermoen", "limit": 1000}).get_json()
    assert {f["id"] for f in ogc["features"]} == set(near)


@pytest.mark.parametrize("args, field", [
    ({"within_min": "60"}, "to"),
    ({"to": "gardermoen"}, "within_min"),
    ({"within_min": "60", "to": "stockholm"}, "to"),
    ({"within_min": "soon", "to": "oslo"}, "within_min"),
    ({"within_min": "-5", "to": "oslo"}, "within_min"),
])
def test_bad_reach_filters_are_a_clear_400(client, args, field) -> None:
    for url in ("/api/plots", "/ogc/collections/plots/items"):
        res = client.get(url, query_string=args)
        assert res.status_code == 400, (url, args)
        assert res.get_json()["field"] == field


def test_destinations_and_isochrones(client) -> None:
    dest = client.get("/api/destinations").get_json()
    ids = {d["id"] for d in dest["destinations"]}
    assert {"gardermoen", "oslo", "alnabru", "junction", "station", "border"} <= ids
    assert "Kartverket" in dest["attribution"]
    ip = {"REMOTE_ADDR": f"10.76.{uuid.uuid4().int % 250}.3"}  # its own expensive budget
    res = client.get("/api/isochrones/oslo?minutes=30,60", environ_base=ip)
    assert res.status_code == 200 and res.mimetype == "application/geo+json"
    mins = [f["properties"]["minutes"] for f in res.get_json()["features"]]
    assert sorted(mins) == [30, 60]
    assert client.get("/api/isochrones/nowhere").status_code == 404
    assert client.get("/api/isochrones/oslo?minutes=15,abc").status_code == 400
    assert client.get("/api/isochrones/oslo?minutes=999").status_code == 400


def test_isochrone_computations_are_rate_limited_but_cached_answers_are_not(client) -> None:
    ip = {"REMOTE_ADDR": f"10.77.{uuid.uuid4().int % 250}.3"}
    codes = [client.get(f"/api/isochrones/border?minutes={m}", environ_base=ip).status_code
             for m in (11, 12, 13, 14)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert client.get("/api/isochrones/border?minutes=11", environ_base=ip).status_code == 200


def test_enquiry_matches_only_plots_within_the_drive_time(app, database_url) -> None:
    c = app.test_client()
    html = c.get("/enquiry").get_data(as_text=True)
    assert 'name="within_to"' in html and 'value="gardermoen"' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    everyone = _minutes(c, availability="ledig")
    cut = sorted(m["gardermoen"] for m in everyone.values())[len(everyone) // 2]
    company = f"TEST reach {uuid.uuid4().hex[:6]}"
    try:
        res = c.post("/enquiry", data={
            "company": company, "profile": "logistics", "email": "a@b.example",
            "consent": "true", "csrf_token": token, "within_min": str(cut),
            "within_to": "gardermoen"}, environ_base={"REMOTE_ADDR": "10.78.1.1"})
        assert res.status_code == 201
        with session_scope(get_engine(database_url)) as s:
            e = s.execute(select(Enquiry).where(Enquiry.company == company)).scalar_one()
            assert e.within_to == "gardermoen"
            matched = [m["plot_id"] for m in e.matches]
        assert all(everyone[i]["gardermoen"] <= cut + 0.05 for i in matched)
        bad = c.post("/enquiry", data={
            "company": company + "x", "profile": "logistics", "email": "a@b.example",
            "consent": "true", "csrf_token": token, "within_min": "30"},
            environ_base={"REMOTE_ADDR": "10.78.1.2"})
        assert bad.status_code == 400 and "within_min and to go together" in bad.get_data(
            as_text=True)
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Enquiry).where(Enquiry.company.like("TEST reach %")))


def test_plot_page_shows_the_minutes(client) -> None:
    pid, minutes = next(iter(_minutes(client).items()))
    html = client.get(f"/plots/{pid}").get_data(as_text=True)
    assert "Kjøretid (min)" in html and "Gardermoen " + str(round(minutes["gardermoen"])) in html
