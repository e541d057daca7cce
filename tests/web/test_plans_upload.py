"""A whole plan through the upload API (issue 11): SOSI and plan GML without a column mapping,
business areas in, the rest skipped and counted, "importer de gyldige" after rejections."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import delete, select

from landreg.auth.users import add_user, create_token
from landreg.db import get_engine, session_scope
from landreg.models import ApiToken, Plot, User
from tests.ingest.plans import Area, gml_plan, mixed_plan, sosi_plan
from tests.web.test_edit import PASSWORD, login


@pytest.fixture(scope="module")
def token(database_url):
    name = f"pln{uuid.uuid4().hex[:6]}"
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3417"], password=PASSWORD)
        value = create_token(s, name, "test")
    yield {"Authorization": f"Bearer {value}", "user": name}
    with session_scope(get_engine(database_url)) as s:
        ids = select(User.id).where(User.username == name)
        s.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids)))
        s.execute(delete(Plot).where(Plot.created_by == name))
        s.execute(delete(User).where(User.username == name))


def _upload(client, headers, path, **form):
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), "kommune": "3417", **form}
    return client.post("/api/import", headers={"Authorization": headers["Authorization"]},
                       data=data)


@pytest.mark.parametrize("writer", [sosi_plan, gml_plan], ids=["sos", "gml"])
def test_a_plan_uploads_as_it_is(client, token, tmp_path, writer):
    tag = f"W{uuid.uuid4().hex[:5]}"
    # its own plan id: the other tests' areas have the same outlines (and would be recognised)
    path = writer(tmp_path, mixed_plan(tag), kommune="3417", planid=tag)
    dry = _upload(client, token, path)
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert body["counts"]["create"] == 2 and body["counts"]["skipped"] == 3
    assert body["skipped_by_code"]["2011 Kjøreveg: ikke næringsareal"] == 1
    assert body["source"] == path.name
    done = _upload(client, token, path, dry_run="false")
    assert done.status_code == 201
    again = _upload(client, token, path).get_json()
    assert again["counts"]["unchanged"] == 2 and again["counts"]["create"] == 0


def test_import_the_valid_ones_after_a_dry_run_with_rejections(client, token, tmp_path):
    tag = f"V{uuid.uuid4().hex[:5]}"
    areas = mixed_plan(tag) + [Area(9999, "X1", 500, lokalid=f"{tag}-bad")]
    path = sosi_plan(tmp_path, areas, kommune="3417", planid=tag)
    refused = _upload(client, token, path, dry_run="false")
    assert refused.status_code == 400
    assert "rejected" in refused.get_json()["description"]
    done = _upload(client, token, path, dry_run="false", allow_partial="true")
    assert done.status_code == 201
    assert done.get_json()["counts"] == {"create": 2, "update": 0, "unchanged": 0,
                                         "skipped": 3, "rejected": 1}


def test_upload_page_offers_import_the_valid_ones(client, token):
    login(client, token["user"])
    page = client.get("/import").get_data(as_text=True)
    assert "Importer de gyldige" in page and "SOSI" in page
