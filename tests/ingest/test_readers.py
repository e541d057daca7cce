"""Reading plot files: every format, CRS handling, and files that must be refused clearly."""

from __future__ import annotations

import struct
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import CRS
from shapely.geometry import Point

from landreg.errors import InvalidCRS, InvalidInput
from landreg.ingest.readers import (
    FileTooLarge,
    MissingCRS,
    NotSpatial,
    ReadLimits,
    UnreadableFile,
    UnsafeArchive,
    read_source,
)
from tests.ingest.files import FORMATS, plots_frame, write


@pytest.mark.parametrize("epsg", [25832, 4326])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_with_its_crs(tmp_path, fmt, epsg):
    frame = plots_frame()
    path = write(frame, tmp_path, fmt, epsg)
    src = read_source(path, crs=f"EPSG:{epsg}" if fmt == "csv" else None)
    assert len(src.frame) == 3
    assert src.crs.equals(CRS.from_epsg(epsg))
    assert src.crs_label == f"EPSG:{epsg}"
    assert {"ref", "navn", "formal"} <= set(src.frame.columns)
    back = src.frame.to_crs(25833).set_index("ref").geometry  # FlatGeobuf reorders (index)
    for ref, want in zip(frame["ref"], frame.geometry, strict=True):
        assert shapely.hausdorff_distance(back[ref], want) < 0.01  # vertices back within 1 cm
    assert src.warnings == []


def test_geopackage_takes_the_first_polygon_layer_or_the_one_named(tmp_path):
    path = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[Point(300000, 6700000)], crs=25833).to_file(
        path, layer="punkter")
    plots_frame(n=2).to_file(path, layer="tomter_a")
    plots_frame(n=1).to_file(path, layer="tomter_b")
    assert read_source(path).layer == "tomter_a"
    assert len(read_source(path, layer="tomter_b").frame) == 1
    with pytest.raises(InvalidInput, match="no layer 'nope'.*punkter, tomter_a, tomter_b"):
        read_source(path, layer="nope")


def test_geopackage_without_polygon_layer_is_not_spatial_for_plots(tmp_path):
    path = tmp_path / "points.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[Point(300000, 6700000)], crs=25833).to_file(path)
    with pytest.raises(NotSpatial, match="no polygon layer"):
        read_source(path)


def test_csv_needs_a_crs_and_says_so(tmp_path):
    path = write(plots_frame(), tmp_path, "csv", 25833)
    with pytest.raises(MissingCRS, match="CSV file carries no coordinate reference system.*--crs"):
        read_source(path)


def test_csv_wkt_column_is_configurable_and_semicolons_work(tmp_path):
    frame = plots_frame(n=2)
    table = pd.DataFrame({"navn": ["Ålesundvegen 1", "Ørje 2"],
                          "FORM": shapely.to_wkt(frame.geometry.values)})
    path = tmp_path / "semikolon.csv"
    path.write_bytes(table.to_csv(index=False, sep=";").encode("cp1252"))  # as Excel saves
    src = read_source(path, crs=25833, wkt_column="form")
    assert list(src.frame["navn"]) == ["Ålesundvegen 1", "Ørje 2"]
    assert src.frame.geometry.area.round().tolist() == [3600.0, 3600.0]


def test_csv_row_with_unreadable_wkt_keeps_the_row_without_geometry(tmp_path):
    path = tmp_path / "bad_row.csv"
    wkt = shapely.to_wkt(plots_frame(n=1).geometry.iloc[0])
    path.write_text(f'navn,wkt\nGod,"{wkt}"\nDårlig,"POLYGON((1 2, 3"\n', encoding="utf-8")
    src = read_source(path, crs=25833)
    assert src.frame.geometry.isna().tolist() == [False, True]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
@pytest.mark.parametrize("fmt", ["gpkg", "fgb", "shpzip"])
def test_file_without_crs_asks_for_one(tmp_path, fmt):
    frame = plots_frame().set_crs(None, allow_override=True)
    path = write(frame, tmp_path, fmt)
    with pytest.raises(MissingCRS, match=r"does not say which coordinate reference system.*--crs"):
        read_source(path)
    assert read_source(path, crs="EPSG:25833").crs_label == "EPSG:25833"


def test_explicit_crs_overrides_the_declared_one_with_a_warning(tmp_path):
    path = write(plots_frame(), tmp_path, "gpkg", 25833)
    src = read_source(path, crs="EPSG:25832")
    assert src.crs_label == "EPSG:25832" and src.declared_crs.to_epsg() == 25833
    assert "declares EPSG:25833" in src.warnings[0]


def test_unknown_crs_is_refused(tmp_path):
    path = write(plots_frame(), tmp_path, "csv", 25833)
    with pytest.raises(InvalidCRS, match="Unknown coordinate reference system"):
        read_source(path, crs="EPSG:999999")


@pytest.mark.parametrize("suffix", [".gpkg", ".fgb", ".geojson", ".zip"])
def test_corrupt_file_names_the_file(tmp_path, suffix):
    path = tmp_path / f"skadet{suffix}"
    path.write_bytes(b"\x00\x01 this is not spatial data \xff" * 50)
    with pytest.raises(UnreadableFile, match=f"skadet{suffix}"):
        read_source(path)


