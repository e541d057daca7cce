"""Finding 2 (stored XSS): a plot name ran as script on /compare and in the HTML exports.

Plots named with four payloads are committed, then every page that shows names — the compare
page, the map (popup), the plot page and both self-contained HTML exports opened from disk —
is loaded in real Chromium. No dialog may open and each name must be shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, func, select

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.plots import create_plot
from tests.browser.test_map import browser, page, server  # noqa: F401 - fixtures
from tests.helpers import plot_attrs
from tests.security.test_output_csp import WATCH

PAYLOADS = ("${alert(1)}", "`;alert(2);`", "</script><script>alert(3)</script>",
            "<img src=x onerror=alert(4)>")
PROFILE = "logistics"


@pytest.fixture(scope="module")
def payload_plots(database_url, app) -> Iterator[list[int]]:
    """One plot per payload (name and description), each a copy of one of the four best plots
    for logistics, so they are also in the ranking's top ten (the ranking export)."""
    top = app.test_client().get(f"/api/rankings/{PROFILE}").get_json()["items"][:4]
    ids = []
    with session_scope(get_engine(database_url)) as s:
        for payload, item in zip(PAYLOADS, top, strict=True):
            wkt = s.execute(select(func.ST_AsText(Plot.geom))
                            .where(Plot.id == item["plot_id"])).scalar_one()
            ids.append(create_plot(s, plot_attrs(name=payload, description=payload,
                                                 contact=payload),
                                   wkt, 25833, user="xss-test").plot["id"])
    yield ids
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.id.in_(ids)))


JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S | re.I)


def test_the_pages_carry_names_as_data_not_code(app, payload_plots):
    """Without a browser: in every script of the pages and exports, the payloads occur only
    inside JSON string literals; in the markup, only escaped."""
    c = app.test_client()
    ids = ",".join(map(str, payload_plots))
    for url in (f"/compare?profile={PROFILE}&plots={ids}", f"/plots/{payload_plots[2]}",
                f"/compare/export.html?profile={PROFILE}&plots={ids}",
                f"/rankings/{PROFILE}/export.html"):
        res = c.get(url)
        assert res.status_code == 200, url
        html = res.get_data(as_text=True)
        for body in SCRIPT.findall(html):
            assert "alert(" not in JSON_STRING.sub('""', body), url
        assert "<img src=x" not in html and "<script>alert" not in html, url


def _watch(tab) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(d) -> None:
        dialogs.append(d.message)
        d.dismiss()

    tab.on("dialog", on_dialog)
    return dialogs


OPEN_TOOLTIPS = """() => {
    const map = window[document.querySelector('.folium-map').id];
    map.eachLayer(l => { if (l.getTooltip && l.getTooltip()) { l.openTooltip(); } });
    return Array.from(document.querySelectorAll('.leaflet-tooltip'), t => t.textContent);
}"""


def test_compare_page_shows_names_as_text(page, server, payload_plots):  # noqa: F811
    dialogs = _watch(page)
    ids = ",".join(map(str, payload_plots))
    page.goto(f"{server}/compare?profile={PROFILE}&plots={ids}")
    page.wait_for_selector(".folium-map path.landreg-plot")
    tips = page.evaluate(OPEN_TOOLTIPS)
    page.wait_for_timeout(300)
    head = page.inner_text("#comparison thead")
    for n, payload in enumerate(PAYLOADS, start=1):
        assert payload in head
        assert f"{n}. {payload}" in "\n".join(tips)
    assert page.locator("#comparison img").count() == 0
    assert dialogs == []


def test_map_popup_and_plot_page_show_names_as_text(page, server, payload_plots):  # noqa: F811
    dialogs = _watch(page)
    page.goto(f"{server}/map")
    page.wait_for_function("() => window.landregMap && document.body.dataset.loading === 'false'",
                           timeout=20000)
    for pid, payload in zip(payload_plots, PAYLOADS, strict=True):
        page.evaluate("""(id) => window.landregMap.layer.getLayers()
            .find(l => l.feature.id === id).openPopup()""", pid)
        popup = page.locator(".leaflet-popup .plot-popup")
        assert popup.locator(".popup-title").inner_text() == payload
        assert popup.locator("img").count() == 0
    for pid, payload in zip(payload_plots, PAYLOADS, strict=True):
        page.goto(f"{server}/plots/{pid}")
        page.wait_for_selector(".folium-map path.landreg-plot")
        assert page.inner_text("h1") == payload
        assert payload in page.inner_text("article")
        assert page.locator("article img").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("kind", ["compare", "ranking"])
