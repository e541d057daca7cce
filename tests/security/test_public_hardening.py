"""Finding 15 (parts): /health named the database host; ``/?_method=POST`` was a 500; a saved
comparison with string weights answered 500 for ever; a huge OGC ``offset`` was a 500; and
``/vendor/leaflet/../rbush/…`` passed the package allowlist."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from landreg.db import get_engine, session_scope
from landreg.models import Comparison
from landreg.settings import Settings
from landreg.web import create_app


def test_probes_name_no_host_even_when_the_database_is_down(client):
    assert "127.0.0.1" not in client.get("/health").get_data(as_text=True)
    # a closed port on this machine: the connection is refused at once, nothing leaves it
    bad = Settings(database_url="postgresql+psycopg://secretuser@127.0.0.1:1/secretdb")
    web = create_app({"TESTING": True}, settings=bad).test_client()
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    assert web.get("/health", environ_overrides=remote).status_code == 200  # liveness
    res = web.get("/ready", environ_overrides=remote)
    assert res.status_code == 503
    text = res.get_data(as_text=True)
    assert "127.0.0.1" not in text and "secretdb" not in text and "secretuser" not in text


@pytest.mark.parametrize("name", ["_method", "_external", "_anchor", "_scheme"])
def test_url_for_keywords_in_the_query_are_only_text(client, name):
    res = client.get(f"/?{name}=POST")
    assert res.status_code == 302
    assert res.headers["Location"].startswith("/map?")


def test_saved_comparison_weights_are_parsed_on_save_and_read_robustly(client, accounts,
                                                                       database_url):
    auth = {"Authorization": f"Bearer {accounts['token']}"}
    ids = [i["plot_id"] for i in client.get("/api/rankings/office?top=2").get_json()["items"]]
    body = {"name": "Vekter som tekst", "profile": "office", "plots": ids}
    for weights in ({"slope": "heavy"}, "slope:abc", ["slope", 30]):
        res = client.post("/api/comparisons", headers=auth, json={**body, "weights": weights})
        assert res.status_code == 400 and res.get_json()["field"] == "weights", weights
    profile = client.get("/api/profiles").get_json()["profiles"]
    office = next(p for p in profile if p["id"] == "office")["weights"]
    text = ",".join(f"{k}:{v:g}" for k, v in office.items())
    ok = client.post("/api/comparisons", headers=auth, json={**body, "weights": text})
    assert ok.status_code == 201, ok.get_json()
    # a row written before the fix (or by hand) with string weights reopens as a 4xx
    with session_scope(get_engine(database_url)) as s:
        old = Comparison(name="Gammel", profile="office", weights={"slope": "30"},
                         plot_ids=ids, created_by=accounts["kv"])
        s.add(old)
        s.flush()
        old_id = old.id
    try:
        res = client.get(f"/compare/saved/{old_id}", headers=auth)
        assert res.status_code == 302
        assert client.get(res.headers["Location"], headers=auth).status_code == 400
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Comparison).where(Comparison.created_by == accounts["kv"]))


@pytest.mark.parametrize("collection", ["municipalities", "plots"])
@pytest.mark.parametrize("offset", ["99999999999999999999999", "9223372036854775808",
                                    "2147483648", "-1"])
def test_huge_ogc_offsets_are_a_400(client, collection, offset):
    res = client.get(f"/ogc/collections/{collection}/items?offset={offset}")
    assert res.status_code == 400
    assert res.get_json()["field"] == "offset"


def test_an_ogc_offset_past_the_end_is_an_empty_page(client):
    body = client.get("/ogc/collections/municipalities/items?offset=1000").get_json()
    assert body["features"] == [] and body["numberReturned"] == 0


@pytest.mark.parametrize("path", [
    "/vendor/leaflet/../rbush/package.json",
    "/vendor/leaflet/%2e%2e/rbush/package.json",
    "/vendor/leaflet%2f..%2frbush/package.json",
    "/vendor/leaflet/..%2frbush/package.json",
    "/vendor/@geoman-io/../rbush/package.json",
    "/vendor//etc/passwd",
    "/vendor/leaflet/../../../../etc/passwd",
    "/vendor/leaflet/..\\rbush/package.json",
    "/vendor/leaflet",
    "/vendor/rbush/package.json",
])
def test_vendor_serves_only_the_allowed_packages(client, path):
    res = client.get(path, follow_redirects=True)  # werkzeug merges "//" by a redirect
    assert res.status_code == 404, path
    assert b"rbush" not in res.data and b"root:" not in res.data


def test_vendor_still_serves_leaflet(client):
    assert client.get("/vendor/leaflet/dist/leaflet.js").status_code == 200
    assert client.get("/vendor/leaflet/./dist/leaflet.js").status_code == 200
