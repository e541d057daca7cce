"""Enquiries with a distance need (issue 12): "at most N km from the railway / E16/Rv2 …"
matches only plots the map's distance filter also finds (the same PostGIS measure)."""

from __future__ import annotations

from sqlalchemy import select

from landreg.db import get_engine, session_scope
from landreg.models import Enquiry
from tests.forum.test_enquiries import _post, app, cleanup  # noqa: F401 - fixtures


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
