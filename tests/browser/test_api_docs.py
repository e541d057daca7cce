"""The interactive API documentation (Swagger UI from npm) in Chromium, fully offline."""

from __future__ import annotations

import pytest

from tests.browser.test_map import browser, page, server  # noqa: F401

pytestmark = pytest.mark.browser


def test_api_docs_list_the_operations_offline(page, server):  # noqa: F811
    page.goto(f"{server}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    paths = page.eval_on_selector_all(
        ".opblock-summary-path", "els => els.map(e => e.getAttribute('data-path'))")
    for path in ("/api/plots", "/api/plots/{plot_id}", "/api/rankings/{profile}",
                 "/api/import", "/ogc/collections/plots/items"):
        assert path in paths, paths
    assert page.locator(".opblock-post").count() >= 5  # the write routes, too
    assert page.blocked == []  # nothing requested off this machine
