"""Real plans in: SOSI, plan GML and GeoPackage import without a column mapping (issue 11).

Business areas are created with name, code, plan id and plan status; every other area is
skipped and counted per code; importing twice leaves everything unchanged; one changed
attribute is one update.
"""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import select

from landreg.ingest.importer import ImportRejected, apply_import, plan_import
from landreg.ingest.readers import read_source
from landreg.ingest.sosi import read_sosi
from landreg.models import Plot
from landreg.registry.codes import (
    NotBusinessLand,
    UnknownCode,
    all_arealformal_codes,
    arealformal_codes,
    lookup_arealformal,
)
from tests.ingest.plans import Area, gml_plan, gpkg_plan, mixed_plan, sosi_plan

SKIPS = {"1110 Boligbebyggelse: ikke næringsareal": 1,
         "2011 Kjøreveg: ikke næringsareal": 1,
         "3040 Friområde: ikke næringsareal": 1}


def _write(fmt, folder, areas):
    return {"sos": sosi_plan, "gml": gml_plan, "gpkg": gpkg_plan}[fmt](folder, areas)


@pytest.mark.parametrize("fmt", ["sos", "gml", "gpkg"])
def test_a_mixed_plan_imports_business_areas_and_skips_the_rest(session, tmp_path, fmt):
    path = _write(fmt, tmp_path, mixed_plan(f"M{fmt}"))
    report = plan_import(session, path, kommune="3401", user="kari")
    assert report.counts == {"create": 2, "update": 0, "unchanged": 0, "skipped": 3,
                             "rejected": 0}, report.rejected
    assert report.skipped_by_code == SKIPS
    assert report.to_dict()["skipped_by_code"] == SKIPS
    assert any("eierform" in w for w in report.warnings)
    assert "ownership" not in report.mapping
    apply_import(session, report, "kari")
    plots = session.execute(select(Plot).where(Plot.external_ref.like(f"M{fmt}-uuid-%"))
                            .order_by(Plot.external_ref)).scalars().all()
    assert [(p.name, p.arealformal, p.purpose_group) for p in plots] == [
        ("BI1 Næringsområde Åsbø", 1340, "industri"), ("BKB2 Industri/lager", 1826, "industri")]
    assert {p.plan_id for p in plots} == {"3401_2021004"}
    status = {"sos": "vedtatt", "gml": "forslag", "gpkg": "vedtatt"}[fmt]
    assert {p.plan_legal_status for p in plots} == {status}
    assert {p.plan_status for p in plots} == {"nåværende"}  # not taken from planstatus
    assert {p.ownership for p in plots} == {None}
    # the hole is kept: 60 × 60 minus 10 × 10
    assert plots[0].area_daa == pytest.approx(3.5, abs=0.001)

    again = plan_import(session, path, kommune="3401", user="kari")
    assert again.counts == {"create": 0, "update": 0, "unchanged": 2, "skipped": 3,
                            "rejected": 0}


def test_one_changed_attribute_is_one_update(session, tmp_path):
    areas = mixed_plan("U")
    apply_import(session, plan_import(session, sosi_plan(tmp_path, areas), kommune="3401",
                                      user="kari"), "kari")
    areas[1].feltnavn = "BKB2 Nytt navn"
    report = plan_import(session, sosi_plan(tmp_path, areas, name="v2.sos"), kommune="3401",
                         user="kari")
    assert report.counts["update"] == 1 and report.counts["unchanged"] == 1
    assert report.by_action("update")[0].changes == ("name",)


def test_rejections_still_block_but_skips_do_not(session, tmp_path):
    areas = mixed_plan("R") + [Area(9999, "X1", 500, lokalid="R-uuid-9")]
    report = plan_import(session, sosi_plan(tmp_path, areas), kommune="3401", user="kari")
    assert report.counts["rejected"] == 1 and report.counts["skipped"] == 3
    assert "Unknown arealformål code 9999" in report.rejected[0].reasons[0].message
    with pytest.raises(ImportRejected):
        apply_import(session, report, "kari")
    apply_import(session, report, "kari", allow_partial=True)
    assert report.counts["create"] == 2


