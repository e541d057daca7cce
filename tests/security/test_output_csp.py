"""Finding 2, second line of defence: a Content-Security-Policy with a per-response nonce.

Every HTML page of the app (public and logged in) is parsed: each ``<script>`` must carry
the nonce of its response's policy, no tag may have an inline event handler or a
``javascript:`` URL. In Chromium, the map, plot and compare pages (public and as a planner)
must run without a single CSP violation — the policy is strict and the maps still work.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.browser.test_map import browser, page, server  # noqa: F401 - fixtures
from tests.security.conftest import PASSWORD
from tests.security.test_output_headers import published, sample_urls  # noqa: F401


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def _nonce(res) -> str:
    csp = res.headers["Content-Security-Policy"]
    match = re.search(r"script-src 'nonce-([A-Za-z0-9_\-+/=]+)'", csp)
    assert match, csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    return match.group(1)


def _check_page(url: str, res) -> int:
    nonce = _nonce(res)
    parser = _Tags()
    parser.feed(res.get_data(as_text=True))
    scripts = 0
    for tag, attrs in parser.tags:
        if tag == "script":
            scripts += 1
            assert attrs.get("nonce") == nonce, (url, attrs)
        handlers = [a for a in attrs if a.startswith("on")]
        assert not handlers, (url, tag, handlers)
        for a in ("href", "src", "action", "formaction"):
            assert not (attrs.get(a) or "").strip().lower().startswith("javascript:"), url
    return scripts


def _html_pages(app, web, plots):
    for _endpoint, url in sample_urls(app, plots):
        res = web.get(url)
        if res.mimetype == "text/html" and res.status_code == 200 and \
                "attachment" not in res.headers.get("Content-Disposition", ""):
            yield url, res


def test_every_script_of_every_public_page_has_the_nonce(app, client, published):  # noqa: F811
    pages = list(_html_pages(app, client, published))
    assert {"/map", "/compare", "/api/docs", "/enquiry", "/accounts"} <= {
        u.split("?")[0] for u, _ in pages}
    scripts = sum(_check_page(url, res) for url, res in pages)
    assert scripts > 10
    # a fresh nonce for every response
    assert _nonce(client.get("/map")) != _nonce(client.get("/map"))


def test_every_script_of_every_planner_page_has_the_nonce(  # noqa: F811
        app, accounts, logged_in, published):  # noqa: F811
    web = logged_in(accounts["admin"])
    pages = list(_html_pages(app, web, published))
    assert {"/import", "/enquiries", f"/plots/{published[0]}/history"} <= {
        u.split("?")[0] for u, _ in pages}
    for url, res in pages:
        _check_page(url, res)


WATCH = """() => { window.__csp = [];
    document.addEventListener('securitypolicyviolation',
        e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def _violations(tab, server, urls: list[str], ready: str) -> list[str]:  # noqa: F811
    console: list[str] = []
    tab.on("console", lambda m: console.append(m.text)
           if "Content Security Policy" in m.text or m.type == "error" else None)
    tab.add_init_script(f"({WATCH})()")
    found = []
    for url in urls:
        res = tab.goto(server + url)
        assert "script-src 'nonce-" in res.headers.get("content-security-policy", ""), url
        tab.wait_for_selector(ready, timeout=20000)
        tab.wait_for_timeout(500)
        found += tab.evaluate("() => window.__csp")
    # tiles and other requests off this machine are aborted by the test: network errors,
    # not policy violations
    return found + [m for m in console if "Content Security Policy" in m]


@pytest.mark.browser
def test_maps_run_under_the_policy_without_violations(page, server, published):  # noqa: F811
    pair = ",".join(map(str, published[:2]))
    urls = ["/map", f"/plots/{published[0]}", f"/compare?profile=logistics&plots={pair}"]
    assert _violations(page, server, urls, ".folium-map path") == []
    assert page.evaluate("() => document.querySelectorAll('path.landreg-plot').length") > 0


@pytest.mark.browser
def test_planner_pages_run_under_the_policy_without_violations(  # noqa: F811
        page, server, accounts, published):  # noqa: F811
    page.goto(f"{server}/login")
    page.fill("#username", accounts["admin"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/map")
    pair = ",".join(map(str, published[:2]))
    urls = ["/map", f"/plots/{published[0]}/history",
            f"/compare?profile=logistics&plots={pair}"]
    assert _violations(page, server, urls, ".folium-map path") == []
    page.goto(f"{server}/map")
    page.wait_for_function("() => window.landregMap && window.L && L.PM !== undefined",
                           timeout=20000)  # geoman, the editor's library, loaded
