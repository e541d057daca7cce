"""Vector tiles of the plots: the right plots in the right tile, the public split, filters,
caching headers, bad coordinates and the GiST index. Tiles are decoded with
mapbox-vector-tile, so what is checked is what a map library reads."""

from __future__ import annotations

from collections.abc import Iterator

import mapbox_vector_tile
import pytest
from sqlalchemy import delete, text

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.plots import create_plot, restore_plot, update_plot, withdraw_plot
from landreg.registry.search import PlotQuery
from landreg.registry.tiles import Tile, TileCache, tile_statement
from landreg.web import create_app
from tests.helpers import INSIDE, plot_attrs, square_25833, tile_of
from tests.security.conftest import accounts  # noqa: F401

#: The test plot: a 100 m square in Grue, well inside one z 14 tile (some 1.2 km wide).
SPOT = (INSIDE["3417"][0] + 400, INSIDE["3417"][1] + 400)


@pytest.fixture(scope="module")
def tile_plot(database_url) -> Iterator[dict]:
    """A published, reserved plot in Grue (committed: the app uses its own connections)."""
    with session_scope(get_engine(database_url)) as s:
        plot = create_plot(s, plot_attrs(name="Flisbyen «tile» 7", availability="reservert",
                                         road_access=True, water_sewer=True),
                           square_25833(*SPOT, 100), 25833, user="test").plot
    yield plot
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.id == plot["id"]))


def features(res) -> dict[int, dict]:
    """The features of a tile answer by id (none for a 204)."""
    if res.status_code == 204:
        return {}
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.mimetype == "application/vnd.mapbox-vector-tile"
    layers = mapbox_vector_tile.decode(res.data)
    assert set(layers) == {"plots"}
    return {f["id"]: f for f in layers["plots"]["features"]}


def url(z: int, x: int, y: int, query: str = "") -> str:
    return f"/tiles/plots/{z}/{x}/{y}.mvt" + (f"?{query}" if query else "")


def test_a_plot_is_in_its_tile_with_its_attributes(client, tile_plot):
    z, x, y = tile_of(SPOT[0] + 50, SPOT[1] + 50, 14)
    found = features(client.get(url(z, x, y)))
    f = found[tile_plot["id"]]
    props = tile_plot["properties"]
    assert f["properties"] == {
        "id": tile_plot["id"], "name": "Flisbyen «tile» 7", "availability": "reservert",
        "purpose_group": props["purpose_group"], "area_daa": pytest.approx(10.0, abs=0.001),
        "kommunenummer": "3417"}
    assert f["geometry"]["type"] == "Polygon"
    ring = f["geometry"]["coordinates"][0]
    # 100 m is some 330 units of 4096 at z 14 and 60° N; the square lies inside the tile
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    assert 0 <= min(xs) < max(xs) <= 4096 and 0 <= min(ys) < max(ys) <= 4096
    assert 250 < max(xs) - min(xs) < 420
    # the neighbouring tiles (beyond the buffer) do not carry it
    assert tile_plot["id"] not in features(client.get(url(z, x + 2, y)))
    assert tile_plot["id"] not in features(client.get(url(z, x, y + 2)))
    # at zoom 9 and below a plot is a point (its box's centre; an outline would be a few
    # units)
    for zoom in (8, 9):
        point = features(client.get(url(*tile_of(*SPOT, zoom))))[tile_plot["id"]]
        assert point["geometry"]["type"] == "Point"
        assert point["properties"] == f["properties"]
    assert features(client.get(url(*tile_of(*SPOT, 10))))[tile_plot["id"]]["geometry"][
        "type"] == "Polygon"