def test_sosi_without_lokalid_uses_plan_id_and_object_number(session, tmp_path):
    path = sosi_plan(tmp_path, mixed_plan("N"), with_lokalid=False)
    report = plan_import(session, path, kommune="3401", user="kari")
    refs = [f.external_ref for f in report.by_action("create")]
    assert len(refs) == 2 and all(r.startswith("2021004-") for r in refs)
    apply_import(session, report, "kari")
    again = plan_import(session, path, kommune="3401", user="kari")
    assert again.counts["unchanged"] == 2


@pytest.mark.parametrize(("koordsys", "epsg"), [(22, 25832), (23, 25833), (25, 25835),
                                                 (5110, 5110), (110, 5110)])
def test_sosi_coordinate_systems(tmp_path, koordsys, epsg):
    path = sosi_plan(tmp_path, mixed_plan("C")[:1], koordsys=koordsys, epsg=epsg)
    src = read_source(path)
    assert src.crs_label == f"EPSG:{epsg}"
    back = src.frame.to_crs(25833).geometry.iloc[0]
    x, y = back.exterior.coords[0]
    from tests.helpers import INSIDE
    assert (x, y) == pytest.approx((INSIDE["3401"][0], INSIDE["3401"][1] - 1200), abs=0.02)


@pytest.mark.parametrize("charset", ["ISO8859-10", "ISO8859-1", "UTF-8", "ANSI"])
def test_sosi_charsets(tmp_path, charset):
    src = read_source(sosi_plan(tmp_path, mixed_plan("T")[:1], charset=charset))
    row = src.frame.iloc[0]
    assert row["feltnavn"] == "BI1 Næringsområde Åsbø"
    assert row["plannavn"] == "Reguleringsplan for Åsbø næringsområde"
    assert row["rparealformål"] == "1340" and row["lokalid"] == "T-uuid-1"


def test_sosi_flate_with_reversed_reference_and_hole():
    data = "\n".join([
        ".HODE", "..TEGNSETT UTF-8", "..TRANSPAR", "...KOORDSYS 23", "...ORIGO-NØ 6600000 300000",
        "...ENHET 1",
        ".KURVE 1:", "..NØ", "0 0", "0 100", "100 100",
        ".KURVE 2:", "..NØ", "0 0", "100 0", "100 100",     # run the other way: used reversed
        ".BUEP 3:", "..NØ", "40 40", "50 50", "60 40",
        ".KURVE 4:", "..NØ", "60 40", "40 40",
        ".FLATE 5:", "..RPAREALFORMÅL 1340", "..REF :1 :-2", "(:3 :4)", "..NØ", "5 5",
        ".SLUTT"]).encode()
    frame = read_sosi(data)
    geom = frame.geometry.iloc[0]
    assert geom.is_valid and len(geom.interiors) == 1
    assert geom.exterior.coords[0] == (300000.0, 6600000.0)
    assert 9000 < geom.area < 10000  # minus the half-disc hole
    assert frame.iloc[0]["lokalid"] == "sosi-5"


def test_sosi_multipart_plan_area_of_two_flater_with_one_lokalid_is_a_duplicate(session,
                                                                                tmp_path):
    areas = mixed_plan("D")[:2]
    areas[1].lokalid = areas[0].lokalid
    report = plan_import(session, sosi_plan(tmp_path, areas), kommune="3401", user="kari")
    assert report.counts["rejected"] == 2
    assert "appears 2 times" in report.rejected[0].reasons[0].message


def test_code_lists_against_their_source_file():
    codes = all_arealformal_codes()
    business = arealformal_codes()
    # the errors named in issue 11
    assert lookup_arealformal(1802).nb == "Bolig/forretning/kontor"
    for c in (1830, 1341, 1342, 1801, 1802, 1803, 1804, 1813, 1814, 1824):
        assert c in codes
    assert codes[1342].nb == "Datasenter"
    assert codes[1831].nb == "Kontor/tjenesteyting"
    assert codes[1830].nb == "Kontor/industri"
    assert codes[2011].nb == "Kjøreveg" and not codes[2011].business
    with pytest.raises(NotBusinessLand, match="2011 Kjøreveg: ikke næringsareal"):
        lookup_arealformal(2011)
    with pytest.raises(UnknownCode):
        lookup_arealformal(9999)
    assert all(c.group in {"industri", "lager_logistikk", "kontor", "handel", "naering",
                           "kombinert", "annen"} for c in business.values())
    assert {c.main for c in codes.values() if not c.business} <= {
        "bebyggelse", "samferdsel", "gronnstruktur", "forsvaret", "lnfr", "sjo_vassdrag",
        "kombinert"}
    assert all(c.system in ("rp", "kp", "rp+kp", "pbl1985") for c in codes.values())
    assert len(codes) > 250


