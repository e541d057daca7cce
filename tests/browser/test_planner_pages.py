"""The planners' pages in a real Chromium at a laptop (1280×800) and a phone (390×844), used by
keyboard only: Mine tomter (filter, withdraw with a reason, undo), the full edit form (errors
beside the fields, then a save). Every request off this machine is blocked."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select

from landreg.auth.users import add_user
from landreg.db import get_engine, session_scope
from landreg.models import Plot, User
from landreg.registry.plots import create_plot
from tests.browser.test_map import browser, server  # noqa: F401 - fixtures
from tests.helpers import INSIDE, plot_attrs, square_25833

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def planner(database_url):
    """A Kongsvinger planner with two plots of their own: one unpublished."""
    name = f"plan{uuid.uuid4().hex[:6]}"
    x, y = INSIDE["3401"]
    with session_scope(get_engine(database_url)) as s:
        add_user(s, name, role="planner", kommuner=["3401"], password=PASSWORD)
        ids = [create_plot(s, plot_attrs(name=f"Tastatur {n} {name}", published=n == 1),
                           square_25833(x - 6000 + 100 * n, y - 2500, 60), 25833,
                           user=name).plot["id"] for n in (1, 2)]
    yield name, ids
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.created_by == name))
        s.execute(delete(User).where(User.username == name))


@pytest.fixture(params=list(SIZES))
def page(request, browser, server):  # noqa: F811
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server)
               else r.abort())
    yield page
    context.close()


def _login(page, server, name, target):  # noqa: F811
    page.goto(f"{server}/login?next={target}")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == target)


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching ``selector`` has the focus (fails if never)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def type_into(page, selector: str, text: str) -> None:
    """Tab to a field and type (no mouse)."""
    tab_to(page, selector)
    page.keyboard.type(text)


def submit(page, button: str, url_glob: str) -> None:
    """Tab to a button, press Enter, wait for the page it leads to."""
    tab_to(page, button)
    page.keyboard.press("Enter")
    page.wait_for_url(url_glob)


def _fits(page) -> None:
    """Nothing scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _row(page, pid: int) -> str:
    return page.inner_text(f'#mine tr[data-id="{pid}"]')


def test_mine_withdraw_and_undo_by_keyboard(page, server, planner, database_url):  # noqa: F811
    name, (pub, unpub) = planner
    _login(page, server, name, "/mine")
    _fits(page)
    text = page.inner_text("#mine")
    assert f"Tastatur 1 {name}" in text and f"Tastatur 2 {name}" in text  # unpublished too

    # filter by text with the keyboard: the unpublished one only
    tab_to(page, "#m-q")
    page.keyboard.type(f"Tastatur 2 {name}")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=*")
    assert page.locator("#mine tbody tr").count() == 1
    assert "Nei" in _row(page, unpub)

    # withdraw it: the link, a page asking for a reason (focused), confirm
    tab_to(page, f'#mine tr[data-id="{unpub}"] a.withdraw-link')
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == f"/plots/{unpub}/withdraw")
    _fits(page)
    assert page.evaluate("document.activeElement.id") == "w-reason"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # no reason: the browser refuses (required), nothing is sent
    page.wait_for_timeout(300)
    assert urlsplit(page.url).path == f"/plots/{unpub}/withdraw"
    assert page.evaluate("document.getElementById('w-reason').validity.valueMissing")
    type_into(page, "#w-reason", "Arealet trengs til ny skole")
    submit(page, "#confirm-withdraw", "**done=withdrawn*")
    assert "er trukket tilbake" in page.inner_text("#done-message")
    assert "Trukket tilbake" in _row(page, unpub)
    assert "Arealet trengs til ny skole" in _row(page, unpub)
    with session_scope(get_engine(database_url)) as s:
        assert s.execute(select(Plot.availability).where(Plot.id == unpub)).scalar_one() \
            == "trukket"

    # undo from the message
    submit(page, "#done-message button.undo", "**done=restored*")
    assert "er angret" in page.inner_text("#done-message")
    assert "Ledig" in _row(page, unpub)
    _fits(page)
    with session_scope(get_engine(database_url)) as s:
        p = s.get(Plot, unpub)
        assert (p.availability, p.published, p.withdrawn_reason) == ("ledig", False, None)


def test_edit_form_by_keyboard(page, server, planner, database_url):  # noqa: F811
    name, (pub, _) = planner
    _login(page, server, name, "/mine")
    tab_to(page, f'#mine tr[data-id="{pub}"] a.edit-link')
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == f"/plots/{pub}/edit")
    _fits(page)

    # two mistakes: each is said beside its field, and the focus goes to the summary
    type_into(page, "#f-max_bya_pct", "150")
    type_into(page, "#f-max_height_m", "høy")
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-error")
    assert page.evaluate("document.activeElement.id") == "form-error"
    assert "Må være mellom 0 og 100." in page.inner_text("#e-max_bya_pct")
    assert "Skriv et tall" in page.inner_text("#e-max_height_m")
    assert page.get_attribute("#f-max_bya_pct", "aria-invalid") == "true"
    _fits(page)

    # correct them and choose the readiness with the keyboard, then save
    tab_to(page, "#f-max_bya_pct")
    page.keyboard.press("Control+A")
    page.keyboard.type("45")
    tab_to(page, "#f-max_height_m")
    page.keyboard.press("Control+A")
    page.keyboard.type("12,5")
    tab_to(page, "#f-road_access")
    page.keyboard.press("j")  # "Ja"
    type_into(page, "#f-description", "Flat grusplass, klar for bygging.")
    submit(page, "#save", "**done=saved*")
    assert "Lagret (versjon 2)." in page.inner_text("#form-status")
    with session_scope(get_engine(database_url)) as s:
        p = s.get(Plot, pub)
        assert (p.max_bya_pct, p.max_height_m, p.road_access, p.description) == (
            45, 12.5, True, "Flat grusplass, klar for bygging.")
    assert page.input_value("#f-max_height_m") == "12,5"
