"""The planning forum in a real browser: rank → pick three → compare → export, and the
exported map opening from a file with every network request blocked."""

from __future__ import annotations

import pytest

from tests.browser.test_map import browser, page, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def usb_stick(browser, **options):  # noqa: F811, ANN001, ANN201
    """A browser context that can open files and nothing else, as from a USB stick with no
    network: (context, the URLs it refused)."""
    context = browser.new_context(**options)
    blocked: list[str] = []

    def block(route):  # noqa: ANN001, ANN202
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    return context, blocked


def test_rank_pick_three_compare_export(page, server, browser, tmp_path):  # noqa: F811
    page.goto(f"{server}/map?colour=score&profile=wood_processing")
    page.wait_for_function("() => window.landregMap && document.body.dataset.loading === 'false'",
                           timeout=20000)
    ranking = page.request.get(f"{server}/api/rankings/wood_processing").json()["items"]
    top3 = [i["plot_id"] for i in ranking[:3]]
    for pid in top3:  # pick from the ranked map: open the plot's popup, press "Velg"
        page.evaluate("""(id) => window.landregMap.layer.getLayers()
            .find(l => l.feature.id === id).openPopup()""", pid)
        page.click(f".leaflet-popup button.pick[data-id='{pid}']")
    link = page.locator("#compare-link")
    assert link.inner_text() == "Sammenlign valgte (3)"
    link.click()
    page.wait_for_selector("#comparison")
    headers = page.locator("#comparison thead th").all_inner_texts()  # corner cell is a td
    assert len(headers) == 3
    for item, header in zip(ranking[:3], headers, strict=True):
        assert item["name"] in header
    assert page.locator("#comparison td.best").count() >= 1

    with page.expect_download() as info:
        page.click("#export-html")
    exported = tmp_path / "meeting.html"
    info.value.save_as(exported)
    html = exported.read_text(encoding="utf-8")
    assert "/vendor/" not in html and "<script src=" not in html

    offline, blocked = usb_stick(browser)
    usb = offline.new_page()
    usb.goto(exported.as_uri())
    usb.wait_for_function("() => document.querySelectorAll('path.landreg-plot').length === 3",
                          timeout=15000)
    assert "Sammenligning" in usb.inner_text(".export-head")
    assert all(not u.startswith(server) for u in blocked)  # nothing needed from the server
    offline.close()
