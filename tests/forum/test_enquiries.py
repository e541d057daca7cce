"""Enquiries: stored, matched with the right plots, contact data never public, spam refused."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import delete, func, select

from landreg.db import get_engine, session_scope
from landreg.forum.enquiries import MAX_PER_HOUR
from landreg.models import Enquiry


@pytest.fixture
def app(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings)


@pytest.fixture
def cleanup(database_url):
    yield
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Enquiry).where(Enquiry.company.like("TEST %")))


def _post(client, **fields):
    html = client.get("/enquiry?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    data = {"company": f"TEST {uuid.uuid4().hex[:6]}", "profile": "logistics",
            "email": "post@firma.example", "consent": "true", "csrf_token": token}
    data.update({k: v for k, v in fields.items() if not k.startswith("_")})
    return client.post("/enquiry?lang=en", data=data,  # the messages below are English
                       environ_base={"REMOTE_ADDR": f"10.9.{uuid.uuid4().int % 250}.7"
                                     if not fields.get("_same_ip") else "10.9.8.7"})


def _count(database_url) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Enquiry)).scalar_one()


def test_enquiry_is_stored_and_matched(app, database_url, cleanup):
    c = app.test_client()
    res = _post(c, min_daa="20", max_daa="150", contact_name="Eva Hansen",
                email="eva@firma.example")
    assert res.status_code == 201
    with session_scope(get_engine(database_url)) as s:
        e = s.execute(select(Enquiry).order_by(Enquiry.id.desc())).scalars().first()
        matches = e.matches
        assert e.email == "eva@firma.example" and e.status == "ny"
    assert matches, "the demo has available logistics land of 20–150 daa"
    # the right plots: available, published, in range, ranked like the profile ranking
    ranking = app.test_client().get(
        "/api/rankings/logistics?availability=ledig&min_daa=20&max_daa=150").get_json()
    eligible = [i["plot_id"] for i in ranking["items"] if not i["excluded"]][:10]
    assert [m["plot_id"] for m in matches] == eligible
    for m in matches:
        assert 20 <= m["area_daa"] <= 150
    assert "eva@firma.example" not in res.get_data(as_text=True).replace(
        "post@firma.example", "")  # the thank-you page lists plots, not contact data


def test_contact_data_is_never_public(app, database_url, cleanup):
    c = app.test_client()
    _post(c, email="hemmelig@firma.example", phone="+47 99 88 77 66")
    public = app.test_client()
    for url in ("/api/plots?limit=1000", "/api/municipalities", "/api/accounts", "/map",
                "/ogc/collections/plots/items?limit=1000", "/api/rankings/logistics"):
        assert "hemmelig@firma.example" not in public.get(url).get_data(as_text=True)
    assert public.get("/api/enquiries").status_code == 401
    assert public.get("/enquiries").status_code == 302  # to the login page


@pytest.mark.parametrize("fields, message", [
    ({"email": "", "phone": ""}, "e-mail address or a phone number"),
    ({"email": "ikke-en-adresse"}, "is not an e-mail address"),
    ({"consent": ""}, "consent"),
    ({"min_daa": "100", "max_daa": "10"}, "larger than the largest"),
    ({"profile": "bakeri"}, "no profile"),
    ({"min_daa": "mye"}, "must be a number"),
    ({"website": "http://spam.example"}, "automatically filled in"),
])
def test_bad_enquiries_store_nothing(app, database_url, fields, message, cleanup):
    before = _count(database_url)
    res = _post(app.test_client(), **fields)
    assert 400 <= res.status_code < 500
    assert message in res.get_data(as_text=True)
    assert _count(database_url) == before


def test_rate_limit(app, database_url, cleanup):
    c = app.test_client()
    codes = [_post(c, _same_ip="1").status_code for _ in range(MAX_PER_HOUR + 1)]
    assert codes[:MAX_PER_HOUR] == [201] * MAX_PER_HOUR
    assert codes[-1] == 429
