"""Finding 13: the enquiry limit (5 an hour) was beaten by parallel posts and keyed wrongly.

The old code counted the sender's enquiries and then inserted (check-then-insert), so posts
sent at the same moment all saw fewer than five. Now each enquiry counts in the shared
limiter's atomic counter before it is stored, keyed on the client address behind the trusted
proxies (``LANDREG_TRUSTED_PROXIES``), so clients behind a proxy are told apart and a client
cannot escape by forging ``X-Forwarded-For`` when there is no proxy.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select

from landreg.db import get_engine, session_scope
from landreg.forum.enquiries import MAX_PER_HOUR
from landreg.models import Enquiry
from landreg.web import create_app


@pytest.fixture
def tag(database_url):
    """Company names of this test's enquiries; removed afterwards."""
    value = f"SECTEST {uuid.uuid4().hex[:8]}"
    yield value
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Enquiry).where(Enquiry.company.like(f"{value}%")))


def _address() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"


def _stored(database_url, tag: str) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(func.count()).select_from(Enquiry)
                         .where(Enquiry.company.like(f"{tag}%"))).scalar_one()


def _client(app, address: str):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c


def _form(c, tag: str) -> dict:
    html = c.get("/enquiry").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return {"company": f"{tag} {uuid.uuid4().hex[:4]}", "profile": "office",
            "min_daa": "1", "max_daa": "2", "email": "post@firma.example", "consent": "true",
            "csrf_token": token}


def _post(c, tag: str, **headers) -> int:
    return c.post("/enquiry", data=_form(c, tag), headers=headers).status_code


def test_parallel_posts_store_at_most_the_limit(app, database_url, tag):
    address, n = _address(), 20
    clients = [_client(app, address) for _ in range(n)]
    forms = [_form(c, tag) for c in clients]
    start = threading.Barrier(n)

    def post(i: int) -> int:
        start.wait()
        return clients[i].post("/enquiry", data=forms[i]).status_code

    with ThreadPoolExecutor(n) as pool:
        codes = list(pool.map(post, range(n)))
    assert codes.count(201) == MAX_PER_HOUR and codes.count(429) == n - MAX_PER_HOUR
    assert _stored(database_url, tag) == MAX_PER_HOUR


def test_clients_behind_a_trusted_proxy_are_counted_apart(settings, database_url, tag):
    behind = create_app({"TESTING": True},
                        settings=dataclasses.replace(settings, trusted_proxies=1))
    proxy = _address()
    a, b = _client(behind, proxy), _client(behind, proxy)
    codes_a = [_post(a, tag, **{"X-Forwarded-For": "198.51.100.7"})
               for _ in range(MAX_PER_HOUR + 1)]
    assert codes_a == [201] * MAX_PER_HOUR + [429]
    assert _post(b, tag, **{"X-Forwarded-For": "198.51.100.8"}) == 201  # someone else
    assert _stored(database_url, tag) == MAX_PER_HOUR + 1


def test_forged_forwarded_for_gains_nothing_without_a_proxy(app, database_url, tag):
    c = _client(app, _address())
    codes = [_post(c, tag, **{"X-Forwarded-For": f"203.0.113.{i}"})
             for i in range(MAX_PER_HOUR + 2)]
    assert codes == [201] * MAX_PER_HOUR + [429, 429]
    assert _stored(database_url, tag) == MAX_PER_HOUR
