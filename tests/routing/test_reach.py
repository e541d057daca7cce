"""Drive times in PostGIS by pgRouting: per plot, kept current, and the same as the rasters'."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from landreg.routing import db as rdb
from landreg.routing.network import Network, load_network
from landreg.settings import Settings


@pytest.fixture(scope="module")
def net() -> Network:
    return load_network(Settings().layers_dir)


def test_pgrouting_and_scipy_agree_on_every_vertex(session, net: Network) -> None:
    rdb.load(session, net)
    for target in ("gardermoen", "station"):
        pg = rdb.vertex_minutes_pg(session, net, target)
        py = net.vertex_seconds(target) / 60
        main = net.main
        assert np.isfinite(pg[main]).all()
        assert np.allclose(pg[main], py[main], atol=0.01)


def test_every_plot_gets_minutes_to_every_target_and_stays_current(session, net) -> None:
    session.execute(text("DELETE FROM plot_reach"))  # rolled back after the test
    assert rdb.refresh_reach(session, net) > 0
    n_plots = session.execute(text(
        "SELECT count(*) FROM plot WHERE availability <> 'trukket'")).scalar_one()
    rows = session.execute(text("SELECT target, count(minutes), min(minutes), max(minutes) "
                                "FROM plot_reach GROUP BY target")).all()
    assert {r[0] for r in rows} == set(net.targets)
    for target, n, lo, hi in rows:
        assert n == n_plots, target
        assert 0 <= lo <= hi < 240, (target, lo, hi)
    assert rdb.refresh_reach(session, net) == 0  # nothing stale
    # Move a plot 20 km east: its minutes are recomputed on the next refresh.
    pid = session.execute(text("SELECT min(id) FROM plot WHERE availability <> 'trukket'")
                          ).scalar_one()
    before = rdb.plot_minutes(session, [pid])[pid]
    session.execute(text("UPDATE plot SET geom = ST_Translate(geom, 20000, 0) WHERE id = :i"),
                    {"i": pid})
    assert rdb.refresh_reach(session, net) == 1
    after = rdb.plot_minutes(session, [pid])[pid]
    assert after != before


def test_isochrones_grow_with_the_minutes(session, net: Network) -> None:
    rdb.ISOCHRONES.clear()
    fc = rdb.isochrones(session, net, "gardermoen", [30, 60])
    from shapely.geometry import shape

    areas = {f["properties"]["minutes"]: shape(f["geometry"]).area for f in fc["features"]}
    assert set(areas) == {30, 60} and areas[30] < areas[60]
    assert rdb.isochrones(session, net, "gardermoen", [30, 60]) is fc  # cached


@pytest.mark.parametrize("target", ["gardermoen", "border", "station"])
def test_isochrones_hold_exactly_the_points_the_minutes_say(session, net: Network,
                                                            target) -> None:
    """A zone holds the points whose minutes — nearest main junction by pgRouting + the
    straight access leg, the plots' rule — are within it and whose leg is at most the cap,
    and no others. Points within two grid cells of a jump in the field (the border between
    two junctions' areas, the cap) or within a minute of the level are left out: there the
    contour may lie a cell off."""
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from landreg.routing import isochrone as iso

    rdb.load(session, net)
    rdb.ISOCHRONES.clear()
    mins = [15, 30, 45, 60]
    fc = rdb.isochrones(session, net, target, mins)
    assert [f["properties"]["minutes"] for f in fc["features"]] == [60, 45, 30, 15]
    pg = rdb.vertex_minutes_pg(session, net, target)[net.main]
    pts = net.vertices[net.main]
    rng = np.random.default_rng(7)
    lo, hi = pts.min(axis=0) - iso.CAP_M, pts.max(axis=0) + iso.CAP_M
    xy = rng.uniform(lo, hi, size=(20000, 2))
    d, i = cKDTree(pts).query(xy, k=2)
    minutes = pg[i[:, 0]] + d[:, 0] / net.access_speed_ms / 60
    clear = ((d[:, 1] - d[:, 0]) / 2 > 2 * iso.GRID_M) & (np.abs(d[:, 0] - iso.CAP_M)
                                                          > 2 * iso.GRID_M)
    to_utm = Transformer.from_crs(4326, 25833, always_xy=True)
    checked = 0  # points inside zones
    for f in fc["features"]:
        m = f["properties"]["minutes"]
        zone = shapely.transform(shapely.geometry.shape(f["geometry"]),
                                 lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1])))
        assert zone.is_valid
        sel = clear & (np.abs(minutes - m) > 1)
        inside = shapely.contains_xy(zone, xy[sel, 0], xy[sel, 1])
        want = (minutes[sel] <= m) & (d[sel, 0] <= iso.CAP_M)
        assert (inside == want).all(), (m, int((inside != want).sum()))
        checked += want.sum()
    assert checked > 1000  # points inside the zones, each checked


def test_ring_simplification_keeps_what_geos_keeps_and_stays_within_tolerance() -> None:
    """The isochrones' ring simplification (Douglas–Peucker, the ``simplification`` package):
    every dropped point within the tolerance of its simplified ring, and as few vertices as
    GEOS's Douglas–Peucker keeps for the same rings."""
    import shapely

    from landreg.routing.isochrone import simplify_rings

    rng = np.random.default_rng(3)
    rings = []
    for n in (5, 40, 400, 3000, 24000):  # wiggly closed rings, a few hundred metres of noise
        th = np.linspace(0, 2 * np.pi, n)
        r = 5000 + rng.normal(0, 80, n).cumsum() * 0.3 + 300 * np.sin(7 * th)
        xy = np.column_stack([r * np.cos(th), r * np.sin(th)]) + rng.uniform(0, 1e5, 2)
        xy[-1] = xy[0]
        rings.append(xy)
    xy = np.concatenate(rings)
    ends = np.cumsum([len(r) for r in rings])
    starts = np.r_[0, ends[:-1]]
    keep = simplify_rings(xy, starts, ends, 50.0)
    for r, s, e in zip(rings, starts, ends, strict=True):
        kept = xy[s:e][keep[s:e]]
        assert (kept[0] == r[0]).all() and (kept[-1] == r[-1]).all()
        line = shapely.LineString(kept)
        assert shapely.distance(shapely.points(r), line).max() <= 50.0 + 1e-6
        geos = shapely.simplify(shapely.LineString(r), 50.0, preserve_topology=False)
        assert abs(len(kept) - shapely.get_num_coordinates(geos)) <= 2


def test_the_served_network_is_the_loaded_one_without_reading_the_source(session, net) -> None:
    """What the server's workers answer from (issue 14): the network read back from the
    database's tables — same vertices, components, targets and access legs as the source's,
    so the isochrones and minutes are the same — without its links (no GDAL)."""
    layers = Settings().layers_dir
    rdb.load(session, net)
    rdb._SERVED.clear()
    served = rdb.served_network(session, layers)
    assert served.edges is None and served.version == net.version
    assert np.array_equal(served.vertices, net.vertices)
    assert np.array_equal(served.main, net.main)
    assert served.access_speed_ms == net.access_speed_ms
    assert list(served.targets) == list(net.targets)
    for tid, t in net.targets.items():
        s = served.targets[tid]
        assert (s.key, s.name_nb, s.name_en, s.names) == (t.key, t.name_nb, t.name_en, t.names)
        assert np.array_equal(s.vertices, t.vertices)
        assert np.array_equal(s.access_s, t.access_s)
        assert np.array_equal(s.points, t.points)
    assert rdb.served_network(session, layers) is served  # once per version and process
    rdb.ISOCHRONES.clear()
    from_served = rdb.isochrones(session, served, "station", [15, 30])
    rdb.ISOCHRONES.clear()
    assert rdb.isochrones(session, net, "station", [15, 30]) == from_served


def test_a_network_not_in_the_database_is_read_from_the_source(session, net) -> None:
    layers = Settings().layers_dir
    rdb.load(session, net)
    rdb._SERVED.clear()
    served = rdb.served_network(session, layers)
    session.execute(text("DELETE FROM road_network_meta"))  # a restore without it, say
    rdb._SERVED.clear()
    assert rdb.served_network(session, layers).edges is not None  # the source's
    # a copy without links that must load the tables reads its source for them
    assert rdb.load(session, served) is True
    assert rdb.loaded_version(session) == net.version
    assert session.execute(text("SELECT count(*) FROM road_edge")).scalar_one() == len(net.edges)
