"""Create, update, withdraw and restore plots: geometry rules, kommune, history, bad input."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box, mapping
from sqlalchemy import func, select, text

from landreg.errors import (
    InvalidCRS,
    InvalidGeometry,
    InvalidInput,
    NotFound,
    OutsideRegion,
    StaleVersion,
    UnknownCode,
)
from landreg.models import Plot, PlotVersion
from landreg.registry.history import plot_versions
from landreg.registry.plots import create_plot, restore_plot, update_plot, withdraw_plot
from landreg.registry.search import fetch_one
from landreg.settings import Settings
from tests.helpers import INSIDE, plot_attrs, reproject, square_25833


def _count(session) -> tuple[int, int]:
    return (session.execute(select(func.count()).select_from(Plot)).scalar_one(),
            session.execute(select(func.count()).select_from(PlotVersion)).scalar_one())


@pytest.mark.parametrize("epsg", [25832, 4326, 25833])
def test_one_daa_square_stores_as_one_daa(session, epsg):
    x, y = INSIDE["3401"]
    square = square_25833(x, y)
    given = square if epsg == 25833 else reproject(square, 25833, epsg)
    if epsg == 25832:  # a square that is 1 daa in the input CRS itself
        x32, y32 = given.exterior.coords[0]
        given = box(x32, y32, x32 + 1000 ** 0.5, y32 + 1000 ** 0.5)
    result = create_plot(session, plot_attrs(), mapping(given), f"EPSG:{epsg}", user="test")
    assert result.plot["properties"]["area_daa"] == pytest.approx(1.000, abs=0.0005)
    assert result.plot["properties"]["kommunenummer"] == "3401"
    assert result.warnings == []


def test_kommune_is_derived_from_geometry(session):
    for k, (x, y) in INSIDE.items():
        res = create_plot(session, plot_attrs(name=f"T {k}"), square_25833(x, y, 100), 25833,
                          user="test")
        assert res.plot["properties"]["kommunenummer"] == k


def test_border_plot_goes_to_the_larger_part_and_reports_the_split(session):
    # A square over the Kongsvinger / Sør-Odal border, shifted so one side holds more.
    px, py = session.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(ST_GeometryN("
        "ST_LineMerge(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)), 1), 0.5) p "
        "FROM municipality a, municipality b WHERE a.kommunenummer = '3401' "
        "AND b.kommunenummer = '3415') s")).one()
    poly = box(px - 300, py - 200, px + 100, py + 200)
    # the answer, computed independently with geopandas on the original GeoPackage
    kommuner = gpd.read_file(Settings().demo_gpkg, layer="Kommune")
    shares = {r.kommunenummer: r.geometry.intersection(poly).area for r in kommuner.itertuples()}
    expected = max(shares, key=shares.get)
    assert sorted(k for k, v in shares.items() if v > 1) == ["3401", "3415"]
    res = create_plot(session, plot_attrs(), poly, 25833, user="test")
    assert res.plot["properties"]["kommunenummer"] == expected
    assert len(res.warnings) == 1 and "crosses a kommune border" in res.warnings[0]
    assert "3401" in res.warnings[0] and "3415" in res.warnings[0]
    # giving the smaller side's number is refused, naming the right one
    other = "3415" if expected == "3401" else "3401"
    with pytest.raises(InvalidInput, match=f"lies in {expected}") as err:
        create_plot(session, plot_attrs(kommunenummer=other), poly, 25833, user="test")
    assert err.value.field == "kommunenummer"


def test_pre2020_kommunenummer_is_accepted_and_mapped(session):
    x, y = INSIDE["3418"]
    res = create_plot(session, plot_attrs(kommunenummer="0425"), square_25833(x, y, 50), 25833,
                      user="test")
    assert res.plot["properties"]["kommunenummer"] == "3418"


def _bad_inputs():
    x, y = INSIDE["3401"]
    good = square_25833(x, y, 100)
    lonlat = reproject(good, 25833, 4326)
    bowtie = (f"POLYGON(({x} {y}, {x + 100} {y + 100}, {x + 100} {y}, {x} {y + 100}, "
              f"{x} {y}))")
    oslo = square_25833(262000, 6650000, 100)  # Oslo: Norway, but not Glåmdalen
    return [
        ("missing crs", plot_attrs(), good, None, InvalidCRS, "no coordinate reference system"),
        ("unknown crs", plot_attrs(), good, "EPSG:999999", InvalidCRS, "Unknown coordinate"),
        ("lon/lat said to be UTM", plot_attrs(), lonlat, 25833, InvalidCRS,
         "look like EPSG:4326"),
        ("UTM said to be lon/lat", plot_attrs(), good, 4326, InvalidCRS, "not in Norway"),
        ("self-intersection", plot_attrs(), bowtie, 25833, InvalidGeometry,
         "self-intersection at"),
        ("a line", plot_attrs(), f"LINESTRING({x} {y}, {x + 10} {y})", 25833, InvalidGeometry,
         "not a LineString"),
        ("outside the region", plot_attrs(), oslo, 25833, OutsideRegion, "outside the seven"),
        ("unknown arealformål", plot_attrs(arealformal=9999), good, 25833, UnknownCode,
         "Unknown arealformål code 9999"),
        ("kommune not of the seven", plot_attrs(kommunenummer="3018"), good, 25833, UnknownCode,
         "not one of the seven"),
        ("negative price", plot_attrs(price_nok_m2=-5), good, 25833, InvalidInput,
         "price_nok_m2 must be at least 0"),
        ("non-numeric price", plot_attrs(price_nok_m2="billig"), good, 25833, InvalidInput,
         "price_nok_m2 must be a number"),
        ("unknown availability", plot_attrs(availability="gratis"), good, 25833, UnknownCode,
         "availability must be one of"),
        ("unknown field", plot_attrs(colour="red"), good, 25833, InvalidInput,
         "Unknown field"),
        ("missing name", plot_attrs(name=""), good, 25833, InvalidInput, "name is required"),
    ]


@pytest.mark.parametrize("case", _bad_inputs(), ids=lambda c: c[0])
def test_bad_input_is_refused_clearly_and_nothing_is_written(session, case):
    _label, attrs, geom, crs, exc_type, message = case
    before = _count(session)
    with pytest.raises(exc_type) as err:
        create_plot(session, attrs, geom, crs, user="test")
    assert message.lower() in err.value.message.lower()
    assert err.value.field  # the error names the field
    assert _count(session) == before


def test_invalid_polygon_is_repaired_only_when_asked(session):
    x, y = INSIDE["3401"]
    bowtie = (f"POLYGON(({x} {y}, {x + 100} {y + 100}, {x + 100} {y}, {x} {y + 100}, "
              f"{x} {y}))")
    res = create_plot(session, plot_attrs(), bowtie, 25833, user="test", repair=True)
    assert res.plot["properties"]["area_daa"] == pytest.approx(5.0, abs=0.001)  # two triangles


def test_every_update_is_kept_in_history_with_a_diff(session):
    x, y = INSIDE["3417"]
    res = create_plot(session, plot_attrs(price_nok_m2=200), square_25833(x, y, 100), 25833,
                      user="kari")
    pid = res.plot["id"]
    update_plot(session, pid, {"price_nok_m2": 250}, expected_version=1, user="ola")
    update_plot(session, pid, {}, expected_version=2, user="ola",
                geometry=square_25833(x, y, 200), crs=25833)
    withdraw_plot(session, pid, expected_version=3, user="kari", reason="Solgt privat")
    restore_plot(session, pid, expected_version=4, user="kari")
    versions = plot_versions(session, pid)
    assert [v["version"] for v in versions] == [1, 2, 3, 4, 5]
    assert [v["changed_by"] for v in versions] == ["kari", "ola", "ola", "kari", "kari"]
    assert versions[1]["changes"] == {"price_nok_m2": {"from": 200.0, "to": 250.0}}
    assert set(versions[2]["changes"]) == {"geometry", "area_daa"}
    assert versions[2]["changes"]["area_daa"]["to"] == pytest.approx(40.0)
    assert versions[3]["changes"]["availability"] == {"from": "ledig", "to": "trukket"}
    assert versions[3]["changes"]["withdrawn_reason"] == {"from": None, "to": "Solgt privat"}
    assert versions[4]["changes"]["withdrawn_reason"] == {"from": "Solgt privat", "to": None}
    assert versions[4]["attributes"]["availability"] == "ledig"
    assert versions[4]["attributes"]["published"] is True
    now = fetch_one(session, pid, public=False)
    assert now["properties"]["version"] == 5
    assert now["properties"]["withdrawn_reason"] is None  # undone with the withdrawal


def test_stale_version_is_refused_and_nothing_is_lost(session):
    x, y = INSIDE["3416"]
    pid = create_plot(session, plot_attrs(), square_25833(x, y, 100), 25833, user="a").plot["id"]
    update_plot(session, pid, {"price_nok_m2": 300}, expected_version=1, user="a")
    with pytest.raises(StaleVersion) as err:
        update_plot(session, pid, {"price_nok_m2": 100}, expected_version=1, user="b")
    assert err.value.details == {"expected_version": 1, "current_version": 2}
    assert fetch_one(session, pid, public=False)["properties"]["price_nok_m2"] == 300


def test_withdrawn_plots_are_never_deleted_and_hidden_from_the_public(session):
    x, y = INSIDE["3414"]
    pid = create_plot(session, plot_attrs(), square_25833(x, y, 100), 25833, user="a").plot["id"]
    withdraw_plot(session, pid, expected_version=1, user="a")
    assert fetch_one(session, pid, public=False)["properties"]["availability"] == "trukket"
    with pytest.raises(NotFound):
        fetch_one(session, pid, public=True)
    with pytest.raises(InvalidInput, match="already withdrawn"):
        withdraw_plot(session, pid, expected_version=2, user="a")


def test_public_view_hides_internal_fields_and_unpublished_plots(session):
    x, y = INSIDE["3415"]
    pid = create_plot(session, plot_attrs(published=False, internal_notes="hemmelig"),
                      square_25833(x, y, 100), 25833, user="a").plot["id"]
    with pytest.raises(NotFound):
        fetch_one(session, pid, public=True)
    update_plot(session, pid, {"published": True}, expected_version=1, user="a")
    public = fetch_one(session, pid, public=True)
    assert "internal_notes" not in public["properties"]
    assert "hemmelig" not in str(public)
    assert fetch_one(session, pid, public=False)["properties"]["internal_notes"] == "hemmelig"