def test_html_exports_opened_from_disk(browser, server, payload_plots, tmp_path,  # noqa: F811
                                       kind):
    ids = ",".join(map(str, payload_plots))
    url = (f"{server}/compare/export.html?profile={PROFILE}&plots={ids}" if kind == "compare"
           else f"{server}/rankings/{PROFILE}/export.html")
    context = browser.new_context()
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", server))
                  else r.abort())
    usb = context.new_page()
    res = usb.request.get(url)
    assert res.status == 200
    exported = tmp_path / f"{kind}.html"
    exported.write_bytes(res.body())
    assert 'http-equiv="Content-Security-Policy"' in exported.read_text(encoding="utf-8")
    dialogs = _watch(usb)
    usb.add_init_script(f"({WATCH})()")
    usb.goto(exported.as_uri())
    usb.wait_for_selector("path.landreg-plot")
    tips = "\n".join(usb.evaluate(OPEN_TOOLTIPS))
    usb.wait_for_timeout(300)
    head = usb.inner_text(".export-head")
    for payload in PAYLOADS:
        assert payload in head
        assert payload in tips
    assert usb.locator("img:not(.leaflet-tile)").count() == 0
    assert dialogs == []
    assert usb.evaluate("() => window.__csp") == []  # its own policy lets the map run
    # ... and stops a script it did not write
    usb.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.injected = true'; document.body.appendChild(s); }""")
    usb.wait_for_timeout(200)
    assert usb.evaluate("() => window.injected") is None
    assert usb.evaluate("() => window.__csp") != []
    context.close()


def test_reference_and_kommune_names_are_data_too():
    """The same for names from reference data (stations, kommuner) on every kind of map."""
    from webmap.render import components, plot_map, plots_map, regional_map

    square = {"type": "Polygon", "coordinates": [[[11.9, 60.1], [12.1, 60.1], [12.1, 60.3],
                                                  [11.9, 60.1]]]}
    kommuner = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "3401", "geometry": square,
         "properties": {"kommunenummer": "3401", "name": p, "label_point": [60.2, 12.0]}}
        for p in PAYLOADS]}
    stations = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [12.0, 60.2]},
         "properties": {"name": p}} for p in PAYLOADS]}
    plots = [{"type": "Feature", "id": n, "geometry": square,
              "properties": {"name": p, "availability": "ledig"}}
             for n, p in enumerate(PAYLOADS, start=1)]
    for m in (regional_map(kommuner, {"stations": stations}), plots_map(plots, kommuner),
              plot_map(plots[2], kommuner, reference={"stations": stations})):
        parts = components(m)
        assert "alert(" not in JSON_STRING.sub('""', parts["script"])
        assert "alert(" not in parts["html"] + parts["header"]


def test_no_html_sinks_and_no_folium_text_helpers():
    """The mechanism, checked in the source: front-end scripts put text in the DOM only as
    text, templates mark nothing safe but folium's own output, and no folium helper that
    pastes text into JavaScript source (Tooltip, Popup, GeoJsonTooltip) is used."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for js in (root / "webmap" / "static").glob("*.js"):
        text = js.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                     "eval(", "new Function"):
            assert sink not in text, (js.name, sink)
    for tpl in (root / "webmap" / "templates").rglob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        assert set(re.findall(r"\{\{\s*([\w.]+)\s*\|\s*safe", text)) <= {
            "parts.html", "parts.script"}, tpl.name
        assert not re.search(r"<script(?![^>]*nonce=)", text), tpl.name
    for py in [*(root / "webmap").glob("*.py"), *(root / "landreg").rglob("*.py")]:
        text = py.read_text(encoding="utf-8")
        assert not re.search(r"\btooltip=|\bpopup=|folium\.(Tooltip|Popup|GeoJsonTooltip|"
                             r"GeoJsonPopup)\b", text), py.name
