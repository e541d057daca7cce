"""Stored plot distances (issue 10): ``plot_distance`` holds each plot's metres to E16/Rv2, the
nearest junction, the railway and the nearest station. It must equal the exact ``ST_Distance``,
follow every edit and every reload of the reference layers, and a search must never show,
drop or include a plot by a distance that is not current."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import mapping
from sqlalchemy import text

from landreg.registry import distances
from landreg.registry.search import PlotQuery, search_plots_json
from tests.helpers import INSIDE, reproject, square_25833
from tests.web.conftest import csrf_token, login  # noqa: F401 - accounts is a fixture there

#: Each kind's features, for the exact distance by brute force (no index, no KNN).
_EXACT = {kind: f"(SELECT min(ST_Distance(s.geom, plot.geom)) FROM {src})"  # noqa: S608
          for kind, src in distances._SOURCES.items()}


@pytest.fixture(scope="module")
def network_loaded(app):
    """The junctions are the drive-time network's target: load it once (a search with a
    drive-time filter does)."""
    assert app.test_client().get("/api/plots?within_min=600&to=junction&limit=1"
                                 ).status_code == 200


def _stored(session, plot_id: int | None = None) -> dict[int, dict]:
    """The current stored rows (by plot id)."""
    where = " AND plot.id = :id" if plot_id is not None else ""
    rows = session.execute(text(
        "SELECT plot.id, d.road, d.junction, d.rail, d.station FROM plot "  # noqa: S608
        f"JOIN plot_distance d ON {distances._current_sql()}{where}"),
        {"id": plot_id}).mappings().all()
    return {r["id"]: {k: r[k] for k in distances.KINDS} for r in rows}


def _exact(session, plot_id: int | None = None) -> dict[int, dict]:
    where = " WHERE plot.id = :id" if plot_id is not None else ""
    rows = session.execute(text(
        "SELECT plot.id, " + ", ".join(f"{_EXACT[k]} AS {k}" for k in distances.KINDS)
        + f" FROM plot{where}"), {"id": plot_id}).mappings().all()  # noqa: S608
    return {r["id"]: {k: r[k] for k in distances.KINDS} for r in rows}


def _page(session, **query) -> dict[int, dict]:
    """Features of a planner's search (every plot), by id."""
    page = search_plots_json(session, PlotQuery(limit=1000, include_withdrawn=True, **query),
                             public=False, minutes=True)
    return {f["id"]: f for f in json.loads(page.features)}


def test_every_stored_distance_is_the_exact_st_distance(session, network_loaded):
    distances.refresh(session)
    stored, exact = _stored(session), _exact(session)
    assert stored.keys() == exact.keys() and len(stored) >= 80
    assert stored == exact  # float for float, NULL where a layer is empty
    assert all(v is not None for d in stored.values() for v in d.values())


def test_shown_dist_m_is_byte_identical_stored_or_computed(session, network_loaded):
    distances.refresh(session)
    ids = session.execute(text("SELECT id FROM plot ORDER BY id")).scalars().all()
    sql = (f"SELECT plot.id, {distances.JSON_SQL}, {distances.LIVE_JSON_SQL} "  # noqa: S608
           "FROM plot ORDER BY plot.id")
    rows = session.execute(text(sql)).all()
    assert [r[0] for r in rows] == ids
    assert all(stored == live for _, stored, live in rows)
    # and the search's dist_m is the stored row
    shown = _page(session)
    for pid, d in _stored(session).items():
        assert shown[pid]["properties"]["dist_m"] == {k: round(v) for k, v in d.items()}


def test_a_moved_plot_has_its_new_distances_before_the_next_search(app, accounts,
                                                                    database_url):
    from landreg.db import get_engine

    engine = get_engine(database_url)
    c = app.test_client()
    assert login(c, accounts["kv"]).status_code == 302
    token = csrf_token(c)
    x, y = INSIDE["3401"]
    near = mapping(reproject(square_25833(x + 2000, y + 1500, 100), 25833, 4326))
    made = c.post("/api/plots", json={"properties": {"name": "Flyttes", "arealformal": 1340,
                                                     "published": True},
                                      "geometry": near}, headers={"X-CSRFToken": token})
    assert made.status_code == 201, made.get_json()
    pid, version = made.get_json()["plot"]["id"], made.get_json()["plot"]["properties"]["version"]
    with engine.connect() as conn:  # committed by the app: a fresh connection sees it
        first = _stored(conn, pid)
        assert first == _exact(conn, pid)
    far = mapping(reproject(square_25833(x + 9000, y - 7000, 100), 25833, 4326))
    moved = c.patch(f"/api/plots/{pid}", json={"geometry": far, "version": version},
                    headers={"X-CSRFToken": token})
    assert moved.status_code == 200, moved.get_json()
    with engine.connect() as conn:
        after = _stored(conn, pid)  # current for the new version, stored by the save itself
        assert after == _exact(conn, pid) and after != first
    found = c.get("/api/plots?kommune=3401&limit=1000").get_json()["features"]
    shown = next(f for f in found if f["id"] == pid)["properties"]["dist_m"]
    assert shown == {k: round(v) for k, v in after[pid].items()}
    # the filter sees the new place too
    km = after[pid]["rail"] / 1000
    assert pid in {f["id"] for f in c.get(f"/api/plots?kommune=3401&limit=1000&rail_km="
                                          f"{km + 0.01:.3f}").get_json()["features"]}
    assert pid not in {f["id"] for f in c.get(f"/api/plots?kommune=3401&limit=1000&rail_km="
                                              f"{max(km - 0.01, 0):.3f}").get_json()["features"]}


