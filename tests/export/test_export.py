"""Exports: every format and CRS, the fixed columns, public vs internal, the QGIS style, and
the export → import round trip that must change nothing."""

from __future__ import annotations

import json
import sqlite3
import uuid

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import func, select, text

import landreg.ingest.export as export_module
from landreg.cli import main
from landreg.errors import InvalidInput
from landreg.ingest.export import EXPORT_COLUMNS, export_columns, export_plots
from landreg.ingest.importer import apply_import, plan_import
from landreg.models import Plot, PlotVersion
from landreg.registry.fields import INTERNAL_FIELDS, PUBLIC_FIELDS
from landreg.registry.plots import create_plot, withdraw_plot
from landreg.registry.search import PlotQuery
from tests.helpers import INSIDE, plot_attrs, square_25833

SUFFIXES = (".gpkg", ".geojson", ".fgb", ".csv")


@pytest.fixture
def marked(session):
    """Three plots in 3419 under one fresh tag: published, unpublished, withdrawn."""
    tag = "EXP" + uuid.uuid4().hex[:6]
    x, y = INSIDE["3419"]
    ids = {}
    for i, (key, extra) in enumerate((
        ("pub", dict(published=True, internal_notes="hemmelig", price_nok_m2=255.5,
                     road_access=True, water_sewer=True, power_capacity_mw=2.5)),
        ("unpub", dict(published=False, internal_notes="også hemmelig")),
        ("gone", dict(published=True)),
    )):
        res = create_plot(session, plot_attrs(name=f"{tag} {key}", external_ref=f"{tag}-{key}",
                                              **extra),
                          square_25833(x + 200 * i, y - 2000, 70), 25833, user="test")
        ids[key] = res.plot["id"]
    withdraw_plot(session, ids["gone"], expected_version=1, user="test", reason="solgt privat")
    return tag, ids


def _read(path) -> gpd.GeoDataFrame:
    if path.suffix == ".csv":
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        crs = table["crs"].iloc[0] if len(table) else None
        return gpd.GeoDataFrame(table, geometry=shapely.from_wkt(table.pop("wkt")), crs=crs)
    return pyogrio.read_dataframe(path, layer="plots")


@pytest.mark.parametrize("srid", [25833, 25832, 4326])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_and_crs_round_trips_coordinates(session, tmp_path, marked, suffix, srid):
    tag, ids = marked
    path = tmp_path / f"eksport{suffix}"
    result = export_plots(session, path, PlotQuery(q=tag), srid=srid, public=False)
    assert result.count == 2 and result.srid == srid and path.exists()
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed
    frame = _read(path)
    assert list(frame.columns[:-1]) == [c.name for c in EXPORT_COLUMNS]
    assert frame.crs.to_epsg() == srid
    assert set(frame["crs"]) == {f"EPSG:{srid}"}
    stored = dict(session.execute(
        select(Plot.id, func.ST_AsBinary(Plot.geom)).where(Plot.id.in_(ids.values()))).all())
    back = frame.to_crs(25833)
    for landreg_id, geom, cx, cy in zip(back["landreg_id"], back.geometry, frame["centroid_x"],
                                        frame["centroid_y"], strict=True):
        want = shapely.from_wkb(bytes(stored[int(landreg_id)]))
        assert geom.geom_type == "MultiPolygon"
        assert shapely.hausdorff_distance(geom, want) < 0.01  # 1 cm, even via 4326
        centre = gpd.GeoSeries([want.centroid], crs=25833).to_crs(srid).iloc[0]
        tolerance = 1e-6 if srid == 4326 else 0.01
        assert float(cx) == pytest.approx(centre.x, abs=tolerance)
        assert float(cy) == pytest.approx(centre.y, abs=tolerance)
    row = frame[frame["landreg_id"].astype(int) == ids["pub"]].iloc[0]
    assert float(row["area_daa"]) == pytest.approx(4.9, abs=0.001)
    assert str(row["kommunenummer"]) == "3419" and row["kommunenavn"] == "Våler"


def test_public_export_has_no_internal_fields_and_no_hidden_plots(session, tmp_path, marked):
    tag, ids = marked
    for suffix in SUFFIXES:
        public = _read(export_plots(session, tmp_path / f"offentlig{suffix}",
                                    PlotQuery(q=tag, include_withdrawn=True)).path)
        assert not set(INTERNAL_FIELDS) & set(public.columns)
        assert [int(v) for v in public["landreg_id"]] == [ids["pub"]]
        assert "hemmelig" not in (tmp_path / f"offentlig{suffix}").read_bytes().decode(
            "utf-8", "replace")
    internal = _read(export_plots(session, tmp_path / "intern.gpkg",
                                  PlotQuery(q=tag, include_withdrawn=True), public=False).path)
    assert set(INTERNAL_FIELDS) <= set(internal.columns)
    assert sorted(internal["landreg_id"]) == sorted(ids.values())
    assert set(internal["availability"]) == {"ledig", "trukket"}


def test_columns_are_documented_and_follow_the_public_and_internal_lists():
    names = [c.name for c in EXPORT_COLUMNS]
    assert len(names) == len(set(names))
    for c in EXPORT_COLUMNS:
        assert f"\n{c.name} " in export_module.__doc__, f"{c.name} is not in the docstring table"
        assert c.source is None or c.source in PUBLIC_FIELDS + INTERNAL_FIELDS
    assert [c.name for c in export_columns(public=False)] == names
    internal = [c.name for c in EXPORT_COLUMNS if not c.public]
    assert internal == ["published", "internal_notes", "created_by", "created_at", "updated_by",
                        "withdrawn_reason"]


