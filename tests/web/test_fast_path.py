"""The hot path (features written by PostgreSQL) answers exactly what the dict path answered.

:func:`search_plots_json` and :func:`fetch_one_json` build each GeoJSON feature in SQL; the
pages, exports and forum still use :func:`search_plots` / :func:`fetch_one` (dicts, through
the ORM). Here every demo plot, plus plots made to hit the formatting corner cases (NULLs,
whole numbers, quotes, control characters, non-ASCII, whole-second timestamps), goes both
ways, public and internal fields, in each output CRS: the bytes must be those Flask's
``jsonify`` writes for the dicts.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update

from landreg.models import Plot
from landreg.registry.plots import create_plot
from landreg.registry.search import (
    PlotQuery,
    fetch_one,
    fetch_one_json,
    search_plots,
    search_plots_json,
)
from landreg.web.api import compact_json
from tests.helpers import INSIDE, plot_attrs, square_25833

SRIDS = (4326, 25833, 25832)


@pytest.fixture
def odd_plots(session) -> list[int]:
    """Plots whose values are the corner cases of JSON formatting, in the rolled-back session."""
    x, y = INSIDE["3414"]
    ids = []
    for i, (attrs, side) in enumerate([
        (plot_attrs(name='Tomt "med" sitat \\ og\nlinjeskift\t\x01 – æøå 𝕏 \u2028',
                    description="", contact=None, price_nok_m2=450, power_capacity_mw=2,
                    max_bya_pct=35.5, max_height_m=12, road_access=None, water_sewer=True,
                    external_ref="A/1", plan_id="2020-01", internal_notes="<b>&'\"</b>"),
         40.0),
        (plot_attrs(name="Hel", price_nok_m2=0.05, power_capacity_mw=0.1, road_access=True,
                    water_sewer=True, max_bya_pct=100, max_height_m=0.1), 1000.0 ** 0.5),
        (plot_attrs(name="Uten", road_access=False, water_sewer=None, published=False), 33.3),
        (plot_attrs(name="Trukket", availability="trukket"), 50.0),
    ]):
        ids.append(create_plot(session, attrs, square_25833(x + i * 200, y, side), 25833,
                               user="tëst").plot["id"])
    # one timestamp on a whole second (no microseconds in isoformat), one far from UTC midnight
    session.execute(update(Plot).where(Plot.id == ids[0])
                    .values(updated_at=text("'2026-01-02 03:04:05+00'")))
    session.execute(update(Plot).where(Plot.id == ids[1])
                    .values(updated_at=text("'2026-06-30 23:59:59.000100+00'")))
    session.flush()
    return ids


@pytest.mark.parametrize("srid", SRIDS)
@pytest.mark.parametrize("public", [True, False])
def test_every_plot_page_is_byte_for_byte_the_dict_serialisation(session, odd_plots, srid,
                                                                   public):
    count = session.execute(select(Plot.id)).all()
    assert len(count) >= 100  # the demo region's plots, plus the odd ones
    for sort in (["id"], ["kommunenummer", "name"], ["-area_daa", "-price_nok_m2"],
                 ["-updated_at", "availability"]):
        old = search_plots(session, PlotQuery(sort=sort, limit=1000, include_withdrawn=True),
                           public=public, srid=srid)
        new = search_plots_json(session, PlotQuery(sort=sort, limit=1000,
                                                   include_withdrawn=True),
                                public=public, srid=srid)
        assert new.features == compact_json(old.features)
        assert (new.number_matched, new.number_returned) == (old.number_matched,
                                                             len(old.features))
    assert b'\\u0001' in new.features or public  # the control character is escaped
    if not public:
        assert set(odd_plots) <= {f["id"] for f in json.loads(new.features)}


@pytest.mark.parametrize("srid", SRIDS)
def test_every_single_plot_is_byte_for_byte_the_dict_serialisation(session, odd_plots, srid):
    ids = session.execute(select(Plot.id).order_by(Plot.id)).scalars().all()
    for pid in ids:
        for public in (True, False):
            old = fetch_one(session, pid, public=public, srid=srid, published_only=False)
            new = fetch_one_json(session, pid, public=public, srid=srid, published_only=False)
            assert new == compact_json(old), pid


def test_filters_paging_and_counts_match(session, odd_plots):
    queries = [
        PlotQuery(kommuner=["3401"], limit=7, offset=3),
        PlotQuery(bbox=(11.9, 60.1, 12.2, 60.3), limit=5),
        PlotQuery(bbox=(300000, 6650000, 340000, 6700000), bbox_crs=25833, sort=["-area_daa"]),
        PlotQuery(purpose_groups=["industri", "naering"], min_daa=5, byggeklar=True),
        PlotQuery(byggeklar=False, q="tomt", sort=["name"]),
        PlotQuery(limit=10, offset=100_000),  # past the end: nothing returned, count exact
        PlotQuery(ids=[-1]),  # nothing at all
    ]
    for q in queries:
        for public in (True, False):
            old = search_plots(session, q, public=public)
            new = search_plots_json(session, q, public=public)
            assert new.features == compact_json(old.features)
            assert new.number_matched == old.number_matched
            assert new.number_returned == len(old.features)


def test_extra_conditions_narrow_the_page(session):
    everything = search_plots_json(session, PlotQuery(limit=1000))
    narrowed = search_plots_json(session, PlotQuery(limit=1000), extra=[Plot.area_daa > 10])
    assert 0 < narrowed.number_matched < everything.number_matched
    assert all(f["properties"]["area_daa"] > 10 for f in json.loads(narrowed.features))


def test_the_web_answers_are_what_jsonify_wrote(client, published_count):
    """The envelope around PostgreSQL's bytes keeps its keys, order and trailing newline."""
    res = client.get("/api/plots?limit=3&offset=1&crs=EPSG:25833")
    body = res.get_json()
    assert list(body) == ["type", "numberMatched", "numberReturned", "features", "links"]
    assert res.get_data() == compact_json(body) + b"\n"
    assert res.mimetype == "application/geo+json"
    assert res.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25833>"
    assert body["numberMatched"] == published_count and body["numberReturned"] == 3

    res = client.get("/ogc/collections/plots/items?limit=2")
    body = res.get_json()
    assert list(body) == ["type", "features", "numberMatched", "numberReturned", "timeStamp",
                          "links"]
    assert res.get_data() == compact_json(body) + b"\n"
    fid = body["features"][0]["id"]

    res = client.get(f"/ogc/collections/plots/items/{fid}")
    item = res.get_json()
    assert list(item) == ["type", "id", "geometry", "properties", "links"]
    assert res.get_data() == compact_json(item) + b"\n"
    assert client.get(f"/api/plots/{fid}").get_data() == compact_json(
        {k: v for k, v in item.items() if k != "links"}) + b"\n"


