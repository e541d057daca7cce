"""Finding 5: unpublished plots leaked to the public — their outlines as holes in public
candidate areas, in ranks (rank 110 when 97 plots are public) and in /health's counts. Public
answers are now computed from, and ranked among, published plots only."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, shape
from sqlalchemy import delete, func, select

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.plots import create_plot
from landreg.web import create_app
from tests.helpers import plot_attrs

THRESHOLD = 70.0
USER = "test-unpublished-hole"


@pytest.fixture
def web(settings):
    app = create_app({"TESTING": True, "LANDREG_EXPENSIVE_LIMIT": (1000, 600)},
                     settings=settings)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.55"
    return client


def _utm(geom: shapely.Geometry) -> shapely.Geometry:
    tr = Transformer.from_crs(4326, 25833, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def _union_25833(body: dict) -> shapely.Geometry:
    return _utm(shapely.union_all([shape(f["geometry"]) for f in body["features"]]))


@pytest.fixture
def hidden_in_good_land(web, database_url):
    """An unpublished 600 m square in the middle of the largest public candidate area."""
    body = web.get(f"/api/candidates/logistics?threshold={THRESHOLD:g}").get_json()
    biggest = max(body["features"], key=lambda f: f["properties"]["area_daa"])
    area = _utm(shape(biggest["geometry"]))
    inner = area.buffer(-700)
    assert not inner.is_empty, "need a candidate area wide enough for a test plot"
    p = inner.representative_point()
    square = box(p.x - 300, p.y - 300, p.x + 300, p.y + 300)
    with session_scope(get_engine(database_url)) as s:
        pid = create_plot(s, plot_attrs(name="Skjult i god mark", published=False),
                          square, 25833, user=USER).plot["id"]
    yield pid, square
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.created_by == USER))


def test_public_candidates_have_no_hole_where_an_unpublished_plot_lies(web,
                                                                      hidden_in_good_land):
    _pid, square = hidden_in_good_land
    body = web.get(f"/api/candidates/logistics?threshold={THRESHOLD:g}").get_json()
    covered = _union_25833(body).intersection(square).area / square.area
    assert covered > 0.95  # the plot's outline is not cut out of public land
    listed = web.get(f"/api/rankings/logistics?candidates=true&threshold={THRESHOLD:g}")
    assert listed.status_code == 200


def test_public_ranks_run_1_to_n_over_published_plots(web, hidden_in_good_land, secret_plot,
                                                     database_url):
    hidden, _square = hidden_in_good_land
    with session_scope(get_engine(database_url)) as s:
        n_public = s.execute(select(func.count()).select_from(Plot).where(
            Plot.published.is_(True), Plot.availability != "trukket")).scalar_one()
    items = web.get("/api/rankings/logistics").get_json()["items"]
    assert [i["rank"] for i in items] == list(range(1, n_public + 1))
    assert {hidden, secret_plot}.isdisjoint(i["plot_id"] for i in items)
    last, first = items[-1], items[0]
    scores = web.get(f"/api/plots/{last['plot_id']}/scores").get_json()["scores"]
    mine = next(s for s in scores if s["profile"] == "logistics")
    assert mine["rank"] == n_public and mine["ranked_among"] == "published"
    table = web.get(f"/api/compare?profile=logistics&plots={first['plot_id']},"
                    f"{last['plot_id']}").get_json()
    assert [p["rank"] for p in table["plots"]] == [1, n_public]
    assert table["ranked_among"] == "published"
    assert web.get(f"/api/compare?profile=logistics&plots={first['plot_id']},{hidden}"
                   ).status_code == 404  # as if it did not exist


def test_health_counts_no_plots_and_names_no_host(web, secret_plot, settings):
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    for path in ("/health", "/ready"):
        res = web.get(path, environ_overrides=remote)
        text = json.dumps(res.get_json())
        assert res.status_code in (200, 503)
        assert "plots" not in text and "unpublished" not in text
        assert "127.0.0.1" not in text and "host" not in text