def test_geopackage_carries_a_default_qgis_style(session, tmp_path, marked):
    path = export_plots(session, tmp_path / "stil.gpkg", PlotQuery(q=marked[0])).path
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT f_table_name, f_geometry_column, styleName, useAsDefault, "
                          "styleQML FROM layer_styles").fetchall()
        contents = db.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                              "'layer_styles'").fetchone()
        cols = [r[1] for r in db.execute("PRAGMA table_info(layer_styles)")]
    assert len(rows) == 1
    table, geom, name, default, qml = rows[0]
    assert (table, geom, name, default) == ("plots", "geom", "landreg", 1)
    assert 'attr="availability"' in qml and 'value="ledig"' in qml and qml.startswith("<!DOCTYPE")
    assert contents == ("attributes",)
    assert cols == ["id", "f_table_catalog", "f_table_schema", "f_table_name",
                    "f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault",
                    "description", "owner", "ui", "update_time"]


def test_csv_is_excel_friendly_with_wkt_last(session, tmp_path, marked):
    path = export_plots(session, tmp_path / "tabell.csv", PlotQuery(q=marked[0]),
                        srid=4326).path
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    header, first = raw.decode("utf-8-sig").splitlines()[:2]
    assert header.split(",")[-1] == "wkt" and header.split(",")[0] == "landreg_id"
    assert "MULTIPOLYGON" in first and "Våler" in first


def test_geojson_in_4326_is_rfc7946(session, tmp_path, marked):
    path = export_plots(session, tmp_path / "kart.geojson", PlotQuery(q=marked[0]), srid=4326).path
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc and doc["features"][0]["properties"]["crs"] == "EPSG:4326"
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 11 < lon < 13 and 60 < lat < 61


def test_filters_sorting_and_an_empty_result(session, tmp_path, marked):
    frame = _read(export_plots(session, tmp_path / "store.fgb",
                               PlotQuery(kommuner=["3401"], min_daa=20, sort=["-area_daa"]),
                               public=False).path)
    assert len(frame) and set(frame["kommunenummer"]) == {"3401"}
    assert (frame["area_daa"] >= 20).all()
    empty = export_plots(session, tmp_path / "tom.gpkg", PlotQuery(q="finnes ikke i registeret"))
    assert empty.count == 0
    assert pyogrio.read_info(empty.path, layer="plots")["features"] == 0
    ordered = _read(export_plots(session, tmp_path / "sortert.gpkg",
                                 PlotQuery(kommuner=["3401"], sort=["-area_daa"])).path)
    assert list(ordered["area_daa"]) == sorted(ordered["area_daa"], reverse=True)


def test_bad_requests_are_refused(session, tmp_path):
    with pytest.raises(InvalidInput, match="ending in .gpkg, .geojson, .fgb, .csv"):
        export_plots(session, tmp_path / "tomter.xlsx")
    with pytest.raises(InvalidInput, match="not 3857"):
        export_plots(session, tmp_path / "tomter.gpkg", srid=3857)
    (tmp_path / "finnes.gpkg").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="exists already"):
        export_plots(session, tmp_path / "finnes.gpkg")
    with pytest.raises(InvalidInput, match="does not exist"):
        export_plots(session, tmp_path / "mangler" / "tomter.gpkg")
    with pytest.raises(InvalidInput, match="Unknown availability"):
        export_plots(session, tmp_path / "x.gpkg", PlotQuery(availability=["kanskje"]))


def _register_digest(session) -> tuple:
    return (
        session.execute(text("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM plot t"))
        .scalar_one(),
        session.execute(select(func.count()).select_from(PlotVersion)).scalar_one(),
    )


@pytest.mark.parametrize("srid", [25833, 4326])
@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("public", [True, False])
def test_export_then_import_changes_nothing(session, tmp_path, suffix, srid, public):
    path = export_plots(session, tmp_path / f"rundtur{suffix}", PlotQuery(kommuner=["3401"]),
                        srid=srid, public=public).path
    before = _register_digest(session)
    report = plan_import(session, path, kommune="3401", user="test",
                         crs=f"EPSG:{srid}" if suffix == ".csv" else None)
    exported = len(_read(path))
    assert exported > 10
    assert report.counts == {"create": 0, "update": 0, "unchanged": exported,
                             "skipped": 0, "rejected": 0}
    apply_import(session, report, "test")
    assert _register_digest(session) == before


def test_cli_export(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LANDREG_DATABASE_URL", database_url)
    runner = CliRunner()
    out = tmp_path / "ledig.gpkg"
    res = runner.invoke(main, ["export", str(out), "--crs", "EPSG:4326", "-k", "3401",
                               "-a", "ledig", "--public"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "plots to" in res.output and "EPSG:4326" in res.output and "public" in res.output
    frame = pyogrio.read_dataframe(out, layer="plots")
    assert len(frame) and set(frame["availability"]) == {"ledig"}
    assert "internal_notes" not in frame.columns
    res = runner.invoke(main, ["export", str(out)])
    assert res.exit_code == 2 and "exists already" in res.output
    res = runner.invoke(main, ["export", str(tmp_path / "x.gpkg"), "--crs", "3857"])
    assert res.exit_code == 2 and "exports are in 25833, 25832 or 4326" in res.output
    res = runner.invoke(main, ["export", str(tmp_path / "x.gpkg"), "--code", "abc"])
    assert res.exit_code == 2 and "arealformål codes are numbers" in res.output