def test_file_header_names_source_and_version():
    from landreg.registry.codes import CODES_FILE

    head = CODES_FILE.read_text(encoding="utf-8").split("codes:")[0]
    assert "source:" in head and "version:" in head and "provenance:" in head


def test_plan_gml_picks_the_purpose_layer_not_the_plan_boundary(tmp_path):
    src = read_source(gml_plan(tmp_path, mixed_plan("G")))
    assert src.format == "plan GML" and src.layer == "RpArealformålOmråde"
    assert len(src.frame) == 5
    assert shapely.get_num_interior_rings(src.frame.geometry.iloc[0]) == 1


def test_an_identical_outline_under_another_reference_is_recognised(session, tmp_path):
    areas = mixed_plan("O")
    first = plan_import(session, gpkg_plan(tmp_path, areas), kommune="3401", user="kari")
    apply_import(session, first, "kari")
    for a in areas:
        a.lokalid = a.lokalid.replace("O-", "O2-")
    report = plan_import(session, sosi_plan(tmp_path, areas), kommune="3401", user="kari")
    assert report.counts["create"] == 0 and report.counts["update"] == 2
    assert all("external_ref" in f.changes for f in report.by_action("update"))
    apply_import(session, report, "kari")
    again = plan_import(session, sosi_plan(tmp_path, areas, name="again.sos"), kommune="3401",
                        user="kari")
    assert again.counts["unchanged"] == 2


def test_a_csv_with_one_crs_column_value_needs_no_crs_argument(tmp_path):
    from landreg.ingest.readers import MissingCRS

    path = tmp_path / "eksport.csv"
    path.write_text("name,crs,wkt\nA,EPSG:25832,\"POLYGON((0 0,1 0,1 1,0 0))\"\n",
                    encoding="utf-8")
    assert read_source(path).crs_label == "EPSG:25832"
    path.write_text("name,crs,wkt\nA,EPSG:25832,\"POLYGON((0 0,1 0,1 1,0 0))\"\n"
                    "B,EPSG:4326,\"POLYGON((0 0,1 0,1 1,0 0))\"\n", encoding="utf-8")
    with pytest.raises(MissingCRS):
        read_source(path)


def test_a_plan_from_elsewhere_says_so_once_with_where(session, tmp_path):
    from landreg.ingest.importer import OutsideRegion

    path = tmp_path / "bergen.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + ", ".join(
        '{"type": "Feature", "properties": {"navn": "T' + str(i) + '", "arealformal": 1340}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[5.32, 60.39], [5.321, 60.39], '
        '[5.321, 60.391], [5.32, 60.39]]]}}' for i in range(3)) + "]}", encoding="utf-8")
    with pytest.raises(OutsideRegion, match=r"bergen.geojson: none of its 3 areas .* around "
                                            r"60.39\d° N 5.32\d° E"):
        plan_import(session, path, user="kari")


def test_a_small_plot_outside_reads_in_square_metres(session, tmp_path):
    import geopandas as gpd

    from tests.helpers import INSIDE, square_25833

    x, y = INSIDE["3401"]
    frame = gpd.GeoDataFrame({"navn": ["lite", "inne"], "arealformal": [1340, 1340]},
                             geometry=[square_25833(100_000, 6_650_000, 5),
                                       square_25833(x, y - 900, 40)], crs=25833)
    report = plan_import(session, frame, user="kari")
    assert report.rejected[0].reasons[0].message.startswith("25 m² of the plot's 25 m² lie")
