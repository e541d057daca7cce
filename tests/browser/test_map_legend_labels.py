"""The legend in presentation mode on a phone (it lived in the filter sheet, hidden there:
now a button of its own shows it, by keyboard too), and the kommune names at the start view
(clusters and plot markers covered Sør-Odal and Eidskog: the names now move clear of them)."""

from __future__ import annotations

import pytest

from tests.browser.live import settled
from tests.browser.test_map import _loaded, browser, server  # noqa: F401 - fixtures
from tests.browser.test_map_controls import SIZES, _offline_page, _overlap

pytestmark = pytest.mark.browser

#: Each kommune name's text box and the boxes of the markers and clusters it must not touch.
LABEL_BOXES = """() => {
  const box = (r) => ({x: r.left, y: r.top, r: r.right, b: r.bottom});
  const labels = Array.from(document.querySelectorAll('.kommune-label')).map((el) => {
    const range = document.createRange(); range.selectNodeContents(el);
    return Object.assign(box(range.getBoundingClientRect()), {name: el.textContent}); });
  const markers = Array.from(document.querySelectorAll('.plot-cluster-inner, .plot-marker-inner'))
    .map((el) => box(el.getBoundingClientRect()));
  return {labels, markers};
}"""


def _start_view_labels(page) -> dict:
    """The label and marker boxes once nothing has moved for a second (the map places the
    labels again 0.7 s after the markers last moved)."""
    settled(page, f"""() => {{ const now = JSON.stringify(({LABEL_BOXES})()),
          t = performance.now();
        if (now !== window.__lastLabels) {{
          window.__lastLabels = now; window.__since = t; return false; }}
        return t - window.__since > 1000; }}""", 15_000)
    return page.evaluate(LABEL_BOXES)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_no_marker_covers_a_kommune_name_at_the_start_view(browser, server, size):  # noqa: F811
    context, page = _offline_page(browser, server, size)
    try:
        for lang in ("nb", "en"):
            for mode in ("", "present=1&"):
                page.goto(f"{server}/map?{mode}lang={lang}")
                _loaded(page)
                boxes = _start_view_labels(page)
                assert len(boxes["labels"]) == 7 and len(boxes["markers"]) > 5, boxes
                for label in boxes["labels"]:
                    covered = [m for m in boxes["markers"] if _overlap(label, m)]
                    assert not covered, (lang, mode, label, covered)
                    others = [o["name"] for o in boxes["labels"]
                              if o is not label and _overlap(label, o)]
                    assert not others, (lang, mode, label, others)
    finally:
        context.close()


def test_phone_presentation_shows_the_legend_on_request(browser, server):  # noqa: F811
    context, page = _offline_page(browser, server, (390, 844))
    try:
        for lang, word in (("nb", "Ledig"), ("en", "Available")):
            page.goto(f"{server}/map?present=1&lang={lang}")
            _loaded(page)
            button = page.locator("#legend-open")
            assert button.is_visible() and not page.locator("#legend").is_visible()
            assert button.get_attribute("aria-expanded") == "false"
            # by keyboard: Tab reaches the button, Enter opens, Escape closes (and only then
            # a second Escape ends the presentation)
            page.focus("#present")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "legend-open"
            page.keyboard.press("Enter")
            assert page.locator("#legend").is_visible()
            assert button.get_attribute("aria-expanded") == "true"
            assert word in page.inner_text("#legend")
            boxes = page.evaluate("""() => { const r = (s) => {
                const b = document.querySelector(s).getBoundingClientRect();
                return {x: b.left, y: b.top, r: b.right, b: b.bottom}; };
              return {legend: r('#legend'), panel: r('#filter-panel'), tools: r('.map-tools'),
                      zoom: r('.leaflet-control-zoom'), vw: innerWidth, vh: innerHeight}; }""")
            for other in ("tools", "zoom"):
                assert not _overlap(boxes["panel"], boxes[other]), (lang, other, boxes)
            assert 0 <= boxes["legend"]["x"] and boxes["legend"]["r"] <= boxes["vw"], boxes
            assert boxes["legend"]["b"] <= boxes["vh"], boxes
            # only the legend of the panel shows: no filters over the presentation
            assert not page.locator("#filters").is_visible()
            page.keyboard.press("Escape")
            assert not page.locator("#legend").is_visible()
            assert page.evaluate("document.activeElement.id") == "legend-open"
            assert "present" in page.evaluate("document.body.className")
            page.keyboard.press("Escape")
            assert "present" not in page.evaluate("document.body.className")
            assert not button.is_visible()
        # a larger screen shows the legend in presentation mode as before, without the button
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{server}/map?present=1")
        _loaded(page)
        assert page.locator("#legend").is_visible()
        assert not page.locator("#legend-open").is_visible()
    finally:
        context.close()