def test_reloading_the_reference_layers_refreshes_the_stored_distances(session, settings,
                                                                       network_loaded):
    from landreg.demo.load import load_reference_layers

    distances.refresh(session)
    pid, cx, cy = session.execute(text(
        "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM plot "
        "WHERE availability <> 'trukket' ORDER BY id LIMIT 1")).one()
    assert _stored(session, pid)[pid]["station"] > 0
    # a new station on the plot, by hand: every stored row is stale at once (the trigger) …
    session.execute(text(
        "INSERT INTO reference_feature (layer, name, properties, geom) VALUES ('stations', "
        "'Ny stasjon', '{}', ST_SetSRID(ST_MakePoint(:x, :y), 25833))"), {"x": cx, "y": cy})
    assert _stored(session) == {}
    # … so the search computes instead of trusting them: the new station shows and filters
    assert _page(session)[pid]["properties"]["dist_m"]["station"] == 0
    assert pid in _page(session, within_km={"station": 0.0})
    assert distances.refresh(session) == len(_exact(session))
    assert _stored(session) == _exact(session)
    assert _stored(session, pid)[pid]["station"] == 0
    # the reload `landreg db prepare` / the demo loader runs stores them again in one go
    load_reference_layers(session, settings.demo_gpkg)
    stored = _stored(session)
    assert stored == _exact(session) and stored[pid]["station"] > 0


def test_route_targets_reloaded_make_junction_distances_stale(session, network_loaded):
    distances.refresh(session)
    session.execute(text("UPDATE route_target SET geom = ST_Translate(geom, 50, 0) "
                         "WHERE target = 'junction'"))
    assert _stored(session) == {}
    distances.refresh(session)
    assert _stored(session) == _exact(session)


@pytest.mark.parametrize("kind", distances.KINDS)
def test_filters_find_the_same_plots_as_before_storing(session, network_loaded, kind):
    """The stored metres against the live ST_DWithin (the filter before issue 10) on every
    demo plot, at several distances; then again with a third of the rows stale (outlines
    moved behind the refresh's back): those fall back to ST_DWithin, never drop out."""
    distances.refresh(session)

    def live(km: float) -> set[int]:
        return set(session.execute(text("SELECT plot.id FROM plot WHERE "
                                        + distances.within_sql(kind)),
                                   {f"{kind}_m": km * 1000}).scalars())

    def stored(km: float) -> set[int]:
        return set(_page(session, within_km={kind: km}))

    splits = 0
    for km in (0.0, 0.5, 1.0, 2.0, 3.5, 5.0, 10.0, 25.0):
        assert stored(km) == live(km), km
        splits += 0 < len(live(km)) < len(_exact(session))
    assert splits >= 3, "the demo should split on these distances"
    session.execute(text("UPDATE plot SET geom = ST_Translate(geom, 1500, -1200) "
                         "WHERE id % 3 = 0"))
    assert len(_stored(session)) < len(_exact(session))
    for km in (0.5, 2.0, 5.0):
        assert stored(km) == live(km), km


def test_empty_layer_shows_null_and_filters_nothing(session, network_loaded):
    session.execute(text("DELETE FROM reference_feature WHERE layer = 'rail'"))
    distances.refresh(session)
    assert all(d["rail"] is None for d in _stored(session).values())
    assert all(f["properties"]["dist_m"]["rail"] is None for f in _page(session).values())
    assert _page(session, within_km={"rail": 200.0}) == {}


def test_the_plot_page_reads_the_stored_row_or_computes(session, network_loaded):
    distances.refresh(session)
    pid = min(_exact(session))
    assert distances.plot_distances(session, pid) == _exact(session, pid)[pid]
    session.execute(text("UPDATE plot SET geom = ST_Translate(geom, 2500, 0) WHERE id = :id"),
                    {"id": pid})
    assert _stored(session, pid) == {}  # stale: the page measures the moved outline itself
    assert distances.plot_distances(session, pid) == _exact(session, pid)[pid]
    assert distances.plot_distances(session, 2**40) == {}
