"""The comparison page in Chromium at the projector, laptop and phone sizes and by keyboard
only, and its meeting map opened from a file with every network request blocked."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser.live import settled
from tests.browser.test_forum import usb_stick
from tests.browser.test_map import browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (1280, 800), (390, 844)]


@pytest.fixture(scope="module")
def query(server) -> str:  # noqa: F811
    import json
    import urllib.request

    url = f"{server}/api/rankings/logistics?availability=ledig&top=4"  # the local test server
    with urllib.request.urlopen(url) as r:  # noqa: S310
        items = json.load(r)["items"]
    return ("profile=logistics&availability=ledig&plots="
            + ",".join(str(i["plot_id"]) for i in items))


def _page(browser, server, width, height):  # noqa: F811, ANN202
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server)
               else r.abort())
    return context, page


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_compare_page_at_three_sizes(browser, server, query, width, height):  # noqa: F811
    context, page = _page(browser, server, width, height)
    page.goto(f"{server}/compare?{query}")
    page.wait_for_selector("#comparison")
    # never a sideways page scroll: the table scrolls inside its own box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("#comparison-box")
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    assert page.locator("#comparison tr.rank td").first.inner_text().startswith("nr. 1 av ")
    size = float(page.locator("#comparison td").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"))
    table = page.locator("#comparison-box").bounding_box()
    mapbox = page.locator(".compare-map").bounding_box()
    if width == 1920:  # projector: larger text, table and map side by side
        assert size >= 18
        assert mapbox["x"] > table["x"] + table["width"] - 1
        assert table["width"] > 900
    # no column squeezed to a letter a line (every row's header and cell keeps a width)
    narrowest = page.evaluate("""() => Math.min(...[...document.querySelectorAll(
        '#comparison tbody th, #comparison tbody td')]
        .map(e => e.getBoundingClientRect().width))""")
    assert narrowest >= 80, narrowest
    if width == 390:  # phone: one column, the map below the table, text still readable
        assert size >= 14
        assert mapbox["y"] > table["y"]
        assert mapbox["width"] <= width and table["width"] <= width
    context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_accounts_table_keeps_its_columns(browser, server, width, height):  # noqa: F811
    """The land accounts' region table: on a phone every column was a letter wide."""
    context, page = _page(browser, server, width, height)
    page.goto(f"{server}/accounts")
    page.wait_for_selector("#region")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    narrowest = page.evaluate("""() => Math.min(...[...document.querySelectorAll(
        '#region th, #region td')].map(e => e.getBoundingClientRect().width))""")
    assert narrowest >= 30, narrowest
    first = page.locator("#region tbody th").first.bounding_box()
    assert first["width"] >= 80 and first["height"] < 80, first  # 'Annen næring' on 1–2 lines
    context.close()


def test_compare_page_by_keyboard_only(browser, server, query):  # noqa: F811
    context, page = _page(browser, server, 390, 844)
    page.goto(f"{server}/compare?{query}")
    page.wait_for_selector("#comparison")
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => document.activeElement.id || document.activeElement.tagName"))
        if reached[-1] == "export-pdf":
            break
    for target in ("comparison-box", "isochrones", "export-html", "export-pdf"):
        assert target in reached, reached
    assert reached.index("comparison-box") < reached.index("isochrones")
    # the table's box scrolls with the arrow keys and shows where the focus is
    box = page.locator("#comparison-box")
    box.evaluate("e => { e.scrollLeft = 0; }")  # tabbing through its links scrolled it
    box.focus()
    assert box.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    wide, shown = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    if wide > shown:  # a table wider than the phone scrolls inside its box, by arrow keys
        before = box.evaluate("e => e.scrollLeft")
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        # Chromium scrolls smoothly: wait for the scroll to land, then look
        settled(page, f"() => document.getElementById('comparison-box').scrollLeft > {before}")
        assert box.evaluate("e => e.scrollLeft") > before
    else:  # or it fits the phone, and nothing is cut off
        assert page.locator("#comparison").bounding_box()["width"] <= shown
    # choose drive-time zones and download the meeting map, keys only
    page.locator("#isochrones").focus()
    page.keyboard.press("ArrowDown")
    assert page.locator("#isochrones").input_value() != ""
    page.locator("#export-html").focus()
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert info.value.suggested_filename == "sammenligning-logistics.html"
    context.close()


def test_meeting_map_from_a_usb_stick(browser, server, query, tmp_path):  # noqa: F811
    context, page = _page(browser, server, 1920, 1080)
    res = page.request.get(f"{server}/compare/export.html?{query}&isochrones=gardermoen")
    assert res.ok
    exported = tmp_path / "moete.html"
    exported.write_bytes(res.body())
    context.close()

    offline, blocked = usb_stick(browser, viewport={"width": 1920, "height": 1080})
    usb = offline.new_page()
    errors = []
    usb.on("pageerror", lambda e: errors.append(str(e)))
    usb.goto(exported.as_uri())
    usb.wait_for_function("() => document.querySelectorAll('path.landreg-plot').length === 4",
                          timeout=15000)
    assert usb.locator(".landreg-plot-no").all_inner_texts() == ["1", "2", "3", "4"]
    assert usb.locator("path.landreg-isochrone").count() == 4
    assert usb.locator(".leaflet-control-scale-line").count() == 1  # metres only
    assert "mi" not in usb.locator(".leaflet-control-scale-line").inner_text()
    assert usb.locator(".north-arrow").is_visible()
    head = usb.inner_text(".export-head")
    assert "Tegnforklaring" in head and "Status: Ledig" in head
    assert date.today().strftime("%d.%m.%Y") in head
    assert not errors
    assert all(not u.startswith(server) for u in blocked)  # nothing needed from the server
    offline.close()
