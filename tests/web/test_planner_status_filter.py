"""Planners find their unpublished and withdrawn plots on the map's search (issue 12); the
public never see them, and asking for them anonymously is a clear 400."""

from __future__ import annotations

from tests.web.conftest import login


def _ids(res) -> set[int]:
    assert res.status_code == 200, res.get_json()
    return {f["id"] for f in res.get_json()["features"]}


def test_public_never_see_unpublished_plots(client, secret_plot):
    assert secret_plot not in _ids(client.get("/api/plots?limit=1000"))
    res = client.get("/api/plots?published=false")
    assert res.status_code == 400
    assert "published" in res.get_json()["description"]
    assert "INTERNAL-XYZZY" not in client.get("/api/plots?limit=1000").get_data(as_text=True)


def test_a_planner_finds_unpublished_and_withdrawn_plots(app, accounts, secret_plot):
    web = app.test_client()
    login(web, accounts["kv"])
    unpublished = _ids(web.get("/api/plots?published=false&limit=1000"))
    assert secret_plot in unpublished
    published = _ids(web.get("/api/plots?published=true&limit=1000"))
    assert secret_plot not in published and published
    assert not unpublished & published
    res = web.get("/api/plots?availability=trukket&limit=1000")
    assert res.status_code == 200
    assert all(f["properties"]["availability"] == "trukket" for f in res.get_json()["features"])
    assert web.get("/api/plots?limit=1").headers["Cache-Control"].startswith("no-store") or \
        "private" in web.get("/api/plots?limit=1").headers.get("Cache-Control", "")


def test_the_map_offers_the_choices_to_planners_only(app, client, accounts):
    assert 'value="upublisert"' not in client.get("/map").get_data(as_text=True)
    web = app.test_client()
    login(web, accounts["kv"])
    html = web.get("/map").get_data(as_text=True)
    assert 'value="upublisert"' in html and 'value="trukket"' in html
