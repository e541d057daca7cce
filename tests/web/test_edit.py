"""Planners change the register over HTTP: roles, kommune rights, CSRF, throttling, tokens,
optimistic locking and history — on real PostGIS, with the app's own transactions."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from shapely.geometry import mapping
from sqlalchemy import delete, func, select

from landreg.auth.users import add_user
from landreg.db import get_engine, session_scope
from landreg.models import Plot, User
from tests.helpers import INSIDE, reproject, square_25833
from tests.web.conftest import PASSWORD, login  # noqa: F401 - accounts is a fixture there
from tests.web.conftest import csrf_token as _csrf


def feature(k="3401", dx=0.0, side=100.0, **props):
    x, y = INSIDE[k]
    geom = reproject(square_25833(x + 2000 + dx, y + 1500, side), 25833, 4326)
    return {"properties": {"name": "Ny tomt", "arealformal": 1340, **props},
            "geometry": mapping(geom)}


def _count(database_url) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Plot)).scalar_one()


def test_public_cannot_write(client, database_url):
    before = _count(database_url)
    res = client.post("/api/plots", json=feature(), headers={"Authorization": "Bearer nope"})
    assert res.status_code == 401
    res = client.post("/api/plots", json=feature())  # no session: CSRF or login refuses
    assert res.status_code in (400, 401)
    assert _count(database_url) == before


def test_planner_creates_in_own_kommune_only(app, accounts, database_url):
    c = app.test_client()
    assert login(c, accounts["kv"]).status_code == 302
    token = _csrf(c)
    before = _count(database_url)
    ok = c.post("/api/plots", json=feature("3401"), headers={"X-CSRFToken": token})
    assert ok.status_code == 201, ok.get_json()
    plot = ok.get_json()["plot"]
    assert plot["properties"]["kommunenummer"] == "3401"
    assert plot["properties"]["area_daa"] == pytest.approx(10.0, abs=0.01)
    assert plot["properties"]["created_by"] == accounts["kv"]
    refused = c.post("/api/plots", json=feature("3417"), headers={"X-CSRFToken": token})
    assert refused.status_code == 403
    assert "may not edit plots in kommune 3417" in refused.get_json()["description"]
    assert _count(database_url) == before + 1


def test_csrf_is_required_for_cookie_sessions(app, accounts, database_url):
    c = app.test_client()
    login(c, accounts["kv"])
    before = _count(database_url)
    res = c.post("/api/plots", json=feature("3401", dx=300))
    assert res.status_code == 400 and res.get_json()["code"] == "csrf_failed"
    bad = c.post("/login", data={"username": accounts["kv"], "password": PASSWORD})
    assert bad.status_code == 400
    assert _count(database_url) == before


def test_token_auth_needs_no_csrf(client, accounts):
    res = client.post("/api/plots", json=feature("3401", dx=600),
                      headers={"Authorization": f"Bearer {accounts['token']}"})
    assert res.status_code == 201
    assert client.get("/api/me", headers={"Authorization": f"Bearer {accounts['token']}"}
                      ).get_json()["username"] == accounts["kv"]


def test_admin_edits_any_kommune_and_planner_not_others(app, accounts):
    admin, grue = app.test_client(), app.test_client()
    login(admin, accounts["admin"])
    login(grue, accounts["grue"])
    made = admin.post("/api/plots", json=feature("3401", dx=900),
                      headers={"X-CSRFToken": _csrf(admin)}).get_json()["plot"]
    res = grue.patch(f"/api/plots/{made['id']}", json={"properties": {"price_nok_m2": 1},
                                                       "version": 1},
                     headers={"X-CSRFToken": _csrf(grue)})
    assert res.status_code == 403
    res = admin.patch(f"/api/plots/{made['id']}", json={"properties": {"price_nok_m2": 250},
                                                        "version": 1},
                      headers={"X-CSRFToken": _csrf(admin)})
    assert res.status_code == 200 and res.get_json()["plot"]["properties"]["version"] == 2


def test_concurrent_edits_one_wins_one_409_nothing_lost(app, accounts):
    a, b = app.test_client(), app.test_client()
    login(a, accounts["kv"])
    login(b, accounts["kv"])
    ta, tb = _csrf(a), _csrf(b)
    made = a.post("/api/plots", json=feature("3401", dx=1200), headers={"X-CSRFToken": ta}
                  ).get_json()["plot"]
    pid = made["id"]

    def save(client, token, price):
        return client.patch(f"/api/plots/{pid}", json={"properties": {"price_nok_m2": price},
                                                       "version": 1},
                            headers={"X-CSRFToken": token})

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda args: save(*args), [(a, ta, 300), (b, tb, 400)]))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409]
    loser = next(r for r in results if r.status_code == 409).get_json()
    assert loser["details"] == {"expected_version": 1, "current_version": 2}
    winner = next(r for r in results if r.status_code == 200).get_json()["plot"]
    history = a.get(f"/api/plots/{pid}/history").get_json()["versions"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["attributes"]["price_nok_m2"] == winner["properties"]["price_nok_m2"]


def test_withdraw_restore_and_history(app, accounts):
    c = app.test_client()
    login(c, accounts["kv"])
    t = _csrf(c)
    pid = c.post("/api/plots", json=feature("3401", dx=1500), headers={"X-CSRFToken": t}
                 ).get_json()["plot"]["id"]
    assert c.post(f"/api/plots/{pid}/withdraw", json={"version": 1, "reason": "solgt"},
                  headers={"X-CSRFToken": t}).status_code == 200
    assert c.post(f"/api/plots/{pid}/restore", json={"version": 2},
                  headers={"X-CSRFToken": t}).status_code == 200
    versions = c.get(f"/api/plots/{pid}/history").get_json()["versions"]
    assert [v["changes"].get("availability", {}).get("to") for v in versions[1:]] == [
        "trukket", "ledig"]
    assert app.test_client().get(f"/api/plots/{pid}/history").status_code == 401


def test_bad_edits(app, accounts):
    c = app.test_client()
    login(c, accounts["kv"])
    t = _csrf(c)
    h = {"X-CSRFToken": t}
    assert c.post("/api/plots", data="not json", headers=h,
                  content_type="application/json").status_code == 400
    assert c.post("/api/plots", json={"properties": {"name": "x", "arealformal": 1340}},
                  headers=h).get_json()["field"] == "geometry"
    pid = c.post("/api/plots", json=feature("3401", dx=1800), headers=h).get_json()["plot"]["id"]
    assert c.patch(f"/api/plots/{pid}", json={"properties": {"price_nok_m2": 5}},
                   headers=h).get_json()["field"] == "version"
    bowtie = {"type": "Polygon", "coordinates": [[[12.0, 60.2], [12.01, 60.21], [12.01, 60.2],
                                                  [12.0, 60.21], [12.0, 60.2]]]}
    res = c.patch(f"/api/plots/{pid}", json={"geometry": bowtie, "version": 1}, headers=h)
    assert res.status_code == 400 and "self-intersection" in res.get_json()["description"]


def test_throttle_after_repeated_wrong_passwords(app, database_url):
    name = f"lock{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3416"], password=PASSWORD)
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.77.0.1"
    codes = [login(c, name, "wrong password").status_code for _ in range(5)]
    assert codes == [401] * 5
    throttled = login(c, name)
    assert throttled.status_code == 429 and "prøv igjen om" in throttled.get_data(as_text=True)
    assert int(throttled.headers["Retry-After"]) > 0
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.77.0.2"
    assert login(elsewhere, name).status_code == 302  # the owner is not locked out
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(User).where(User.username == name))


def test_restore_an_earlier_version_as_a_new_one(app, accounts):
    c = app.test_client()
    login(c, accounts["kv"])
    h = {"X-CSRFToken": _csrf(c)}
    made = c.post("/api/plots", json=feature("3401", dx=2100, price_nok_m2=100), headers=h
                  ).get_json()["plot"]
    pid = made["id"]
    moved = feature("3401", dx=2100, side=200)
    c.patch(f"/api/plots/{pid}", json={"geometry": moved["geometry"], "version": 1,
                                       "properties": {"price_nok_m2": 900}}, headers=h)
    res = c.post(f"/api/plots/{pid}/versions/1/restore", json={"version": 2}, headers=h)
    assert res.status_code == 200
    now = res.get_json()["plot"]["properties"]
    assert now["version"] == 3 and now["price_nok_m2"] == 100
    assert now["area_daa"] == pytest.approx(made["properties"]["area_daa"], abs=0.001)
    versions = c.get(f"/api/plots/{pid}/history").get_json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]  # nothing rewritten
    assert c.post(f"/api/plots/{pid}/versions/9/restore", json={"version": 3},
                  headers=h).status_code == 404


def test_expired_session_and_oversized_upload(settings, accounts):
    import time
    from datetime import timedelta

    from landreg.web import create_app

    short = create_app({"TESTING": True, "PERMANENT_SESSION_LIFETIME": timedelta(seconds=1)},
                       settings=settings)
    c = short.test_client()
    login(c, accounts["kv"])
    assert c.get("/api/me").get_json()["role"] == "planner"
    time.sleep(2.1)
    assert c.get("/api/me").get_json()["role"] == "public"  # the signed cookie has expired
    token = _csrf(c)
    assert c.post("/api/plots", json=feature("3401", dx=2400),
                  headers={"X-CSRFToken": token}).status_code == 401

    small = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 2048}, settings=settings)
    res = small.test_client().post(
        "/api/import", headers={"Authorization": f"Bearer {accounts['token']}"},
        data={"kommune": "3401", "file": (__import__("io").BytesIO(b"x" * 10_000), "a.geojson")})
    assert res.status_code == 413
    assert "større enn grensen" in res.get_json()["description"]  # nb: the default language
