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


# The isochrone as PostGIS built it before the polygons moved to shapely: the reference.
_POSTGIS_ISOCHRONE = """
    WITH dd AS (
      SELECT node, agg_cost FROM pgr_drivingDistance(:sql, :src, :max_s, directed => false)
    ), t AS (SELECT unnest(CAST(:mins AS int[])) AS m)
    SELECT t.m, ST_AsBinary(ST_SimplifyPreserveTopology(ST_Union(
             ST_Buffer(v.geom, LEAST((t.m * 60 - dd.agg_cost) * :speed, :cap), 4)), 50))
    FROM t JOIN dd ON dd.agg_cost < t.m * 60
    JOIN road_vertex v ON v.id = dd.node AND v.main
    GROUP BY t.m
"""


@pytest.mark.parametrize("target", ["gardermoen", "border", "station"])
def test_isochrones_are_the_polygons_postgis_builds(session, net: Network, target) -> None:
    """The polygons built in this process (pgRouting's seconds, shapely's buffers and union)
    cover the same land as PostGIS's ST_Union of ST_Buffer of the same vertices: the same
    area to 0.1 % and no boundary more than 60 m (the simplification is 50 m) apart."""
    import shapely
    from pyproj import Transformer

    rdb.load(session, net)
    rdb.ISOCHRONES.clear()
    mins = [15, 30, 45, 60]
    fc = rdb.isochrones(session, net, target, mins)
    t = net.targets[target]
    ref = {m: shapely.from_wkb(bytes(g)) for m, g in session.execute(text(_POSTGIS_ISOCHRONE), {
        "sql": rdb.edges_sql(t.key), "src": rdb.SUPER + t.key, "max_s": 3600.0, "mins": mins,
        "speed": net.access_speed_ms, "cap": rdb.ISO_ACCESS_CAP_M})}
    to_utm = Transformer.from_crs(4326, 25833, always_xy=True)
    ours = {f["properties"]["minutes"]: shapely.transform(
        shapely.geometry.shape(f["geometry"]),
        lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
        for f in fc["features"]}
    assert [f["properties"]["minutes"] for f in fc["features"]] == sorted(ref, reverse=True)
    for m, g in ref.items():
        assert ours[m].is_valid
        assert abs(ours[m].area - g.area) <= 1e-3 * g.area, m
        assert ours[m].symmetric_difference(g).area <= 1e-3 * g.area, m
        assert shapely.hausdorff_distance(ours[m], g) <= 60.0, m