def test_unpublished_plots_reach_planners_only(app, client, secret_plot, accounts):  # noqa: F811
    z, x, y = tile_of(*INSIDE["3417"], 13)
    public = client.get(url(z, x, y))
    assert secret_plot not in features(public)
    assert b"Hemmelig" not in public.data
    assert public.headers["Cache-Control"] == f"public, max-age={60}"
    assert public.headers["ETag"]
    again = client.get(url(z, x, y), headers={"If-None-Match": public.headers["ETag"]})
    assert again.status_code == 304 and not again.data

    planner = app.test_client().get(
        url(z, x, y), headers={"Authorization": f"Bearer {accounts['token']}"})
    found = features(planner)
    assert found[secret_plot]["properties"]["name"] == "Hemmelig tomt"
    assert "internal_notes" not in found[secret_plot]["properties"]
    assert planner.headers["Cache-Control"] == "no-store"
    assert "ETag" not in planner.headers


@pytest.mark.parametrize("query, kept", [
    ("kommune=3417", True), ("kommune=3401", False),
    ("availability=reservert", True), ("availability=ledig,solgt", False),
    ("min_daa=9", True), ("min_daa=11", False), ("max_daa=9", False),
    ("byggeklar=true", True), ("byggeklar=false", False),
])
def test_filters_apply(client, tile_plot, query, kept):
    z, x, y = tile_of(SPOT[0] + 50, SPOT[1] + 50, 12)
    found = features(client.get(url(z, x, y, query)))
    assert (tile_plot["id"] in found) is kept
    if query == "kommune=3417":
        assert {f["properties"]["kommunenummer"] for f in found.values()} == {"3417"}


def test_purpose_group_filter(client, tile_plot):
    z, x, y = tile_of(*SPOT, 9)
    group = tile_plot["properties"]["purpose_group"]
    other = "kontor" if group != "kontor" else "industri"
    assert tile_plot["id"] in features(client.get(url(z, x, y, f"purpose_group={group}")))
    found = features(client.get(url(z, x, y, f"purpose_group={other}")))
    assert tile_plot["id"] not in found
    assert all(f["properties"]["purpose_group"] == other for f in found.values())


@pytest.mark.parametrize("path, field", [
    ("/tiles/plots/23/0/0.mvt", "z"),
    ("/tiles/plots/2/4/0.mvt", "x"),
    ("/tiles/plots/2/0/4.mvt", "y"),
    ("/tiles/plots/2/-1/0.mvt", "x"),
    ("/tiles/plots/a/0/0.mvt", "z"),
    ("/tiles/plots/999999999999/0/0.mvt", "z"),
    ("/tiles/plots/3/1/1.mvt?limit=5", "limit"),
    ("/tiles/plots/3/1/1.mvt?availability=gone", "availability"),
    ("/tiles/plots/3/1/1.mvt?min_daa=x", "min_daa"),
])
def test_bad_tiles_are_400_naming_the_part(client, path, field):
    res = client.get(path)
    assert res.status_code == 400, res.data[:200]
    body = res.get_json()
    assert field in body["description"] or body.get("field") == field, body


def test_an_empty_tile_is_204(client):
    res = client.get(url(10, 0, 0))  # the middle of the Pacific
    assert res.status_code == 204 and res.data == b""


def test_the_tile_query_uses_the_spatial_index(session):
    """With sequential scans priced out, the plan finds plots through idx_plot_geom: the
    tile's envelope is compared in the storage CRS, not the plots transformed to 3857."""
    stmt, values = tile_statement(*tile_of(*SPOT, 12), PlotQuery(kommuner=["3417"]))
    sql = str(stmt.params(values).compile(dialect=session.bind.dialect,
                                          compile_kwargs={"literal_binds": True}))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
    assert "idx_plot_geom" in plan, plan


def test_the_statement_cache_is_bounded():
    from landreg.registry import tiles

    for i in range(tiles.STATEMENT_CACHE_SIZE + 40):
        tile_statement(3, 4, 2, PlotQuery(min_daa=float(i)))
    assert len(tiles._STATEMENTS) == tiles.STATEMENT_CACHE_SIZE


