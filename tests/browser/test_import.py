"""The upload page in a real browser, by keyboard: a dry run of a plan with a bad area lists
every reason, "Importer de gyldige" imports the rest, and the page lists what was created
(unpublished, with links) and what was skipped — at 1280×800, on a 390×844 phone, and in
English at 1920×1080."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.browser.live import log_in
from tests.browser.test_map import browser, server  # noqa: F401 - fixtures
from tests.ingest.plans import Area, mixed_plan, sosi_plan
from tests.web.conftest import throwaway_planner

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("LANDREG_SCREENSHOTS", "/tmp/landreg-shots-import"))


@pytest.fixture
def planner(database_url):
    with throwaway_planner(database_url, "imp", "3417") as name:
        yield name


#: What the page says, per language.
WORDS = {"nb": {"unknown": "er ingen kjent kode", "skipped": "2011 Kjøreveg: ikke næringsareal: 1",
                "new": "2 nye", "unpublished": "ikke publisert", "mine": "/mine"},
         "en": {"unknown": "is not a known code", "skipped": "2011 Kjøreveg: not business land: 1",
                "new": "2 new", "unpublished": "not published", "mine": "/mine?lang=en"}}


@pytest.mark.parametrize("size,lang", [((1920, 1080), "en"), ((1280, 800), "nb"),
                                       ((390, 844), "nb")], ids=["wide-en", "desktop", "phone"])
def test_dry_run_import_the_valid_ones_and_see_the_list(browser, server, planner,  # noqa: F811
                                                        tmp_path, size, lang):
    words = WORDS[lang]
    tag = f"B{uuid.uuid4().hex[:5]}"
    plan = sosi_plan(tmp_path, mixed_plan(tag) + [Area(9999, "X9 Ukjent", 500)],
                     kommune="3417", planid=tag, name="Åsbø reguleringsplan.sos")
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server)
               else r.abort())
    log_in(page, server, planner, "/import" + ("?lang=en" if lang == "en" else ""),
           keyboard=True)
    page.wait_for_selector("#import-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]

    page.set_input_files("#i-file", str(plan))
    page.focus("#i-map")
    page.keyboard.press("Tab")  # to "Prøvekjør"
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-import='dry-run']", timeout=30000)
    assert page.evaluate("document.activeElement.id") == "import-report-h"
    rejected = page.inner_text("#import-rejected")
    assert "X9 Ukjent" in rejected and words["unknown"] in rejected
    assert words["skipped"] in page.inner_text("#import-skipped")
    assert words["new"] in page.inner_text("#import-counts")
    assert page.is_hidden("#import-apply") and page.is_visible("#import-apply-valid")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"import-dry-{size[0]}-{lang}.png"), full_page=True)

    page.keyboard.press("Tab")  # from the heading to "Importer de gyldige"
    assert page.evaluate("document.activeElement.id") == "import-apply-valid"
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-import='applied']", timeout=30000)
    created = page.locator("#import-groups ul[data-action='create'] li")
    assert created.count() == 2
    first = created.first.inner_text()
    assert words["unpublished"] in first
    assert page.locator("#import-groups ul[data-action='skipped'] li").count() == 3
    assert page.get_attribute("#import-mine", "href") == words["mine"]
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.screenshot(path=str(SHOTS / f"import-done-{size[0]}-{lang}.png"), full_page=True)
    link = page.locator("#import-groups ul[data-action='create'] li a").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/plots/*")
    assert page.locator("h1").count() >= 1
    context.close()
