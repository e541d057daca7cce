"""Every search filter, sorting and paging, on plots made for the test."""

from __future__ import annotations

import uuid

import pytest
from shapely.geometry import Point

from landreg.errors import InvalidCRS, InvalidInput, UnknownCode
from landreg.registry.plots import create_plot, update_plot
from landreg.registry.search import PlotQuery, search_plots
from tests.helpers import INSIDE, plot_attrs, reproject, square_25833


@pytest.fixture
def made(session):
    """Five plots with known facts, all named with a marker the demo plots never use."""
    tag = "SRCH" + uuid.uuid4().hex[:8]
    specs = {
        "a": ("3401", 0, 100, dict(arealformal=1340, availability="ledig", road_access=True,
                                    water_sewer=True, power_capacity_mw=5, price_nok_m2=300,
                                    description="Nær E16 og jernbane")),
        "b": ("3401", 400, 200, dict(arealformal=1350, availability="reservert", road_access=True,
                                      water_sewer=False, power_capacity_mw=1, price_nok_m2=150)),
        "c": ("3415", 0, 150, dict(arealformal=1310, availability="ledig", road_access=False,
                                    water_sewer=False, price_nok_m2=800)),
        "d": ("3418", 0, 60, dict(arealformal=133, availability="solgt", road_access=True,
                                   water_sewer=True, power_capacity_mw=20)),
        "e": ("3418", 300, 120, dict(arealformal=1826, availability="ledig", published=False)),
    }
    ids = {}
    for key, (k, dx, side, extra) in specs.items():
        x, y = INSIDE[k]
        res = create_plot(session, plot_attrs(name=f"{tag} {key}", **extra),
                          square_25833(x + dx, y, side), 25833, user="test")
        ids[key] = res.plot["id"]
    return tag, ids


def _keys(session, made, public=False, **kw) -> set[str]:
    tag, ids = made
    back = {v: k for k, v in ids.items()}
    page = search_plots(session, PlotQuery(q=tag, limit=1000, **kw), public=public)
    return {back[f["id"]] for f in page.features}


def test_each_filter(session, made):
    k = lambda **kw: _keys(session, made, **kw)  # noqa: E731
    assert k() == {"a", "b", "c", "d", "e"}
    assert k(kommuner=["3401"]) == {"a", "b"}
    assert k(kommuner=["0419", "3418"]) == {"c", "d", "e"}  # pre-2020 number mapped
    assert k(availability=["ledig"]) == {"a", "c", "e"}
    assert k(availability=["reservert", "solgt"]) == {"b", "d"}
    assert k(purpose_groups=["industri"]) == {"a", "d", "e"}
    assert k(purpose_groups=["lager_logistikk", "kontor"]) == {"b", "c"}
    assert k(arealformal=[133]) == {"d"}
    assert k(min_daa=20) == {"b", "c"}          # 40 and 22.5 daa
    assert k(max_daa=10) == {"a", "d"}          # 10 and 3.6 daa
    assert k(min_daa=10, max_daa=22.5) == {"a", "c", "e"}
    assert k(road_access=False) == {"c"}
    assert k(water_sewer=True) == {"a", "d"}
    assert k(byggeklar=True) == {"a", "d"}
    assert k(byggeklar=False) == {"b", "c", "e"}
    assert k(min_power_mw=5) == {"a", "d"}
    x, y = INSIDE["3401"]
    assert k(bbox=(x - 10, y - 10, x + 150, y + 150), bbox_crs=25833) == {"a"}
    lon_lat_box = reproject(square_25833(x - 10, y - 10, 700), 25833, 4326).bounds
    assert k(bbox=lon_lat_box) == {"a", "b"}
    p = Point(x + 300, y + 50).wkt  # 200 m from a, 100 m from b
    assert k(near=p, near_crs=25833, near_distance_m=200) == {"a", "b"}
    assert k(near=p, near_crs=25833, near_distance_m=100) == {"b"}
    assert k(near=p, near_crs=25833, near_distance_m=99) == set()
    line = f"LINESTRING({x - 50} {y - 1000}, {x - 50} {y + 1000})"
    assert k(near=line, near_crs=25833, near_distance_m=60) == {"a"}
    page = search_plots(session, PlotQuery(q="jernbane", limit=1000), public=False)
    assert _ids_in(page, made) == {"a"}


def _ids_in(page, made) -> set[str]:
    _tag, ids = made
    back = {v: k for k, v in ids.items()}
    return {back[f["id"]] for f in page.features if f["id"] in back}


def test_public_sees_published_only(session, made):
    assert _keys(session, made, public=True) == {"a", "b", "c", "d"}


def test_withdrawn_hidden_unless_asked(session, made):
    _tag, ids = made
    update_plot(session, ids["c"], {"availability": "trukket"}, expected_version=1, user="t")
    assert "c" not in _keys(session, made)
    assert "c" in _keys(session, made, include_withdrawn=True)
    assert _keys(session, made, availability=["trukket"]) == {"c"}


def test_sorting_and_paging(session, made):
    tag, ids = made
    back = {v: k for k, v in ids.items()}
    page = search_plots(session, PlotQuery(q=tag, sort=["-area_daa"], limit=2), public=False)
    assert [back[f["id"]] for f in page.features] == ["b", "c"]
    assert page.number_matched == 5
    page2 = search_plots(session, PlotQuery(q=tag, sort=["-area_daa"], limit=2, offset=2),
                         public=False)
    assert [back[f["id"]] for f in page2.features] == ["e", "a"]
    by_price = search_plots(session, PlotQuery(q=tag, sort=["price_nok_m2"], limit=10),
                            public=False)
    assert [back[f["id"]] for f in by_price.features][:3] == ["b", "a", "c"]


def test_output_crs(session, made):
    tag, ids = made
    x, y = INSIDE["3401"]
    q = PlotQuery(ids=[ids["a"]])
    utm = search_plots(session, q, public=False, srid=25833).features[0]["geometry"]
    ring = utm["coordinates"][0][0]
    assert min(c[0] for c in ring) == pytest.approx(x, abs=0.01)
    assert min(c[1] for c in ring) == pytest.approx(y, abs=0.01)
    ll = search_plots(session, q, public=False, srid=4326).features[0]["geometry"]
    lon, lat = ll["coordinates"][0][0][0]
    assert 11 < lon < 13 and 59 < lat < 61  # RFC 7946 order: longitude, latitude


@pytest.mark.parametrize("kw, exc, field", [
    (dict(kommuner=["0301"]), UnknownCode, "kommunenummer"),
    (dict(availability=["gone"]), InvalidInput, "availability"),
    (dict(purpose_groups=["bakeri"]), InvalidInput, "purpose_group"),
    (dict(arealformal=[42]), UnknownCode, "arealformal"),
    (dict(min_daa=-1), InvalidInput, "min_daa"),
    (dict(min_daa=50, max_daa=10), InvalidInput, "min_daa"),
    (dict(limit=0), InvalidInput, "limit"),
    (dict(limit=100000), InvalidInput, "limit"),
    (dict(offset=-3), InvalidInput, "offset"),
    (dict(bbox=(12, 60, 11, 61)), InvalidInput, "bbox"),
    (dict(bbox=(0, 0, 1, 1), bbox_crs="EPSG:1"), InvalidCRS, "crs"),
    (dict(near="POINT(12 60)"), InvalidInput, "near_distance_m"),
    (dict(sort=["colour"]), InvalidInput, "sort"),
])
def test_bad_queries(session, kw, exc, field):
    with pytest.raises(exc) as err:
        search_plots(session, PlotQuery(**kw))
    assert err.value.field == field
