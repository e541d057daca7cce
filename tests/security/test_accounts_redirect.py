"""Finding 6: open redirect after login.

``/login?next=/%09/evil.example/x`` sent the user to ``//evil.example/x`` (browsers drop the
tab), i.e. to another site, right after a real login. Now ``next`` is judged after
normalisation and anything but a path on this site falls back to the map; the login page no
longer reflects a hostile ``next`` either.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import PASSWORD, csrf_token

BYPASSES = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/\t/evil.example/x",  # what /%09/ in the query string arrives as
    "\t//evil.example/x",
    " //evil.example/x",
    "/\n/evil.example/x",
    "/\r\n/evil.example/x",
    "///evil.example/x",
    "https://evil.example/x",
    "HTTPS://evil.example",
    "http:/evil.example",
    "http:evil.example",
    "/%2F%2Fevil.example/x",
    "/%2f%5cevil.example/x",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example/x",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\x00",
    "/\x00//evil.example",
    "/\u3000/evil.example",  # ideographic space
    "/\u200b/evil.example",  # zero-width space
    "evil.example",
    "",
]


@pytest.mark.parametrize("hostile", BYPASSES, ids=repr)
def test_login_never_redirects_off_site(app, accounts, hostile):
    c = app.test_client()
    res = c.post("/login", data={"username": accounts["kv"], "password": PASSWORD,
                                 "csrf_token": csrf_token(c), "next": hostile})
    assert res.status_code == 302
    assert res.headers["Location"] == "/map"


def test_the_reported_url_through_the_query_string(app, accounts):
    c = app.test_client()
    page = c.get("/login?next=/%09/evil.example/x").get_data(as_text=True)
    assert "evil" not in page  # not reflected into the form
    assert 'name="next" value="/map"' in page
    res = c.post("/login?next=/%09/evil.example/x",
                 data={"username": accounts["kv"], "password": PASSWORD,
                       "csrf_token": csrf_token(c), "next": "/\t/evil.example/x"})
    assert res.headers["Location"] == "/map"


@pytest.mark.parametrize("hostile", ["https://evil.example", "//evil.example",
                                     '/"><script>alert(1)</script>'], ids=repr)
def test_login_page_does_not_reflect_a_hostile_next(client, hostile):
    page = client.get("/login", query_string={"next": hostile}).get_data(as_text=True)
    # every page now carries the app's own nonce'd <script> tags: look for the payload itself
    assert "evil" not in page and "<script>alert(1)" not in page and "alert(1)" not in page
    assert 'name="next" value="/map"' in page


@pytest.mark.parametrize("path", ["/enquiries", "/plots/3/history?lang=en",
                                  "/api/plots?kommune=3401&q=%C3%A5s", "/compare#top"])
def test_a_path_on_this_site_is_kept(app, accounts, path):
    c = app.test_client()
    assert f'name="next" value="{path.replace("&", "&amp;")}"' in c.get(
        "/login", query_string={"next": path}).get_data(as_text=True)
    res = c.post("/login", data={"username": accounts["kv"], "password": PASSWORD,
                                 "csrf_token": csrf_token(c), "next": path})
    assert res.headers["Location"] == path
