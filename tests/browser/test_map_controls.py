"""The scale bar and the attribution at the map's bottom edge, on a phone, a laptop and a
large screen, in the normal layout and in presentation mode: both readable, neither covering
the other (on a 390×844 phone the attribution ran across half the scale bar), both inside
the screen; and presentation mode shows the whole region in the middle of the whole screen."""

from __future__ import annotations

import pytest

from tests.browser.live import settled
from tests.browser.test_map import _loaded, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SIZES = [(390, 844), (1280, 800), (1920, 1080)]

#: The boxes of the bottom controls, the viewport and the map (in CSS pixels).
BOXES = """() => {
  const box = (sel) => { const el = document.querySelector(sel);
    if (!el) { return null; } const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, r: r.right, b: r.bottom}; };
  return {scale: box('.leaflet-control-scale'), attribution: box('.leaflet-control-attribution'),
          offline: box('.landreg-offline-note'), map: box('.leaflet-container'),
          vw: document.documentElement.clientWidth, vh: window.innerHeight};
}"""


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]


def _inside(a: dict, vw: float, vh: float) -> bool:
    return a["x"] >= 0 and a["y"] >= 0 and a["r"] <= vw and a["b"] <= vh


def _check(page, what: str) -> dict:
    page.wait_for_selector(".leaflet-control-scale-line")
    page.evaluate("document.querySelector('.leaflet-container').scrollIntoView({block: 'end'})")
    page.wait_for_function("() => document.querySelector('.leaflet-control-scale-line')"
                           ".textContent.trim() !== ''")
    boxes = page.evaluate(BOXES)
    scale, attribution = boxes["scale"], boxes["attribution"]
    assert scale and attribution, (what, boxes)
    assert not _overlap(scale, attribution), (what, boxes)
    if boxes["offline"]:  # offline (every request off this machine is blocked) the note too
        assert not _overlap(boxes["offline"], attribution), (what, boxes)
        assert not _overlap(boxes["offline"], scale), (what, boxes)
    for name in ("scale", "attribution"):
        assert _inside(boxes[name], boxes["vw"], boxes["vh"]), (what, name, boxes)
        assert _inside(boxes[name], boxes["map"]["r"], boxes["map"]["b"]), (what, name, boxes)
        assert boxes[name]["r"] - boxes[name]["x"] > 40, (what, name, boxes)  # not squeezed
    text = page.inner_text(".leaflet-control-attribution")
    assert "Kartverket" in text and "CC BY 4.0" in text, what
    assert page.inner_text(".leaflet-control-scale-line").strip().endswith(("km", "m")), what
    return boxes


def _offline_page(chromium, base: str, size: tuple[int, int]):
    """A context and page of ``size`` that reach only the test server ``base`` (maps work
    offline)."""
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(60000)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base)
               else r.abort())
    return context, page


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_scale_bar_and_attribution_never_cover_each_other(browser, server, size):  # noqa: F811
    context, page = _offline_page(browser, server, size)
    try:
        for lang in ("nb", "en"):
            q = "&lang=en" if lang == "en" else ""
            page.goto(f"{server}/map?{q}")
            _loaded(page)
            _check(page, f"map {lang}")
            page.goto(f"{server}/map?present=1{q}")
            _loaded(page)
            boxes = _check(page, f"presentation {lang}")
            # the map fills the screen, and the region sits in its middle
            assert boxes["map"]["b"] - boxes["map"]["y"] >= 0.95 * size[1], boxes
            off = page.evaluate("""() => {
              const m = window.landregMap.map;
              const cfg = JSON.parse(document.getElementById('landreg-config').textContent);
              const c = m.latLngToContainerPoint(L.latLngBounds(cfg.regionBounds).getCenter());
              const s = m.getSize();
              return [Math.abs(c.x - s.x / 2) / s.x, Math.abs(c.y - s.y / 2) / s.y];
            }""")
            assert max(off) < 0.1, (lang, off)
        pid = page.request.get(f"{server}/api/plots?limit=1").json()["features"][0]["id"]
        page.goto(f"{server}/plots/{pid}")
        _check(page, "plot page")
    finally:
        context.close()


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["390x844", "1280x800"])
def test_popup_stays_clear_of_the_buttons_and_the_attribution(browser, server, size):  # noqa: F811
    """A plot's popup on a phone opened under the Filter/Presentasjon buttons (its heading
    hidden) and ran under the attribution: it now pans clear of both."""
    context, page = _offline_page(browser, server, size)
    try:
        page.goto(f"{server}/map?lang=en")
        _loaded(page)
        page.evaluate("""() => { const m = window.landregMap, l = m.layer.getLayers()[0];
            m.map.setView(l.getBounds().getCenter(), 14, {animate: false}); l.openPopup(); }""")
        page.wait_for_selector(".leaflet-popup h2")
        boxes = """() => {
          const r = (s) => { const b = document.querySelector(s).getBoundingClientRect();
            return {x: b.left, y: b.top, r: b.right, b: b.bottom}; };
          return {popup: r('.leaflet-popup-content-wrapper'), tools: r('.map-tools'),
                  layers: r('.leaflet-control-layers'),
                  attribution: r('.leaflet-control-attribution')}; }"""
        # the pan that brings the popup into view is animated (and may start a frame late on
        # a busy machine): wait until nothing has moved for half a second, then look where
        # everything ended up
        settled(page, f"""() => {{ const now = JSON.stringify(({boxes})()),
              t = performance.now();
            if (now !== window.__lastBoxes) {{
              window.__lastBoxes = now; window.__since = t; return false; }}
            return t - window.__since > 500; }}""", 15_000)
        box = page.evaluate(boxes)
        for other in ("tools", "layers", "attribution"):
            assert not _overlap(box["popup"], box[other]), (other, box)
    finally:
        context.close()
