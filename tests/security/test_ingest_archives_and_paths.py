"""Issue 9, finding 15: import errors showed server paths, and a small zip could unpack to GiBs.

Replays through the web upload (/api/import, a logged-in planner): a damaged file must be
named by the user's file name, never "/tmp/…/upload.gpkg"; a zip bomb (declared or lying
sizes), nested archives, absolute/``..``/link members are refused with a clear 4xx before
anything is written, and nothing is written after a refused import.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib

from sqlalchemy import func, select

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.web import create_app
from tests.ingest.files import plots_frame, write
from tests.security.conftest import csrf_token

SERVER_PATH = re.compile(r"/tmp/|landreg-(import|zip)-|upload\.(gpkg|zip|geojson)")


def _upload(logged_in, accounts, name: str, blob: bytes, dry_run: str = "true"):
    web = logged_in(accounts["kv"])
    return web.post("/api/import", headers={"X-CSRFToken": csrf_token(web)}, data={
        "file": (io.BytesIO(blob), name), "kommune": "3401", "dry_run": dry_run})


def _count(database_url) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Plot)).scalar_one()


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def test_errors_name_the_users_file_not_a_server_path(logged_in, accounts):
    for name, blob in (("Kongsvinger plan.gpkg", b"SQLite format 3\x00" + b"\x01" * 2000),
                       ("Kongsvinger plan.gpkg", b"garbage" * 100),
                       ("tomter.geojson", b"{not json"),
                       ("tomter.zip", b"PK\x03\x04 broken")):
        res = _upload(logged_in, accounts, name, blob)
        text = res.get_data(as_text=True)
        assert res.status_code == 400, text
        assert not SERVER_PATH.search(text), text
        assert res.get_json()["description"].startswith(name)


def test_a_zip_member_error_names_no_unpack_folder(logged_in, accounts, tmp_path):
    good = write(plots_frame("3401", 1), tmp_path, "shpzip", name="tomter")
    with zipfile.ZipFile(good) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["tomter.shp"] = b"\x00\x00\x27\x0a" + b"\xff" * 40  # a header, then garbage
    res = _upload(logged_in, accounts, "tomter.zip", _zip(members))
    text = res.get_data(as_text=True)
    assert 400 <= res.status_code < 500 and not SERVER_PATH.search(text), text


def test_zip_bomb_by_declared_size_is_refused_before_unpacking(logged_in, accounts,
                                                               database_url):
    # 300 MiB of zeros deflates to ~300 KiB: more than 4 x the app's upload limit unpacked.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("tomter.shp", "w", force_zip64=True) as f:
            chunk = b"\x00" * 2**20
            for _ in range(300):
                f.write(chunk)
    blob = buf.getvalue()
    assert len(blob) < 2**20
    before = _count(database_url)
    res = _upload(logged_in, accounts, "bomb.zip", blob, dry_run="false")
    body = res.get_json()
    assert res.status_code == 413, body
    assert "unpack" in body["description"] and body["description"].startswith("bomb.zip")
    assert _count(database_url) == before


def _lying_zip(real: bytes, declared: int) -> bytes:
    """One deflated member whose headers declare ``declared`` bytes (and its CRC)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(real) + comp.flush()
    crc = zlib.crc32(real[:declared])
    name = b"tomter.shp"
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data),
                        declared, len(name), 0) + name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                          len(data), declared, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end


def test_zip_whose_headers_lie_about_its_size_is_refused(logged_in, accounts, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    res = _upload(logged_in, accounts, "liar.zip", _lying_zip(b"\x00" * (5 * limit), 1000))
    assert 400 <= res.status_code < 500 and res.status_code != 404, res.get_data(as_text=True)
    assert not SERVER_PATH.search(res.get_data(as_text=True))


def test_nested_archives_links_and_escaping_members_are_refused(logged_in, accounts,
                                                                database_url):
    shp = {"tomter.shp": b"\x00\x00\x27\x0a", "tomter.dbf": b"", "tomter.shx": b""}
    cases = {
        "nested.zip": _zip({"inner.zip": _zip(shp)}),
        "nested-gz.zip": _zip({**shp, "extra.tar.gz": b"\x1f\x8b"}),
        "dotdot.zip": _zip({**shp, "../../evil.shp": b"x"}),
        "absolute.zip": _zip({**shp, "/etc/cron.d/evil": b"x"}),
        "link.zip": _zip({**shp, "passwd.dbf": b"/etc/passwd"}, links=("passwd.dbf",)),
    }
    before = _count(database_url)
    for name, blob in cases.items():
        res = _upload(logged_in, accounts, name, blob, dry_run="false")
        body = res.get_json()
        assert res.status_code == 400, (name, body)
        assert body["code"] == "unsafe_archive" and body["description"].startswith(name)
    assert _count(database_url) == before


def test_too_many_members_is_refused(logged_in, accounts):
    res = _upload(logged_in, accounts, "many.zip", _zip({f"f{i}.txt": b"" for i in range(200)}))
    assert res.status_code == 413 and "at most" in res.get_json()["description"]


def test_upload_over_the_request_limit_is_a_clear_413(accounts, database_url):
    from landreg.settings import Settings

    small = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 4096},
                       settings=Settings(database_url=database_url))
    res = small.test_client().post(
        "/api/import", headers={"Authorization": f"Bearer {accounts['token']}"},
        data={"kommune": "3401", "file": (io.BytesIO(b"x" * 20_000), "plan.gpkg")})
    assert res.status_code == 413
    assert "større enn grensen" in res.get_json()["description"]  # nb: the default language