def test_truncated_geojson_is_unreadable(tmp_path):
    good = write(plots_frame(), tmp_path, "geojson", 4326).read_text()
    path = tmp_path / "avkuttet.geojson"
    path.write_text(good[: len(good) // 2])
    with pytest.raises(UnreadableFile, match="avkuttet.geojson"):
        read_source(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "tomter.xlsx").write_bytes(b"PK")
    with pytest.raises(UnreadableFile, match="unknown file type '.xlsx'.*.gpkg"):
        read_source(tmp_path / "tomter.xlsx")
    with pytest.raises(UnreadableFile, match="There is no file"):
        read_source(tmp_path / "borte.gpkg")


def test_plain_csv_without_wkt_is_not_spatial(tmp_path):
    path = tmp_path / "tabell.csv"
    path.write_text("navn,areal\nA,12\nB,30\n", encoding="utf-8")
    with pytest.raises(NotSpatial, match="no WKT geometry column.*navn, areal.*--wkt-column"):
        read_source(path, crs=25833)


def test_geopackage_with_only_a_table_is_not_spatial(tmp_path):
    import pyogrio

    path = tmp_path / "tabell.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"navn": ["A"]}), path, layer="tabell")
    with pytest.raises(NotSpatial):
        read_source(path)
    with pytest.raises(NotSpatial, match="table without geometries"):
        read_source(path, layer="tabell")


def _zip_shapefile_members(tmp_path) -> dict[str, bytes]:
    folder = tmp_path / "parts"
    folder.mkdir()
    plots_frame().to_crs(25832).to_file(folder / "tomter.shp")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _set_declared_size(path, size: int) -> None:
    """Make every central-directory entry claim ``size`` uncompressed bytes (a lying header)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_zip_bomb_declared_size_is_refused_before_extracting(tmp_path):
    path = tmp_path / "bombe.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _zip_shapefile_members(tmp_path).items():
            z.writestr(name, data)
    _set_declared_size(path, 0xFFFFFFF0)  # ~4 GiB per member
    with pytest.raises(FileTooLarge, match="would unpack to .* MiB.*zip bombs"):
        read_source(path)


def test_zip_bomb_real_compression_ratio_is_refused(tmp_path):
    path = tmp_path / "nuller.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _zip_shapefile_members(tmp_path).items():
            z.writestr(name, data)
        z.writestr("fyll.bin", b"\x00" * (20 * 2**20))  # 20 MiB of zeros, ~20 KiB packed
    assert path.stat().st_size < 200_000
    with pytest.raises(FileTooLarge, match="would unpack to"):
        read_source(path, limits=ReadLimits(max_unzipped_bytes=5 * 2**20))


def test_zip_header_claiming_less_than_it_holds_cannot_overfill(tmp_path):
    path = tmp_path / "lyver.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _zip_shapefile_members(tmp_path).items():
            z.writestr(name, data)
    _set_declared_size(path, 10)  # the real members are larger than declared
    with pytest.raises(UnreadableFile, match="lyver.zip"):
        read_source(path)


@pytest.mark.parametrize("evil", ["../tomter.shp", "a/../../tomter.shp", "/etc/tomter.shp",
                                  "..\\..\\tomter.shp", "C:/tomter.shp"])
def test_zip_with_path_traversal_is_refused(tmp_path, evil):
    path = tmp_path / "traversal.zip"
    members = _zip_shapefile_members(tmp_path)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(evil.replace("tomter.shp", name) if name.endswith(".shp") else name,
                       data)
    with pytest.raises(UnsafeArchive, match="outside the archive's folder"):
        read_source(path)
    assert not (tmp_path.parent / "tomter.shp").exists()


def test_zip_with_too_many_members_is_refused(tmp_path):
    path = tmp_path / "mange.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(70):
            z.writestr(f"f{i}.txt", b"x")
    with pytest.raises(FileTooLarge, match="holds 70 files"):
        read_source(path)


def test_zip_without_dbf_says_what_is_missing(tmp_path):
    path = tmp_path / "halv.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in _zip_shapefile_members(tmp_path).items():
            if not name.endswith(".dbf"):
                z.writestr(name, data)
    with pytest.raises(UnreadableFile, match="not tomter.dbf"):
        read_source(path)


def test_zip_with_shapefile_in_a_folder_and_several_layers(tmp_path):
    members = _zip_shapefile_members(tmp_path)
    path = tmp_path / "mappe.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(f"eksport/{name}", data)
            z.writestr(f"eksport/{name.replace('tomter', 'andre')}", data)
    assert read_source(path).layer == "andre"  # sorted: the first polygon Shapefile
    assert read_source(path, layer="tomter").layer == "tomter"


def test_oversized_file_is_refused(tmp_path):
    path = write(plots_frame(), tmp_path, "gpkg")
    with pytest.raises(FileTooLarge, match=r"tomter.gpkg is .* MiB; the limit is"):
        read_source(path, limits=ReadLimits(max_bytes=1000))
