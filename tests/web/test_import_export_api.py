"""Import by upload and export over HTTP: rights, dry run, all-or-nothing, public fields."""

from __future__ import annotations

import io
import uuid

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import delete, func, select

from landreg.auth.users import add_user, create_token
from landreg.db import get_engine, session_scope
from landreg.models import ApiToken, Plot, User
from tests.helpers import INSIDE


@pytest.fixture(scope="module")
def token(database_url):
    name = f"imp{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3417"])
        value = create_token(s, name, "test")
    yield {"Authorization": f"Bearer {value}"}
    with session_scope(get_engine(database_url)) as s:
        ids = select(User.id).where(User.username == name)
        s.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids)))
        s.execute(delete(Plot).where(Plot.created_by == name))
        s.execute(delete(User).where(User.username == name))


def _geojson_25832(k: str, refs: list[str], bad: bool = False) -> bytes:
    x, y = INSIDE[k]
    geoms = [box(x + 3000 + i * 300, y + 2500, x + 3100 + i * 300, y + 2600)
             for i in range(len(refs))]
    frame = gpd.GeoDataFrame({"external_ref": refs, "name": [f"Importert {r}" for r in refs],
                              "arealformal": [9999 if bad and i == 1 else 1340
                                              for i in range(len(refs))]},
                             geometry=geoms, crs=25833).to_crs(25832)
    return frame.to_json().encode()


def _count(database_url) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Plot)).scalar_one()


def _upload(client, headers, blob, kommune="3417", dry_run="true", name="plots.geojson"):
    return client.post("/api/import", headers=headers, data={
        "file": (io.BytesIO(blob), name), "kommune": kommune, "dry_run": dry_run})


def test_upload_dry_run_then_apply(client, token, database_url):
    refs = [f"IMP-{uuid.uuid4().hex[:5]}-{i}" for i in range(2)]
    blob = _geojson_25832("3417", refs)
    before = _count(database_url)
    dry = _upload(client, token, blob)
    assert dry.status_code == 200
    assert dry.get_json()["counts"]["create"] == 2 and _count(database_url) == before
    done = _upload(client, token, blob, dry_run="false")
    assert done.status_code == 201 and _count(database_url) == before + 2
    again = _upload(client, token, blob).get_json()
    assert again["counts"]["unchanged"] == 2


def test_failed_import_writes_nothing(client, token, database_url):
    refs = [f"IMP-{uuid.uuid4().hex[:5]}-{i}" for i in range(3)]
    before = _count(database_url)
    res = _upload(client, token, _geojson_25832("3417", refs, bad=True), dry_run="false")
    assert res.status_code == 400
    assert _count(database_url) == before
    dry = _upload(client, token, _geojson_25832("3417", refs, bad=True)).get_json()
    rejected = [f for f in dry["features"] if f["action"] == "rejected"]
    assert len(rejected) == 1 and "9999" in rejected[0]["reasons"][0]["message"]


def test_rights_and_bad_uploads(client, token, database_url):
    blob = _geojson_25832("3401", ["X-1"])
    assert _upload(client, {}, blob).status_code in (400, 401)  # no login / no CSRF
    assert _upload(client, token, blob, kommune="3401").status_code == 403
    assert _upload(client, token, b"this is not a spatial file", name="x.geojson"
                   ).status_code == 400
    assert client.post("/api/import", headers=token, data={"kommune": "3417"}
                       ).status_code == 400


def test_export_public_and_internal(client, token, tmp_path):
    res = client.get("/api/export?format=gpkg&crs=25832&kommune=3416")
    assert res.status_code == 200
    path = tmp_path / "public.gpkg"
    path.write_bytes(res.data)
    public = gpd.read_file(path)
    assert "internal_notes" not in public.columns and len(public) > 0
    assert public.crs.to_epsg() == 25832
    assert (public["kommunenummer"] == "3416").all()
    internal = client.get("/api/export?format=csv&kommune=3416", headers=token)
    text = internal.get_data(as_text=True)
    assert "internal_notes" in text.splitlines()[0]
    assert client.get("/api/export?format=shp").status_code == 400