def test_the_point_lies_on_the_plot_at_low_zoom(client, tile_plot):
    """The low-zoom point (the box's centre) is where the plot is: within a unit of the
    square's centre at z 9 (some 19 m a unit at 60° N), the tile's own grid."""
    z, x, y = tile_of(*SPOT, 9)
    point = features(client.get(url(z, x, y)))[tile_plot["id"]]["geometry"]["coordinates"]
    # the square's centre in tile units: place it in a z 21 grid and scale down by 2^12/4096
    _z, cx, cy = tile_of(SPOT[0] + 50, SPOT[1] + 50, 9 + 12)  # the square starts at SPOT
    assert abs(point[0] - (cx - x * 4096)) <= 1
    assert abs(point[1] - (4096 - (cy - y * 4096))) <= 1  # MVT y up in the decoder's output


def two_processes(settings, plot_id: int, zoom: int):
    """Two apps (each with its own tile cache, as two worker processes) and a function giving
    the name ``plot_id`` has in the tile of :data:`SPOT` at ``zoom`` in one of them (None when
    the tile does not hold it)."""
    first, second = (create_app({"TESTING": True}, settings=settings).test_client()
                     for _ in range(2))
    z, x, y = tile_of(*SPOT, zoom)

    def name_in(web) -> str | None:
        f = features(web.get(url(z, x, y))).get(plot_id)
        return f and f["properties"]["name"]
    return first, second, name_in


def test_a_save_shows_in_the_next_tile_in_every_process(settings, database_url, tile_plot):
    """Tiles are cached per process under the register's change counter: a save through the
    registry (update, withdraw, restore) is in the very next tile — also in another process's
    cache (a second app here), which only learns of it through the database."""
    first, second, name_in = two_processes(settings, tile_plot["id"], 12)
    engine = get_engine(database_url)

    def save(change, **kw) -> None:
        with session_scope(engine) as s:
            change(s, tile_plot["id"], expected_version=s.get(Plot, tile_plot["id"]).version,
                   user="test", **kw)
    try:
        assert name_in(first) == name_in(second) == "Flisbyen «tile» 7"
        assert name_in(first) == "Flisbyen «tile» 7"  # now from the cache
        cache = first.application.extensions["landreg_tile_cache"]
        assert cache.hits >= 1
        save(update_plot, changes={"name": "Omdøpt"})
        assert name_in(first) == name_in(second) == "Omdøpt"
        save(withdraw_plot)
        assert name_in(first) is None and name_in(second) is None
        save(restore_plot)
        assert name_in(first) == name_in(second) == "Omdøpt"
    finally:
        save(update_plot, changes={"name": "Flisbyen «tile» 7"})


def test_a_raw_sql_write_shows_in_the_next_tile(settings, database_url, tile_plot):
    """The database moves the change counter (statement triggers, migration 0015): an UPDATE
    typed in psql — no registry code, no note — is in the very next tile, not after the cache's
    max age; in every process."""
    first, second, name_in = two_processes(settings, tile_plot["id"], 13)
    engine = get_engine(database_url)

    def raw(sql: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(sql), {"id": tile_plot["id"]})
    try:
        assert name_in(first) == name_in(second) == "Flisbyen «tile» 7"
        assert name_in(first) == "Flisbyen «tile» 7"  # cached now
        raw("UPDATE plot SET name = 'Rå SQL' WHERE id = :id")
        assert name_in(first) == name_in(second) == "Rå SQL"
        raw("UPDATE plot SET published = false WHERE id = :id")  # the public split too
        assert name_in(first) is None and name_in(second) is None
    finally:
        raw("UPDATE plot SET name = 'Flisbyen «tile» 7', published = true WHERE id = :id")


def test_an_import_shows_in_the_next_tile(database_url):
    """An import (COPY, INSERT … SELECT in a savepoint) moves the counter at its commit."""
    from landreg.ingest.importer import apply_import, plan_import
    from landreg.registry.tiles import cached_tile
    from tests.ingest.files import plots_frame

    engine = get_engine(database_url)
    cache = TileCache()
    frame = plots_frame("3417", 1, prefix="TILEIMP")
    spot = frame.geometry.iloc[0].centroid
    z, x, y = tile_of(spot.x, spot.y, 12)

    def names() -> set[str]:
        with engine.connect() as conn:
            body = cached_tile(conn, z, x, y, public=False, cache=cache).body
        layers = mapbox_vector_tile.decode(body) if body else {}
        return {f["properties"]["name"] for f in layers.get("plots", {}).get("features", [])}
    before = names()
    assert names() == before and cache.hits == 1
    try:
        with session_scope(engine) as s:
            apply_import(s, plan_import(s, frame, kommune="3417", user="test"), "test")
        assert names() == before | {"Testtomt TILEIMP 1"}
    finally:
        with session_scope(engine) as s:
            s.execute(delete(Plot).where(Plot.external_ref == "TILEIMP-1"))