FILTERS = [  # every filter, some together: the compiled statement with parameters must find
    {"kommuner": ["3401", "3414"]},  # exactly what the ORM path's bound values find
    {"availability": ["ledig", "reservert"], "purpose_groups": ["industri", "naering"]},
    {"min_daa": 5.0, "max_daa": 50.0, "arealformal": [1300, 1340]},
    {"road_access": False}, {"road_access": True, "water_sewer": True},
    {"byggeklar": True}, {"byggeklar": False}, {"min_power_mw": 1.0},
    {"bbox": (11.5, 59.9, 12.5, 60.5)},
    {"bbox": (600000.0, 6640000.0, 700000.0, 6740000.0), "bbox_crs": 25833},
    {"near": "POINT(12.0 60.19)", "near_distance_m": 5000.0},
    {"q": "fiktiv"}, {"q": "50%_\\"},
    {"updated_after": "2000-01-01T00:00:00+00:00", "updated_before": "2100-01-01T00:00:00+00:00"},
]


@pytest.mark.parametrize("public", [True, False])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f))
def test_every_filter_finds_the_same_plots_on_both_paths(session, odd_plots, filters, public):
    def query() -> PlotQuery:
        return PlotQuery(**filters, sort=["-area_daa"], limit=1000)

    ids = [f["id"] for f in search_plots(session, query(), public=public).features]
    page = search_plots_json(session, query(), public=public)
    assert [f["id"] for f in json.loads(page.features)] == ids
    assert page.number_matched == len(ids)


