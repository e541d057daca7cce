"""Planning and applying imports: every format and CRS, the dry-run report, matching, rules.

These tests use the rolled-back ``session``; the real transaction behaviour (a failed import
leaves the register byte-for-byte unchanged) is tested on a scratch database in
``test_transaction.py``.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Polygon, box
from sqlalchemy import func, select, update

from landreg.errors import InvalidCRS, InvalidInput, StaleVersion
from landreg.ingest.importer import (
    ImportRejected,
    apply_import,
    plan_import,
    resolve_mapping,
)
from landreg.ingest.readers import FileTooLarge, MissingCRS, ReadLimits
from landreg.models import Plot, PlotVersion
from landreg.registry.fields import clean_attributes
from landreg.registry.plots import create_plot, update_plot
from tests.helpers import INSIDE, plot_attrs, square_25833
from tests.ingest.files import FORMATS, plots_frame, write


def _counts(session) -> tuple[int, int]:
    return (session.execute(select(func.count()).select_from(Plot)).scalar_one(),
            session.execute(select(func.count()).select_from(PlotVersion)).scalar_one())


def _plots(session, prefix: str) -> list:
    return session.execute(
        select(Plot).where(Plot.external_ref.like(f"{prefix}-%")).order_by(Plot.external_ref)
    ).scalars().all()


@pytest.mark.parametrize("epsg", [25832, 4326])
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_and_crs_imports(session, tmp_path, fmt, epsg):
    prefix = f"F{fmt}{epsg}"
    frame = plots_frame(prefix=prefix)
    path = write(frame, tmp_path, fmt, epsg)
    crs = f"EPSG:{epsg}" if fmt == "csv" else None
    report = plan_import(session, path, kommune="3401", crs=crs, user="test")
    assert report.counts == {"create": 3, "update": 0, "unchanged": 0, "skipped": 0, "rejected": 0}
    assert report.crs == f"EPSG:{epsg}"
    assert report.mapping == {"external_ref": "ref", "name": "navn", "arealformal": "formal"}
    before = _counts(session)
    apply_import(session, report, "importør")
    assert _counts(session) == (before[0] + 3, before[1] + 3)  # one history row per plot
    plots = _plots(session, prefix)
    assert [p.external_ref for p in plots] == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]
    for p in plots:
        assert p.kommunenummer == "3401" and p.arealformal == 1340
        assert p.purpose_group == "industri" and p.plan_status == "nåværende"
        assert p.availability == "ledig" and p.published is False
        assert p.area_daa == pytest.approx(3.6, abs=0.001)  # 60 m × 60 m, in any CRS
        assert p.created_by == p.updated_by == "importør" and p.version == 1
    assert sorted(f.plot_id for f in report.features) == sorted(p.id for p in plots)
    again = plan_import(session, path, kommune="3401", crs=crs, user="test")
    assert again.counts["unchanged"] == 3


@pytest.fixture
def existing(session):
    """Three plots in 3401 the file below refers to (R-A, R-B, R-M), south of INSIDE."""
    x, y = INSIDE["3401"]
    made = {}
    for ref, dx, extra in (("R-A", 0, {"price_nok_m2": 300, "description": "Gammel"}),
                           ("R-B", 100, {}), ("R-M", 200, {})):
        res = create_plot(session, plot_attrs(external_ref=ref, name=f"Plot {ref}", **extra),
                          square_25833(x + dx, y - 900, 50), 25833, user="test")
        made[ref] = res.plot["id"]
    return made


def _mixed_file(tmp_path) -> gpd.GeoDataFrame:
    x, y = INSIDE["3401"]
    bowtie = Polygon([(x, y - 700), (x + 50, y - 650), (x + 50, y - 700), (x, y - 650)])
    rows = [
        ("R-A", "Plot R-A ny", 1340, 350, "ledig", square_25833(x, y - 900, 50)),
        ("R-B", "Plot R-B", 1340, None, "ledig", square_25833(x + 100, y - 900, 50)),
        ("R-C", "Ny tomt", 1350, None, "ledig", square_25833(x + 300, y - 900, 50)),
        ("R-D", "Sløyfe", 1340, None, "ledig", bowtie),
        ("R-E", "Utenfor", 1340, None, "ledig", square_25833(100_000, 6_650_000, 50)),
        ("R-F", "Sør-Odal", 1340, None, "ledig", square_25833(*INSIDE["3415"], 50)),
        ("R-G", "Ukjent kode", 9999, None, "ledig", square_25833(x + 400, y - 900, 50)),
        ("R-H", None, 1340, None, "ledig", square_25833(x + 500, y - 900, 50)),
        ("R-I", "Negativ pris", 1340, -5, "ledig", square_25833(x + 600, y - 900, 50)),
        ("R-J", "Dobbel 1", 1340, None, "ledig", square_25833(x + 700, y - 900, 50)),
        ("R-J", "Dobbel 2", 1340, None, "ledig", square_25833(x + 800, y - 900, 50)),
        ("R-K", "Feil status", 1340, None, "kanskje", square_25833(x + 900, y - 900, 50)),
        ("R-M", "Plot R-M", 1340, None, "ledig", square_25833(x + 210, y - 900, 50)),
    ]
    return gpd.GeoDataFrame(
        {"ref": [r[0] for r in rows], "navn": [r[1] for r in rows],
         "formal": [r[2] for r in rows], "pris": [r[3] for r in rows],
         "tilgj": [r[4] for r in rows], "publisert": [True] * len(rows)},
        geometry=[r[5] for r in rows], crs=25833,
    )


def test_dry_run_report_says_what_would_happen_and_why(session, tmp_path, existing):
    path = write(_mixed_file(tmp_path), tmp_path, "gpkg", 25832)
    before = _counts(session)
    report = plan_import(session, path, kommune="3401", mapping={"availability": "tilgj"},
                         user="test")
    assert _counts(session) == before  # a plan writes nothing
    assert report.counts == {"create": 1, "update": 2, "unchanged": 1, "skipped": 0, "rejected": 9}
    assert report.mapping == {"availability": "tilgj", "external_ref": "ref", "name": "navn",
                              "arealformal": "formal", "price_nok_m2": "pris",
                              "published": "publisert"}
    by_row = {f.row: f for f in report.features}
    assert by_row[1].action == "update" and by_row[1].plot_id == existing["R-A"]
    assert by_row[1].changes == ("name", "price_nok_m2")
    assert by_row[2].action == "unchanged" and by_row[2].plot_id == existing["R-B"]
    assert by_row[3].action == "create" and by_row[3].plot_id is None
    assert by_row[13].action == "update" and by_row[13].changes == ("geometry",)

    def reason(row: int) -> tuple[str, str | None, str]:
        f = by_row[row]
        assert f.action == "rejected", f
        return f.reasons[0].code, f.reasons[0].field, f.reasons[0].message

    code, field, message = reason(4)
    assert (code, field) == ("invalid_geometry", "geometry")
    assert "self-intersection at" in message and "(EPSG:25832)" in message  # the file's CRS
    assert reason(5)[:2] == ("outside_region", "geometry")
    assert "outside the seven Glåmdalen kommuner" in reason(5)[2]
    assert reason(6)[0] == "outside_kommune" and "lies in 3415 Sør-Odal" in reason(6)[2]
    assert reason(7)[:2] == ("unknown_code", "arealformal") and "9999" in reason(7)[2]
    assert reason(8)[:2] == ("missing_field", "name") and "column 'navn' is empty" in reason(8)[2]
    assert reason(9)[:2] == ("invalid_input", "price_nok_m2") and "at least 0" in reason(9)[2]
    assert reason(10)[0] == reason(11)[0] == "duplicate_ref"
    assert "features 10, 11" in reason(10)[2]
    assert reason(12)[:2] == ("unknown_code", "availability")
    assert [f.row for f in report.rejected] == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    summary = report.to_dict()
    assert summary["counts"] == report.counts and len(summary["features"]) == 13


def test_rejections_stop_the_write_unless_partial_is_allowed(session, tmp_path, existing):
    path = write(_mixed_file(tmp_path), tmp_path, "geojson", 4326)
    report = plan_import(session, path, kommune="3401", user="test",
                         mapping={"availability": "tilgj"})
    before = _counts(session)
    with pytest.raises(ImportRejected, match="9 of 13 features were rejected") as err:
        apply_import(session, report, "test")
    assert err.value.report is report and not report.applied
    assert _counts(session) == before
    apply_import(session, report, "test", allow_partial=True)
    assert _counts(session) == (before[0] + 1, before[1] + 3)  # 1 new plot, 3 new versions
    a = session.get(Plot, existing["R-A"])
    session.refresh(a)
    assert (a.name, float(a.price_nok_m2), a.version, a.updated_by) == ("Plot R-A ny", 350.0, 2,
                                                                        "test")
    assert a.description == "Gammel"  # not a column of the file: untouched
    with pytest.raises(InvalidInput, match="already been applied"):
        apply_import(session, report, "test")


def test_empty_cells_clear_optional_fields_and_keep_required_ones(session, tmp_path, existing):
    x, y = INSIDE["3401"]
    frame = gpd.GeoDataFrame({"ref": ["R-A"], "beskrivelse": [None], "tilgjengelighet": [None]},
                             geometry=[square_25833(x, y - 900, 50)], crs=25833)
    report = plan_import(session, frame, kommune="3401", user="test")
    assert report.mapping == {"external_ref": "ref", "availability": "tilgjengelighet",
                              "description": "beskrivelse"}
    assert report.features[0].changes == ("description",)
    apply_import(session, report, "test")
    a = session.get(Plot, existing["R-A"])
    session.refresh(a)
    assert a.description is None and a.availability == "ledig"


def test_stale_plot_fails_the_whole_apply(session, tmp_path, existing):
    frame = plots_frame(prefix="STALE", n=2)
    x, y = INSIDE["3401"]
    frame.loc[len(frame)] = ["R-B", "Plot R-B endret", 1340, square_25833(x + 100, y - 900, 50)]
    report = plan_import(session, frame, kommune="3401", user="test")
    assert report.counts["create"] == 2 and report.counts["update"] == 1
    update_plot(session, existing["R-B"], {"description": "endret i mellomtiden"},
                expected_version=1, user="noen andre")
    before = _counts(session)
    with pytest.raises(StaleVersion, match="changed by someone else"):
        apply_import(session, report, "test")
    assert _counts(session) == before  # the two creates, written first, are gone too
    assert _plots(session, "STALE") == []


def test_kommune_follows_geometry_without_kommune_and_border_warning(session):
    from sqlalchemy import text

    px, py = session.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(ST_GeometryN("
        "ST_LineMerge(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)), 1), 0.5) p "
        "FROM municipality a, municipality b WHERE a.kommunenummer = '3401' "
        "AND b.kommunenummer = '3415') s")).one()
    frame = gpd.GeoDataFrame(
        {"ref": ["K-1", "K-2", "K-3"], "navn": ["Grense", "Grue", "Kommunenr feil"],
         "formal": [1340, 1340, 1340], "kommunenr": [None, "0423", "3401"]},
        geometry=[box(px - 300, py - 200, px + 100, py + 200),
                  square_25833(*INSIDE["3417"], 50), square_25833(*INSIDE["3418"], 50)],
        crs=25833)
    report = plan_import(session, frame, user="test")
    f1, f2, f3 = report.features
    assert f1.action == "create" and f1.kommunenummer in ("3401", "3415")
    assert "crosses a kommune border" in f1.warnings[0]
    assert report.with_warnings()[0].row == 1
    assert f2.action == "create" and f2.kommunenummer == "3417"  # 0423 is Grue before 2020
    assert f3.action == "rejected" and f3.reasons[0].field == "kommunenummer"
    assert "lies in 3418" in f3.reasons[0].message


def test_match_by_landreg_id_when_there_is_no_external_ref(session):
    x, y = INSIDE["3416"]
    made = create_plot(session, plot_attrs(name="Uten ref"), square_25833(x, y, 40), 25833,
                       user="test").plot["id"]
    frame = gpd.GeoDataFrame({"landreg_id": [made, 999_999_999], "name": ["Uten ref", "Ny"],
                              "arealformal": [1340, 1340]},
                             geometry=[square_25833(x, y, 40), square_25833(x + 100, y, 40)],
                             crs=25833)
    report = plan_import(session, frame, kommune="3416", user="test")
    assert [f.action for f in report.features] == ["unchanged", "create"]
    assert report.features[0].plot_id == made


def test_repair_turns_an_invalid_polygon_into_a_warning(session):
    x, y = INSIDE["3419"]
    bowtie = Polygon([(x, y), (x + 50, y + 50), (x + 50, y), (x, y + 50)])
    frame = gpd.GeoDataFrame({"navn": ["Sløyfe"], "formal": [1340]}, geometry=[bowtie],
                             crs=25833)
    assert plan_import(session, frame, user="test").counts["rejected"] == 1
    report = plan_import(session, frame, user="test", repair=True)
    assert report.counts["create"] == 1 and "repaired" in report.features[0].warnings[0]
    apply_import(session, report, "test")
    plot = session.get(Plot, report.features[0].plot_id)
    assert plot.area_daa == pytest.approx(1.25, abs=0.001)  # two triangles of 625 m²


def test_features_that_are_not_polygons_or_empty_are_rejected(session):
    x, y = INSIDE["3401"]
    frame = gpd.GeoDataFrame({"navn": ["Linje", "Tom", "Null"], "formal": [1340] * 3},
                             geometry=[LineString([(x, y), (x + 10, y)]), Polygon(), None],
                             crs=25833)
    report = plan_import(session, frame, user="test")
    msgs = [f.reasons[0].message for f in report.features]
    assert "not a LineString" in msgs[0]
    assert msgs[1] == msgs[2] == "The feature has no geometry."


def test_a_wrong_crs_for_the_whole_file_is_an_error_not_rejections(session, tmp_path):
    path = write(plots_frame(), tmp_path, "csv", 25833)
    with pytest.raises(InvalidCRS, match="no feature lies in Norway.*look like EPSG:25833"):
        plan_import(session, path, crs="EPSG:4326", user="test")


def test_plan_refuses_missing_crs_oversized_file_and_no_user(session, tmp_path):
    frame = plots_frame()
    with pytest.raises(MissingCRS):
        plan_import(session, frame.set_crs(None, allow_override=True), user="test")
    path = write(frame, tmp_path, "gpkg")
    with pytest.raises(FileTooLarge):
        plan_import(session, path, user="test", limits=ReadLimits(max_bytes=2048))
    with pytest.raises(InvalidInput, match="user name"):
        plan_import(session, path, user=" ")


def test_resolve_mapping_defaults_aliases_and_explicit_choices():
    cols = ["NAVN", "Arealformål", "Status", "Eier", "PRIS", "annet"]
    mapping, ignored = resolve_mapping(cols)
    assert mapping == {"name": "NAVN", "arealformal": "Arealformål", "plan_status": "Status",
                       "ownership": "Eier", "price_nok_m2": "PRIS"}
    assert ignored == ["annet"]
    mapping, ignored = resolve_mapping(cols, {"arealformål": "annet", "status": "",
                                              "name": "navn"})
    assert mapping["arealformal"] == "annet" and mapping["name"] == "NAVN"
    assert "plan_status" not in mapping and "Status" in ignored
    with pytest.raises(InvalidInput, match="Unknown field 'farge'"):
        resolve_mapping(cols, {"farge": "NAVN"})
    with pytest.raises(InvalidInput, match="names a column the file does not have"):
        resolve_mapping(cols, {"name": "TOMTENAVN"})


def test_norwegian_values_are_understood(session):
    x, y = INSIDE["3414"]
    frame = gpd.GeoDataFrame(
        {"navn": ["A", "B"], "arealformål": ["133", 1826.0], "status": [2, "1"],
         "vegtilkomst": ["ja", "nei"], "pris": ["1 250,50", None], "eierskap": ["Kommunal", None]},
        geometry=[square_25833(x, y, 40), square_25833(x + 100, y, 40)], crs=25833)
    report = plan_import(session, frame, user="test")
    assert report.counts["create"] == 2, report.rejected
    apply_import(session, report, "test")
    a, b = (session.get(Plot, f.plot_id) for f in report.features)
    assert (a.arealformal, a.purpose_group, a.plan_status) == (133, "industri", "framtidig")
    assert (a.road_access, float(a.price_nok_m2), a.ownership) == (True, 1250.5, "kommunal")
    assert (b.arealformal, b.plan_status, b.road_access, b.price_nok_m2) == (
        1826, "nåværende", False, None)


def test_text_fields_only_check_length():
    """The importer checks a text column by its longest value (see _plain_text_passes); that
    is only right while registry.fields checks text fields for length alone."""
    for name, limit in (("name", 200), ("external_ref", 100), ("plan_id", 100),
                        ("contact", 4000), ("description", 4000), ("internal_notes", 4000)):
        for value in ("x", "Æ ø å <b>&;", "y" * limit):
            assert clean_attributes({name: value}, creating=False)[name] == value
        with pytest.raises(InvalidInput):
            clean_attributes({name: "z" * (limit + 1)}, creating=False)


def test_too_long_name_is_rejected_per_feature(session):
    x, y = INSIDE["3401"]
    frame = gpd.GeoDataFrame({"navn": ["Kort", "L" * 201], "formal": [1340, 1340]},
                             geometry=[square_25833(x, y - 300, 30),
                                       square_25833(x + 50, y - 300, 30)], crs=25833)
    report = plan_import(session, frame, user="test")
    assert [f.action for f in report.features] == ["create", "rejected"]
    assert "longer than 200" in report.features[1].reasons[0].message


def test_published_update_and_report_counts_are_consistent(session, existing):
    session.execute(update(Plot).where(Plot.id == existing["R-B"]).values(published=False))
    x, y = INSIDE["3401"]
    frame = gpd.GeoDataFrame({"ref": ["R-B"], "publisert": ["ja"]},
                             geometry=[square_25833(x + 100, y - 900, 50)], crs=25833)
    report = plan_import(session, frame, kommune="0402", user="test")  # pre-2020 number
    assert report.kommune == "3401"
    assert report.features[0].changes == ("published",)
    assert len(report) == sum(report.counts.values()) == 1


def test_a_plot_added_meanwhile_with_the_same_ref_is_a_conflict(session):
    from landreg.ingest.importer import ImportConflict

    frame = plots_frame(prefix="KONFLIKT", n=2)
    report = plan_import(session, frame, kommune="3401", user="test")
    assert report.counts["create"] == 2
    x, y = INSIDE["3401"]
    create_plot(session, plot_attrs(external_ref="KONFLIKT-2"), square_25833(x, y + 900, 30),
                25833, user="noen andre")
    before = _counts(session)
    with pytest.raises(ImportConflict, match="plan the import again"):
        apply_import(session, report, "test")
    assert _counts(session) == before
    assert [p.external_ref for p in _plots(session, "KONFLIKT")] == ["KONFLIKT-2"]