def test_the_change_counter_moves_once_per_write_never_on_a_read(database_url, tile_plot):
    """Reads (tiles, searches, a locking read) leave the counter alone, so they keep the
    caches; a transaction moves it once however many statements it runs, and a rolled-back
    one not at all."""
    from landreg.registry import changes
    from landreg.registry.search import fetch_one, search_plots

    engine = get_engine(database_url)

    def counter() -> str:
        with engine.connect() as conn:
            return changes.current(conn)

    def version() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version FROM register_change")).scalar_one()
    start, n = counter(), version()
    with session_scope(engine) as s:
        search_plots(s, PlotQuery(kommuner=["3417"]))
        fetch_one(s, tile_plot["id"], public=False)
        s.execute(text("SELECT 1 FROM plot WHERE id = :id FOR UPDATE"), {"id": tile_plot["id"]})
        plot_tile_body = cached_tile_body(s, *tile_of(*SPOT, 12))
    assert plot_tile_body and counter() == start
    with engine.connect() as conn:
        conn.execute(text("UPDATE plot SET name = name WHERE id = :id"), {"id": tile_plot["id"]})
        conn.rollback()
    assert counter() == start
    with engine.begin() as conn:
        for _ in range(3):
            conn.execute(text("UPDATE plot SET name = name WHERE id = :id"),
                         {"id": tile_plot["id"]})
        conn.execute(text("UPDATE reference_feature SET name = name WHERE false"))
    assert counter() != start and version() == n + 1
    with engine.connect() as conn:  # nothing is left pending
        assert conn.execute(text("SELECT count(*) FROM register_change_pending")).scalar_one() == 0


def cached_tile_body(conn, z: int, x: int, y: int) -> bytes:
    from landreg.registry.tiles import cached_tile

    return cached_tile(conn, z, x, y, cache=TileCache()).body


def test_a_cached_tile_keeps_its_etag(client, tile_plot):
    z, x, y = tile_of(*SPOT, 11)
    first = client.get(url(z, x, y))
    again = client.get(url(z, x, y), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    assert client.get(url(z, x, y)).data == first.data


def test_the_tile_cache_is_bounded_by_bytes_and_emptied_by_a_change():
    cache = TileCache(max_bytes=100_000)
    assert cache.get("g1", ("k", 0)) is None  # the counter value the tiles were built after
    for i in range(500):
        cache.put("g1", ("k", i), Tile(bytes(1000), "e"))
        assert cache.size <= 100_000
    assert 60 < len(cache) < 100
    assert cache.get("g1", ("k", 499)) is not None  # the newest stay ...
    assert cache.get("g1", ("k", 0)) is None  # ... the oldest went first
    cache.put("g1", ("big",), Tile(bytes(200_000), "e"))  # larger than the whole cache
    assert cache.get("g1", ("big",)) is None and cache.size <= 100_000
    assert cache.get("g2", ("k", 499)) is None  # a new counter value: nothing old is served
    assert len(cache) == 0 and cache.size == 0
    cache.put("g1", ("late",), Tile(b"x", "e"))  # built before g2 was seen: not kept
    assert len(cache) == 0


def test_a_cached_tile_expires_by_age():
    """A cached tile is rebuilt after max_age even when the counter did not move (a safety
    net for data the counter does not watch)."""
    cache = TileCache(max_age=0.0)
    assert cache.get("g", ("k",)) is None  # a miss; the cache now holds counter value g
    cache.put("g", ("k",), Tile(b"x", "e"))
    assert cache.get("g", ("k",)) is None
