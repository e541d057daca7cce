"""Enquiries with a distance need (issue 12): "at most N km from the railway / E16/Rv2 …"
matches only plots the map's distance filter also finds (the same PostGIS measure)."""

from __future__ import annotations

from sqlalchemy import select

from landreg.db import get_engine, session_scope
from landreg.models import Enquiry
from tests.forum.test_enquiries import _post, app, cleanup  # noqa: F401 - fixtures
from tests.web.conftest import accounts  # noqa: F401 - a fixture


def test_distance_need_narrows_the_matches_like_the_map(app, database_url, cleanup):  # noqa: F811
    c = app.test_client()
    res = _post(c, rail_km="2", road_km="1")
    assert res.status_code == 201
    with session_scope(get_engine(database_url)) as s:
        e = s.execute(select(Enquiry).order_by(Enquiry.id.desc())).scalars().first()
        matches = [m["plot_id"] for m in e.matches]
    ranking = c.get("/api/rankings/logistics?availability=ledig&rail_km=2&road_km=1").get_json()
    eligible = [i["plot_id"] for i in ranking["items"] if not i["excluded"]][:10]
    assert matches == eligible
    wider = c.get("/api/rankings/logistics?availability=ledig").get_json()
    assert len(ranking["items"]) < len(wider["items"])  # the need did narrow the search


def test_a_bad_distance_is_refused_clearly(app, cleanup):  # noqa: F811
    res = _post(app.test_client(), station_km="-3")
    assert res.status_code == 400
    assert "station_km" in res.get_data(as_text=True) or "Stasjon" in res.get_data(as_text=True)


def test_distance_needs_are_stored_and_shown_to_planners(  # noqa: F811 - fixtures
        app, database_url, accounts, cleanup):  # noqa: F811
    from tests.web.conftest import login

    c = app.test_client()
    res = _post(c, road_km="2.5", station_km="10", within_min="90", within_to="gardermoen")
    assert res.status_code == 201
    with session_scope(get_engine(database_url)) as s:
        e = s.execute(select(Enquiry).order_by(Enquiry.id.desc())).scalars().first()
        assert (e.road_km, e.junction_km, e.rail_km, e.station_km) == (2.5, None, None, 10.0)
        company = e.company
    planner = app.test_client()
    assert login(planner, accounts["kv"]).status_code == 302
    nb = planner.get("/enquiries").get_data(as_text=True)
    row = nb[nb.index(company):]
    row = row[:row.index("</tr>")]
    assert "Høyst 2,5 km i luftlinje fra E16/Rv2" in row  # label and number from the catalogue
    assert "Høyst 10 km i luftlinje fra en stasjon" in row
    assert "Innen 90 min kjøring fra Oslo lufthavn Gardermoen" in row
    assert "road_km" not in row and "2.5" not in row
    en = planner.get("/enquiries?lang=en").get_data(as_text=True)
    assert "At most 2.5 km in a straight line from E16/Rv2" in en
    api = planner.get("/api/enquiries").get_json()["enquiries"]
    mine = next(x for x in api if x["company"] == company)
    assert mine["road_km"] == 2.5 and mine["station_km"] == 10.0 and mine["rail_km"] is None