def test_a_page_statement_is_compiled_once_per_combination_of_filters(session):
    from landreg.registry.search import PAGE_SQL_CACHE_SIZE, _page_sql

    search_plots_json(session, PlotQuery(kommuner=["3401"], min_daa=1.0, sort=["name"]))
    before = _page_sql.cache_info()
    found = {k: search_plots_json(session, PlotQuery(kommuner=[k], min_daa=v, sort=["name"]))
             for k, v in (("3401", 2.0), ("3417", 0.5), ("3414", 3.0))}
    after = _page_sql.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 3)  # values, not SQL
    assert len({p.number_matched for p in found.values()}) > 1  # ... and the values count
    assert after.maxsize == PAGE_SQL_CACHE_SIZE


def test_the_stored_feature_follows_every_write(session, tmp_path):
    """``plot.feature_parts``/``feature_geojson`` (migration 0014) are what the hot path sends;
    PostgreSQL rewrites them with the row, whatever writes it: create, edit (values and
    outline), withdrawal, restore, an import, raw SQL. After each, the hot path's bytes are
    still the dict path's, and the history never records the derived text."""
    from landreg.ingest.importer import apply_import, plan_import
    from landreg.models import PlotVersion
    from landreg.registry.plots import restore_plot, update_plot, withdraw_plot
    from tests.ingest.files import plots_frame, write

    def same(pid: int) -> None:
        for srid in SRIDS:
            for public in (True, False):
                old = fetch_one(session, pid, public=public, srid=srid, published_only=False)
                new = fetch_one_json(session, pid, public=public, srid=srid,
                                     published_only=False)
                assert new == compact_json(old), (pid, srid, public)

    def version() -> int:
        return session.execute(select(Plot.version).where(Plot.id == pid)).scalar_one()

    x, y = INSIDE["3401"]
    pid = create_plot(session, plot_attrs(name="Før", price_nok_m2=100), square_25833(x, y),
                      25833, user="t").plot["id"]
    same(pid)
    update_plot(session, pid, {"name": 'Etter "ny"', "price_nok_m2": 250.5,
                                     "description": "æøå\n", "road_access": True},
                      expected_version=version(), user="t",
                      geometry=square_25833(x, y, 75.0), crs=25833)
    same(pid)
    props = json.loads(fetch_one_json(session, pid, public=False))["properties"]
    assert (props["name"], props["price_nok_m2"], props["area_daa"]) == ('Etter "ny"', 250.5,
                                                                          5.625)
    withdraw_plot(session, pid, expected_version=version(), user="t", reason="solgt privat")
    same(pid)
    restore_plot(session, pid, expected_version=version(), user="t")
    same(pid)
    session.execute(update(Plot).where(Plot.id == pid).values(max_height_m=12, contact=None))
    session.flush()
    same(pid)

    frame = plots_frame(prefix="STORED")
    report = plan_import(session, write(frame, tmp_path, "gpkg", 25832), kommune="3401",
                         user="t")
    apply_import(session, report, "importør")
    imported = session.execute(select(Plot.id).where(Plot.external_ref.like("STORED-%"))
                               ).scalars().all()
    assert len(imported) == 3
    for other in imported:
        same(other)

    attributes = session.execute(select(PlotVersion.attributes).where(
        PlotVersion.plot_id == pid)).scalars().all()
    assert len(attributes) == 5
    assert all("feature_parts" not in a and "feature_geojson" not in a for a in attributes)
