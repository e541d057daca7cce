"""A planner in a real browser: log in, draw a plot, save, see area and score, edit it,
see the history. Every request off this machine is blocked."""

from __future__ import annotations

import pytest

from tests.browser.live import log_in
from tests.browser.test_map import browser, page, server  # noqa: F401 - fixtures
from tests.web.conftest import throwaway_planner

pytestmark = pytest.mark.browser


@pytest.fixture
def planner(database_url):
    with throwaway_planner(database_url, "planlegger", "3401") as name:
        yield name


def test_planner_draws_saves_edits_and_sees_history(page, server, planner):  # noqa: F811
    page.set_default_timeout(120_000)  # the first map render is slow on a busy machine
    log_in(page, server, planner, "/map")
    page.wait_for_function("() => window.landregMap && document.body.dataset.loading === 'false'",
                           timeout=20000)
    assert planner in page.inner_text(".topbar")

    # draw a square north of Kongsvinger centre
    page.evaluate("window.landregMap.map.setView([60.2130, 12.0300], 16)")
    page.wait_for_timeout(400)
    page.click("#draw")
    box = page.locator(".mapbox .leaflet-container").bounding_box()
    x0, y0 = box["x"] + box["width"] / 2 - 60, box["y"] + box["height"] / 2 - 60
    for dx, dy in ((0, 0), (120, 0), (120, 120), (0, 120), (0, 0)):
        page.mouse.click(x0 + dx, y0 + dy)
        page.wait_for_timeout(150)
    page.wait_for_selector("#plot-form:not([hidden])")
    page.fill("#e-name", "Testtomt fra nettleser")
    page.fill("#e-price", "275")
    page.click("#e-save")
    page.wait_for_function("() => document.body.dataset.savedScore !== undefined", timeout=20000)
    text = page.inner_text("#edit-status")
    assert "Lagret: Testtomt fra nettleser" in text and "daa" in text and "Kongsvinger" in text
    pid = int(page.get_attribute("body", "data-saved-plot"))
    saved = page.request.get(f"{server}/api/plots/{pid}").json()
    area = saved["properties"]["area_daa"]
    assert 5 < area < 40  # about 120 × 120 px at zoom 16
    assert f"{area:.1f}".replace(".", ",") in text.replace("\u00a0", " ")
    assert "Egnethet" in text

    # edit it: open its popup, press Rediger, change the price, save
    page.wait_for_function(f"() => window.landregMap.layer.getLayers().some(l => l.feature.id === "
                           f"{pid}) && document.body.dataset.loading === 'false'")
    page.evaluate("""(id) => window.landregMap.layer.getLayers()
        .find(l => l.feature.id === id).openPopup()""", pid)
    page.click(".leaflet-popup .edit-plot")
    page.fill("#e-price", "300")
    page.click("#e-save")
    page.wait_for_function("() => document.getElementById('edit-status').textContent"
                           ".includes('versjon 2')", timeout=15000)
    assert page.request.get(f"{server}/api/plots/{pid}").json()["properties"][
        "price_nok_m2"] == 300

    # a colleague saves in between: our next save is refused and both versions are shown
    page.wait_for_function("() => document.body.dataset.loading === 'false'")
    page.evaluate("""(id) => window.landregMap.layer.getLayers()
        .find(l => l.feature.id === id).openPopup()""", pid)
    page.click(".leaflet-popup .edit-plot")  # the form holds version 2
    # the panel links to the plot's full edit form (every field)
    assert page.get_attribute("#e-all-fields", "href").endswith(f"/plots/{pid}/edit")
    assert page.is_visible("#e-all-fields")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    colleague = page.request.patch(f"{server}/api/plots/{pid}", headers={"X-CSRFToken": token},
                                   data={"version": 2, "properties": {"price_nok_m2": 333}})
    assert colleague.status == 200
    page.fill("#e-price", "350")
    page.click("#e-save")
    page.wait_for_selector("table.conflict")
    conflict = page.inner_text("table.conflict")
    assert "350" in conflict and "333" in conflict
    assert "Pris (kr/m²)" in conflict and "price_nok_m2" not in conflict  # labels, not names
    assert "true" not in conflict.lower()
    assert page.request.get(f"{server}/api/plots/{pid}").json()["properties"][
        "price_nok_m2"] == 333  # nothing overwritten
    page.click("#e-cancel")

    # the history page shows every version and the price changes
    page.goto(f"{server}/plots/{pid}/history")
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 3
    assert "333" in rows.nth(0).inner_text()

    # withdraw from the map; the plot leaves the public view, the history page restores it
    page.goto(f"{server}/map")
    page.wait_for_function("() => window.landregMap && document.body.dataset.loading === 'false'")
    page.evaluate("""(id) => window.landregMap.layer.getLayers()
        .find(l => l.feature.id === id).openPopup()""", pid)
    page.click(".leaflet-popup .withdraw-plot")  # asks for confirmation and a reason first
    page.wait_for_selector("#w-reason")
    assert page.request.get(f"{server}/api/plots/{pid}").json()["properties"][
        "availability"] != "trukket"
    page.fill("#w-reason", "Solgt privat")
    page.click("#confirm-withdraw")
    page.wait_for_selector("#withdrawn-banner")
    assert "Solgt privat" in page.inner_text("#withdrawn-banner")
    assert page.is_visible("#undo")  # "Angre" right after the withdrawal
    # the planner still reads it (withdrawn, unpublished); the public gets a 404
    assert page.request.get(f"{server}/api/plots/{pid}").json()["properties"][
        "availability"] == "trukket"
    public = page.context.browser.new_context()
    assert public.request.get(f"{server}/api/plots/{pid}").status == 404
    public.close()
    page.goto(f"{server}/plots/{pid}/history")
    page.once("dialog", lambda dialog: dialog.accept())  # "Gjøre versjon 3 gjeldende igjen?"
    page.click("button.restore-version[data-version='3']")
    page.wait_for_function("() => document.querySelectorAll('#versions tbody tr').length === 5")
    assert page.request.get(f"{server}/api/plots/{pid}").json()["properties"][
        "availability"] == "ledig"
