"""Accessibility of the pages in Chromium: axe-core finds no serious or critical violation on
the login, enquiry, thanks, import, not-found and plot pages, in both languages, at desktop and
phone size. Every request off this machine is blocked."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from landreg.db import get_engine, session_scope
from landreg.models import Enquiry, Plot
from tests.browser.a11y import assert_accessible, format_violations, serious_violations
from tests.browser.test_edit import planner  # noqa: F401 - fixtures
from tests.browser.test_map import browser, server  # noqa: F401 - fixtures
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.browser
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def warm_server(server):  # noqa: F811
    """The first enquiry page loads the suitability layers (a minute on a busy machine):
    load it once before the browser's timeouts start counting."""
    from urllib.request import urlopen

    with urlopen(f"{server}/enquiry", timeout=600) as res:  # noqa: S310 - our test server
        res.read()
    return server


@pytest.fixture
def open_page(browser, warm_server):  # noqa: F811
    """``open_page(width, height)``: a fresh context's page with off-machine requests blocked."""
    contexts = []

    def make(width: int = 1280, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)  # a busy machine (2 cores shared)
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(warm_server)
                   else r.abort())
        return page

    yield make
    for c in contexts:
        c.close()


@pytest.fixture(scope="module")
def published_plot(database_url) -> int:
    with session_scope(get_engine(database_url)) as s:
        return s.execute(select(Plot.id).where(Plot.published.is_(True))
                         .order_by(Plot.id)).scalars().first()


@pytest.fixture
def forget_enquiries(database_url):
    yield
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Enquiry).where(Enquiry.company.like("A11y test%")))


def log_in(page, server: str, username: str, lang: str = "nb") -> None:  # noqa: F811
    page.goto(f"{server}/login?next=/import" + ("&lang=en" if lang == "en" else ""))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/import**")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_public_pages_have_no_serious_violations(open_page, server, published_plot,  # noqa: F811
                                                 size, lang):
    page = open_page(*SIZES[size])
    q = "?lang=en" if lang == "en" else ""
    for path, what in [("/login", "login"), ("/enquiry", "enquiry"),
                       (f"/plots/{published_plot}", "plot page"),
                       ("/plots/99999999", "plot not found"),
                       ("/no/such/page", "page not found")]:
        page.goto(f"{server}{path}{q}")
        assert page.get_attribute("html", "lang") == lang
        assert_accessible(page, f"{what} ({lang}, {size})")


@pytest.mark.parametrize("size", SIZES)
def test_enquiry_thanks_has_no_serious_violations(open_page, server, size,  # noqa: F811
                                                  forget_enquiries):
    page = open_page(*SIZES[size])
    page.goto(f"{server}/enquiry?lang=en")
    page.fill("#q-company", f"A11y test {size}")
    page.fill("#q-email", "post@example.no")
    page.check("input[name=consent]")
    page.click("form.enquiry button[type=submit]")
    page.wait_for_selector("h1")
    assert page.get_attribute("html", "lang") == "en"
    assert_accessible(page, f"enquiry thanks ({size})")


@pytest.mark.parametrize("size", SIZES)
def test_import_page_has_no_serious_violations(open_page, server, planner, size):  # noqa: F811
    page = open_page(*SIZES[size])
    log_in(page, server, planner)
    assert_accessible(page, f"import ({size})")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("path", ["/map", "/compare?profile=logistics&plots=1,2,3"])
def test_map_and_compare_have_no_serious_violations(open_page, server, path,  # noqa: F811
                                                    size):
    page = open_page(*SIZES[size])
    page.goto(f"{server}{path}")
    page.wait_for_load_state("networkidle")
    found = serious_violations(page)
    assert not found, format_violations(found)
