"""Finding 12 (first half): saved comparisons were public — names, authors and unpublished
plot ids. Listing and reopening are now for planners only, and the public /compare treats an
unpublished plot as one that does not exist."""

from __future__ import annotations

from sqlalchemy import delete

from landreg.db import get_engine, session_scope
from landreg.models import Comparison


def _public_ids(client) -> list[int]:
    return [i["plot_id"] for i in client.get("/api/rankings/office?top=2").get_json()["items"]]


def test_saved_comparisons_are_not_public(client, accounts, secret_plot, database_url):
    auth = {"Authorization": f"Bearer {accounts['token']}"}
    ids = _public_ids(client)
    res = client.post("/api/comparisons", headers=auth, json={
        "name": "Hemmelig forhandling", "profile": "office", "plots": [ids[0], secret_plot]})
    assert res.status_code == 201, res.get_json()
    saved = res.get_json()
    try:
        listing = client.get("/api/comparisons")
        assert listing.status_code in (401, 403)
        assert "Hemmelig" not in listing.get_data(as_text=True)
        page = client.get(saved["url"])
        assert page.status_code in (401, 403)
        assert str(secret_plot) not in page.headers.get("Location", "")
        # a planner still has them
        mine = client.get("/api/comparisons", headers=auth).get_json()["comparisons"]
        assert any(c["id"] == saved["id"] for c in mine)
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Comparison).where(Comparison.id == saved["id"]))


def test_public_compare_with_an_unpublished_plot_is_a_404(client, secret_plot):
    ids = _public_ids(client)
    for path in ("/api/compare", "/compare"):
        res = client.get(f"{path}?profile=office&plots={ids[0]},{secret_plot}")
        assert res.status_code == 404
        nowhere = client.get(f"{path}?profile=office&plots={ids[0]},999999")
        assert nowhere.status_code == 404
        assert "Hemmelig" not in res.get_data(as_text=True)
        assert "INTERNAL-XYZZY" not in res.get_data(as_text=True)
