"""The planning forum: comparisons and land accounts, against independent answers."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from landreg.db import get_engine, migrate, session_scope
from landreg.demo.load import load_municipalities
from landreg.forum.accounts import land_accounts, load_demand
from landreg.registry.plots import create_plot
from landreg.settings import REPO_ROOT, Settings
from tests.conftest import create_database, drop_database
from tests.helpers import INSIDE, plot_attrs, square_25833


@pytest.fixture
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


def test_comparison_matches_the_ranking_and_postgis_distances(client, database_url):
    top = client.get("/api/rankings/logistics?top=3").get_json()["items"]
    ids = [i["plot_id"] for i in top]
    res = client.get(f"/api/compare?profile=logistics&plots={','.join(map(str, ids))}")
    assert res.status_code == 200
    c = res.get_json()
    assert [p["id"] for p in c["plots"]] == ids
    assert [p["rank"] for p in c["plots"]] == [1, 2, 3]
    for row in c["criteria"]:
        for item, v in zip(top, row["values"], strict=True):
            b = next(b for b in item["breakdown"] if b["criterion"] == row["criterion"])
            assert v["raw"] == b["raw"] and v["contribution"] == b["contribution"]
        contribs = [v["contribution"] for v in row["values"]]
        if contribs.count(max(contribs)) == 1:
            assert row["best"] == contribs.index(max(contribs))
        else:
            assert row["best"] is None
    # distance to E16/Rv2 from the 200 m raster vs the vector distance in PostGIS
    road = next(r for r in c["distances"] if r["criterion"] == "dist_main_road")
    with get_engine(database_url).connect() as conn:
        for pid, raster_m in zip(ids, road["values"], strict=True):
            exact = conn.execute(text(
                "SELECT min(ST_Distance(p.geom, r.geom)) FROM plot p, reference_feature r "
                "WHERE p.id = :id AND r.layer = 'roads' AND ((r.properties->>'vegkategori' = 'E'"
                " AND (r.properties->>'vegnummer')::float = 16) OR (r.properties->>'vegkategori'"
                " = 'R' AND (r.properties->>'vegnummer')::float = 2))"), {"id": pid}).scalar_one()
            assert abs(raster_m - exact) <= 200 * 1.5  # within a cell diagonal at 200 m
    page = client.get(f"/compare?profile=logistics&plots={','.join(map(str, ids))}")
    assert page.status_code == 200 and b'class="best"' in page.data


@pytest.mark.parametrize("query, field", [
    ("plots=1", "plots"),
    ("plots=1,2,3,4,5,6,7", "plots"),
    ("plots=a,b", "plots"),
    ("plots=1,2&profile=nope", "profile"),
    ("plots=1,2&weights=slope:10", "weights"),
])
def test_bad_comparisons(client, query, field):
    res = client.get(f"/api/compare?{query}")
    assert res.status_code in (400, 404)
    assert res.get_json()["field"] == field


def test_land_accounts_by_hand():
    url = create_database("landreg_accounts")
    try:
        migrate(url)
        with session_scope(get_engine(url)) as s:
            load_municipalities(s, Settings().demo_gpkg)
            x, y = INSIDE["3401"]
            specs = [  # (side m, group code, availability, road, water)
                (100, 1340, "ledig", True, True),      # 10 daa industri, byggeklar
                (200, 1340, "ledig", False, False),    # 40 daa industri, not ready
                (100, 1350, "reservert", True, True),  # 10 daa lager
                (50, 1310, "solgt", True, True),       # 2.5 daa kontor
            ]
            for i, (side, code, avail, road, water) in enumerate(specs):
                create_plot(s, plot_attrs(arealformal=code, availability=avail,
                                          road_access=road, water_sewer=water),
                            square_25833(x + i * 400, y, side), 25833, user="t")
            demand = load_demand(REPO_ROOT / "layers" / "land_demand.yaml")
            acc = land_accounts(s, demand, None, public=False)
        ind = acc["region"]["industri"]
        assert ind["ledig"] == pytest.approx(50.0) and ind["byggeklar_free"] == pytest.approx(10)
        assert acc["region"]["lager_logistikk"]["reservert"] == pytest.approx(10.0)
        assert acc["region"]["kontor"]["solgt"] == pytest.approx(2.5)
        # 100 jobs × 25 % industri / 1.5 jobs per daa = 16.67 daa a year; 50 daa lasts 3 years
        assert acc["yearly_demand_daa"]["industri"] == pytest.approx(16.67, abs=0.01)
        assert ind["years_of_supply"] == pytest.approx(3.0, abs=0.05)
        kv = next(k for k in acc["kommuner"] if k["kommunenummer"] == "3401")
        assert kv["total_free_daa"] == pytest.approx(50.0)
        # per kommune: an equal seventh of the regional demand
        assert kv["groups"]["industri"]["years_of_supply"] == pytest.approx(50 / (16.667 / 7),
                                                                             abs=0.1)
    finally:
        drop_database(url)


def test_accounts_api_and_dashboard(client):
    body = client.get("/api/accounts").get_json()
    assert body["target_jobs_per_year"] == 100
    for k in body["kommuner"]:
        for cell in k["groups"].values():
            assert 0 <= cell["farmland_free"] <= cell["ledig"] + 1e-6
            assert 0 <= cell["flood_free"] <= cell["ledig"] + 1e-6
            assert cell["byggeklar_free"] <= cell["ledig"] + 1e-6
    page = client.get("/accounts")
    assert page.status_code == 200 and "Arealregnskap" in page.get_data(as_text=True)


def test_save_and_reopen_a_comparison(client, database_url):
    import uuid

    from sqlalchemy import delete

    from landreg.auth.users import add_user, create_token
    from landreg.models import Comparison, User

    name = f"forum{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3401"])
        token = create_token(s, name, "test")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        ids = [i["plot_id"] for i in
               client.get("/api/rankings/office?top=2").get_json()["items"]]
        body = {"name": "Planforum: kontor", "profile": "office", "plots": ids}
        assert client.post("/api/comparisons", json=body).status_code in (400, 401)
        res = client.post("/api/comparisons", json=body, headers=auth)
        assert res.status_code == 201
        saved = res.get_json()
        assert client.get("/api/comparisons").status_code == 401  # planners only
        assert client.get(saved["url"]).status_code == 401
        listed = client.get("/api/comparisons", headers=auth).get_json()["comparisons"]
        assert any(c["id"] == saved["id"] and c["plots"] == ids for c in listed)
        again = client.get(saved["url"], headers=auth)
        assert again.status_code == 302
        assert f"plots={ids[0]},{ids[1]}" in again.headers["Location"].replace("%2C", ",")
        bad = client.post("/api/comparisons", json={**body, "plots": ids[:1]}, headers=auth)
        assert bad.status_code == 400 and bad.get_json()["field"] == "plots"
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Comparison).where(Comparison.created_by == name))
            s.execute(delete(User).where(User.username == name))
