"""Issue 11: the new plan formats (.sos read by landreg, .gml by GDAL's GML driver) read only
the uploaded file.

Attacks replayed: an OGR VRT that reads /etc/passwd saved as ``plan.sos`` and as ``plan.gml``
(with the GML namespace in a comment, to pass a namespace check); a SOSI file naming
/etc/passwd; a plan GML whose ``xlink:href`` points at /etc/passwd and at another local GML
file, and whose ``xsi:schemaLocation`` names /etc/passwd and a URL on a listening local socket.
Nothing outside the upload is read and no connection is made.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator

import pytest

from landreg.ingest.readers import UnreadableFile, read_source
from landreg.ingest.sosi import SosiError
from tests.ingest.plans import gml_plan, mixed_plan, sosi_plan
from tests.security.conftest import csrf_token

VRT = """<OGRVRTDataSource>
  <OGRVRTLayer name="plots">
    <SrcDataSource>CSV:/etc/passwd</SrcDataSource>
    <SrcLayer>passwd</SrcLayer>
  </OGRVRTLayer>
</OGRVRTDataSource>
"""


@pytest.fixture
def listener() -> Iterator[dict]:
    """A socket on 127.0.0.1 that records whether anything connected."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.2)
    seen = {"port": sock.getsockname()[1], "connections": 0, "stop": False}

    def accept() -> None:
        while not seen["stop"]:
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            seen["connections"] += 1
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield seen
    seen["stop"] = True
    thread.join(1)
    sock.close()


def _no_passwd(frame) -> None:
    text = frame.drop(columns="geometry").astype(str).to_csv()
    assert "root:" not in text and "/bin/" not in text


def test_vrt_saved_as_sos_is_refused(tmp_path):
    path = tmp_path / "plan.sos"
    path.write_text(VRT)
    with pytest.raises(UnreadableFile, match="plan.sos could not be read: it is not a SOSI"):
        read_source(path)


def test_vrt_saved_as_gml_is_refused_before_gdal_opens_it(tmp_path):
    path = tmp_path / "plan.gml"
    path.write_text('<?xml version="1.0"?>\n<!-- xmlns:gml="http://www.opengis.net/gml/3.2" -->\n'
                    + VRT)
    with pytest.raises(UnreadableFile, match="not a plan GML file") as err:
        read_source(path)
    assert "root:" not in str(err.value) and str(tmp_path) not in str(err.value)


def test_doctype_entities_in_gml_are_refused(tmp_path):
    path = tmp_path / "plan.gml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY p SYSTEM "file:///etc/passwd">]>'
                    '<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2">&p;'
                    '</gml:FeatureCollection>')
    with pytest.raises(UnreadableFile):
        read_source(path)


def test_a_sos_naming_files_reads_nothing_but_itself(tmp_path):
    path = sosi_plan(tmp_path, mixed_plan("S")[:1], plannavn="/etc/passwd")
    raw = path.read_bytes().replace(b"..SOSI-NIV", b"..INCLUDE /etc/passwd\r\n..SOSI-NIV")
    path.write_bytes(raw)
    frame = read_source(path).frame
    assert frame.iloc[0]["plannavn"] == "/etc/passwd"
    _no_passwd(frame)


def test_a_sos_refering_to_missing_curves_is_a_clear_error(tmp_path):
    path = sosi_plan(tmp_path, mixed_plan("S")[:1])
    path.write_bytes(path.read_bytes().replace(b"..REF :2", b"..REF :77"))
    with pytest.raises(SosiError, match=r"refers to :77"):
        read_source(path)


def test_gml_xlinks_and_schemas_are_not_followed(tmp_path, listener):
    other = gml_plan(tmp_path, mixed_plan("XLINKSECRET")[:1], name="other.gml")
    schema = (f'xsi:schemaLocation="http://127.0.0.1:{listener["port"]}/s.xsd '
              f'http://127.0.0.1:{listener["port"]}/s.xsd"')
    links = (f'<app:a xlink:href="file:///etc/passwd"/><app:b xlink:href="{other}#a0"/>'
             f'<app:c xlink:href="http://127.0.0.1:{listener["port"]}/x#y"/>')
    path = gml_plan(tmp_path, mixed_plan("X")[:2], extra=links)
    text = path.read_text(encoding="utf-8").replace(
        'gml:id="fc">', f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" {schema} '
                        'gml:id="fc">')
    path.write_text(text, encoding="utf-8")
    frame = read_source(path).frame
    _no_passwd(frame)
    assert "XLINKSECRET" not in frame.drop(columns="geometry").astype(str).to_csv()
    assert listener["connections"] == 0
    assert not (tmp_path / "plan.gfs").exists()  # nothing written beside the file


def test_upload_of_a_disguised_vrt_is_a_400_naming_the_users_file(logged_in, accounts):
    web = logged_in(accounts["kv"])
    body = ('<?xml version="1.0"?><!-- http://www.opengis.net/gml -->' + VRT).encode()
    res = web.post("/api/import", headers={"X-CSRFToken": csrf_token(web)}, data={
        "file": (io.BytesIO(body), "Reguleringsplan.gml"), "kommune": "3401"})
    assert res.status_code == 400
    text = res.get_data(as_text=True)
    assert "Reguleringsplan.gml" in text and "root:" not in text and "/tmp" not in text
