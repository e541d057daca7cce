"""The map in a real headless Chromium, with every request off this machine blocked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

from tests.browser.live import live_server  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60000)  # a busy machine: the first map of a process is slow
    page.blocked = []

    def route(r):
        if r.request.url.startswith(server):
            r.continue_()
        else:
            page.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page
    context.close()


def _loaded(page) -> None:
    page.wait_for_function("() => window.landregMap && document.body.dataset.loading === 'false'",
                           timeout=20000)


def test_map_shows_plots_filters_and_popups_offline(page, server):
    # a drive-time search brings the stored drive minutes up to date (the popup shows them)
    page.request.get(f"{server}/api/plots?within_min=600&to=gardermoen&limit=1")
    page.goto(f"{server}/map")
    _loaded(page)
    api = page.request.get(f"{server}/api/plots?limit=1000").json()
    assert page.evaluate("window.landregMap.plotCount()") == api["numberMatched"] > 80
    assert page.locator("path.landreg-plot").count() == api["numberMatched"]
    # the outside world is unreachable: the topo tiles were tried, blocked, and replaced
    assert any("kartverket" in u for u in page.blocked)
    page.wait_for_selector(".landreg-offline-note")
    assert page.locator(".leaflet-container").get_attribute("data-offline") == "true"

    # filter: one kommune
    eidskog = page.request.get(f"{server}/api/plots?kommune=3416&limit=1000").json()
    page.check("input[name=kommune][value='3416']")
    page.wait_for_function(
        f"() => window.landregMap.plotCount() === {eidskog['numberMatched']} && "
        "document.body.dataset.loading === 'false'", timeout=10000)
    assert 0 < eidskog["numberMatched"] < api["numberMatched"]
    assert "kommune=3416" in page.url
    assert page.inner_text("#count").startswith(f"{eidskog['numberMatched']} tomter")

    # click a plot: its popup shows name and area
    target = eidskog["features"][0]
    page.evaluate("""(id) => {
        const lm = window.landregMap;
        const layer = lm.layer.getLayers().find(l => l.feature.id === id);
        lm.map.fitBounds(layer.getBounds(), {maxZoom: 15});
    }""", target["id"])
    page.wait_for_timeout(600)
    page.locator(f"path[data-plot-id='{target['id']}']").click(force=True)
    popup = page.wait_for_selector(".leaflet-popup-content")
    text = popup.inner_text()
    assert target["properties"]["name"] in text
    area = f"{target['properties']['area_daa']:.1f}".replace(".", ",")
    assert f"{area} daa" in text.replace("\u00a0", " ")
    # issue 13: the drive times (built as DOM text, no innerHTML)
    text = text.replace("\u00a0", " ")
    assert "Kjøretid" in text and "Gardermoen " in text and " min" in text

    # the page is not blank: the background draws many colours
    png = page.screenshot()
    assert len(set(png[1000:20000])) > 50


def test_permalink_restores_filters(page, server):
    page.goto(f"{server}/map?kommune=3401,3415&availability=ledig&min_daa=20&colour=purpose")
    _loaded(page)
    expected = page.request.get(
        f"{server}/api/plots?kommune=3401,3415&availability=ledig&min_daa=20&limit=1000").json()
    assert page.evaluate("window.landregMap.plotCount()") == expected["numberMatched"]
    assert page.is_checked("input[name=kommune][value='3401']")
    assert page.input_value("#f-availability") == "ledig"
    assert page.input_value("#f-colour") == "purpose"
    assert "Lager/logistikk" in page.inner_text("#legend")


def test_english_and_plot_page(page, server):
    page.goto(f"{server}/map?lang=en")
    _loaded(page)
    assert "plots" in page.inner_text("#count")
    first = page.request.get(f"{server}/api/plots?limit=1").json()["features"][0]
    page.goto(f"{server}/plots/{first['id']}")
    page.wait_for_selector("path.landreg-plot")
    assert first["properties"]["name"] in page.inner_text("h1")


def test_score_colouring_and_suitability_overlay(page, server):
    page.goto(f"{server}/map?colour=score&profile=logistics&surface=1&kommune=3415")
    _loaded(page)
    page.wait_for_selector("img.landreg-surface", state="attached")
    assert "Egnethet" in page.inner_text("#legend")
    ranking = page.request.get(f"{server}/api/rankings/logistics?kommune=3415").json()
    best = ranking["items"][0]
    page.evaluate("""(id) => {
        const lm = window.landregMap;
        const layer = lm.layer.getLayers().find(l => l.feature.id === id);
        layer.openPopup();
    }""", best["plot_id"])
    text = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "Egnethet" in text and f"nr. 1 av {ranking['count']} i utvalget" in text
    # the best plot is drawn in the top colours of the (colour-blind safe) ramp
    colour = page.evaluate("""(id) => window.landregMap.layer.getLayers()
        .find(l => l.feature.id === id).options.color""", best["plot_id"])
    assert colour in ("#fde725", "#7ad151")
    # the ranked plots carry their rank on their markers (the list's numbers)
    page.evaluate("window.landregMap.map.fitBounds(window.landregMap.layer.getBounds())")
    labels = [t for t in page.locator(".plot-marker-label").all_inner_texts() if t]
    ranks = {str(i["rank"]) for i in ranking["items"] if not i["excluded"]}
    assert labels and set(labels) <= ranks


def test_drive_time_filter_and_isochrones(page, server):
    """Issue 13: "innen N min fra …" filters the map like the API; zones draw from the API."""
    page.goto(f"{server}/map?within_min=60&to=gardermoen")
    _loaded(page)
    expected = page.request.get(
        f"{server}/api/plots?within_min=60&to=gardermoen&limit=1000").json()
    assert page.evaluate("window.landregMap.plotCount()") == expected["numberMatched"]
    assert page.input_value("#f-to") == "gardermoen"
    page.select_option("#f-iso", "gardermoen")
    page.wait_for_selector("path.landreg-isochrone")  # (CSP: no wait_for_function strings)
    assert page.locator("path.landreg-isochrone").count() == 4  # 15, 30, 45, 60 min
