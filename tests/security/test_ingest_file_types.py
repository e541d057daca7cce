"""Issue 9, finding 1: an import file is read by its declared type only, and GDAL never goes
on the network.

The attack: an OGR VRT document (``<OGRVRTDataSource>`` with ``SrcDataSource CSV:/etc/passwd``)
saved as ``plan.gpkg``, ``plan.geojson``, ``plan.fgb`` or as the ``.shp`` of a zipped
Shapefile. GDAL picks its driver by content, so the old importer read /etc/passwd and the dry
run listed its lines as plot names. Variants point GDAL at a URL (``/vsicurl/``, a GeoJSON
``crs`` link); a listening socket on 127.0.0.1 proves nothing was fetched.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from landreg.cli import main
from landreg.db import get_engine, session_scope
from landreg.ingest.importer import plan_import
from landreg.ingest.readers import UnreadableFile
from tests.ingest.files import plots_frame, write
from tests.security.conftest import csrf_token

PASSWD_VRT = """<OGRVRTDataSource>
  <OGRVRTLayer name="plots">
    <SrcDataSource>CSV:/etc/passwd</SrcDataSource>
    <SrcLayer>passwd</SrcLayer>
    <GeometryType>wkbNone</GeometryType>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""
KIND = {"gpkg": "GeoPackage", "geojson": "GeoJSON", "fgb": "FlatGeobuf", "zip": "Shapefile"}


def _passwd_file(suffix: str) -> tuple[str, bytes]:
    """The crafted upload: the VRT itself, or inside a zip as plan.shp (+ .dbf, .shx)."""
    if suffix != "zip":
        return f"plan.{suffix}", PASSWD_VRT.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("plan.shp", PASSWD_VRT)
        z.writestr("plan.dbf", PASSWD_VRT)
        z.writestr("plan.shx", PASSWD_VRT)
    return "plan.zip", buf.getvalue()


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP socket on 127.0.0.1 recording every request that reaches it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    seen.append(conn.recv(200))
                except OSError:
                    seen.append(b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join(2)
    server.close()


def _web_dry_run(logged_in, accounts, name: str, blob: bytes):
    web = logged_in(accounts["kv"])
    return web.post("/api/import", headers={"X-CSRFToken": csrf_token(web)}, data={
        "file": (io.BytesIO(blob), name), "kommune": "3401", "dry_run": "true"})


@pytest.mark.parametrize("suffix", list(KIND))
def test_vrt_disguised_as_a_plot_file_is_refused_on_the_web(logged_in, accounts, suffix):
    name, blob = _passwd_file(suffix)
    res = _web_dry_run(logged_in, accounts, name, blob)
    text = res.get_data(as_text=True)
    assert res.status_code == 400, text
    assert "root:" not in text and "/bin/" not in text and "nologin" not in text
    body = res.get_json()
    assert f"not a {KIND[suffix]} file" in body["description"]
    assert body["description"].startswith(name)


@pytest.mark.parametrize("suffix", list(KIND))
def test_vrt_disguised_as_a_plot_file_is_refused_by_importer_and_cli(
        database_url, monkeypatch, tmp_path, suffix):
    name, blob = _passwd_file(suffix)
    path = tmp_path / name
    path.write_bytes(blob)
    with session_scope(get_engine(database_url)) as s, pytest.raises(UnreadableFile) as err:
        plan_import(s, path, kommune="3401", user="attacker")
    assert f"not a {KIND[suffix]} file" in err.value.message
    assert "root:" not in json.dumps(err.value.to_dict())

    monkeypatch.setenv("LANDREG_DATABASE_URL", database_url)
    res = CliRunner().invoke(main, ["import", str(path), "-k", "3401", "--dry-run",
                                    "--user", "attacker"])
    assert res.exit_code == 2, res.output
    assert f"not a {KIND[suffix]} file" in res.output and "root:" not in res.output


def test_vrt_pointing_at_a_url_is_not_fetched(logged_in, accounts, listener):
    port, seen = listener
    vrt = PASSWD_VRT.replace("CSV:/etc/passwd", f"/vsicurl/http://127.0.0.1:{port}/x.csv")
    for name in ("plan.geojson", "plan.gpkg", "plan.fgb"):
        res = _web_dry_run(logged_in, accounts, name, vrt.encode())
        assert res.status_code == 400
    assert seen == []


def test_geojson_crs_link_is_not_fetched(logged_in, accounts, listener, tmp_path):
    """A well-formed GeoJSON whose (2008-style) crs is a link: GDAL's GeoJSON driver itself
    fetches the URL while opening the file."""
    port, seen = listener
    fc = json.loads(write(plots_frame("3401", 1), tmp_path, "geojson", epsg=4326).read_text())
    fc["crs"] = {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/crs",
                                                "type": "proj4"}}
    res = _web_dry_run(logged_in, accounts, "plan.geojson", json.dumps(fc).encode())
    assert res.status_code == 400, res.get_data(as_text=True)
    assert "link" in res.get_json()["description"]
    fc["crs"] = {"type": "name", "properties": {"name": f"/vsicurl/http://127.0.0.1:{port}/y"}}
    _web_dry_run(logged_in, accounts, "plan.geojson", json.dumps(fc).encode())
    assert seen == []


def test_gdal_has_no_network_in_this_process(listener, tmp_path):
    """The process-wide switch: even a /vsicurl/ name or a CRS link handed to GDAL directly
    (pyogrio's GDAL, and rasterio's for the raster side) does not connect."""
    import rasterio
    from rasterio.errors import RasterioIOError

    port, seen = listener
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(f"/vsicurl/http://127.0.0.1:{port}/plots.geojson")
    with pytest.raises(RasterioIOError):
        rasterio.open(f"/vsicurl/http://127.0.0.1:{port}/dtm.tif")
    fc = json.loads(write(plots_frame("3401", 1), tmp_path, "geojson", epsg=4326).read_text())
    fc["crs"] = {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/crs",
                                                "type": "proj4"}}
    raw = tmp_path / "raw.geojson"
    raw.write_text(json.dumps(fc))
    pyogrio.read_info(raw)  # GDAL itself, not our reader: the fetch fails offline
    assert seen == []


def test_genuine_files_still_import(logged_in, accounts, tmp_path):
    for fmt, suffix in (("gpkg", "gpkg"), ("geojson", "geojson"), ("fgb", "fgb"),
                        ("shpzip", "zip")):
        path = write(plots_frame("3401", 2, prefix=f"SEC{fmt}"), tmp_path, fmt,
                     name=f"ok{fmt}")
        res = _web_dry_run(logged_in, accounts, f"ok.{suffix}", Path(path).read_bytes())
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.get_json()["counts"]["create"] == 2
