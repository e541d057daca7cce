"""The login and enquiry forms by keyboard alone, in Chromium: the skip link is the first
stop and moves focus to the content, the focus order follows the form, every stop shows a
visible focus ring, and the forms can be filled in and sent without a mouse."""

from __future__ import annotations

import pytest

from tests.browser.test_a11y import (  # noqa: F401 - fixtures
    PASSWORD,
    SIZES,
    browser,
    forget_enquiries,
    open_page,
    planner,
    server,
    warm_server,
)

pytestmark = pytest.mark.browser

ENQUIRY_ORDER = ["q-company", "q-profile", "q-min_daa", "q-max_daa", "q-timing",
                 "q-rail_needed", "q-power_mw", "q-within_min", "q-within_to",
                 "q-road-km", "q-junction-km", "q-rail-km", "q-station-km",
                 "q-contact_name", "q-email", "q-phone", "q-message", "q-consent", "send"]

#: The focused element: its id (or tag), and whether a focus ring of at least 2 px shows.
FOCUSED = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const r = el.getBoundingClientRect();
  return {id: el.id || (el.type === 'submit' ? 'send' : el.tagName.toLowerCase()),
          ring: ring, visible: r.width > 0 && r.height > 0 && r.bottom > 0 &&
                               r.right > 0 && r.left < innerWidth};
}"""


def tab(page, shift: bool = False) -> dict:
    page.keyboard.press("Shift+Tab" if shift else "Tab")
    return page.evaluate(FOCUSED)


def walk(page, count: int) -> list[str]:
    """Tab ``count`` times; every stop must show a focus ring and be on screen."""
    stops = []
    for _ in range(count):
        stop = tab(page)
        assert stop["ring"] and stop["visible"], stop
        stops.append(stop["id"])
    return stops


def skip_to_content(page) -> None:
    """Tab once: the skip link shows with a ring; Enter moves focus to <main>."""
    first = tab(page)
    assert first["id"] == "skip-link" or page.evaluate(
        "document.activeElement.classList.contains('skip-link')"), first
    assert first["ring"] and first["visible"], first
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("size", SIZES)
def test_login_by_keyboard_alone(open_page, server, planner, size):  # noqa: F811
    page = open_page(*SIZES[size])
    page.goto(f"{server}/login?next=/import&lang=en")
    skip_to_content(page)
    assert walk(page, 3) == ["username", "password", "send"]
    tab(page, shift=True)
    tab(page, shift=True)  # back to the username: Shift+Tab walks the same order back
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type(planner)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong " + PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#login-error")
    assert "Wrong username or password." in page.inner_text("#login-error")
    page.focus("#username")
    page.keyboard.type(planner)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/import**")
    assert planner in page.inner_text(".topbar")


@pytest.mark.parametrize("size", SIZES)
def test_enquiry_by_keyboard_alone(open_page, server, size, forget_enquiries):  # noqa: F811
    page = open_page(*SIZES[size])
    page.goto(f"{server}/enquiry")
    skip_to_content(page)
    assert walk(page, len(ENQUIRY_ORDER)) == ENQUIRY_ORDER

    page.focus("#q-company")  # now fill it in, still by keyboard only
    page.keyboard.type(f"A11y test keyboard {size}")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # another purpose profile
    profile = page.input_value("#q-profile")
    page.keyboard.press("Tab")
    page.keyboard.type("20")
    page.keyboard.press("Tab")
    page.keyboard.type("10")  # smaller than the smallest: the server says so
    for _ in range(ENQUIRY_ORDER.index("q-email") - ENQUIRY_ORDER.index("q-max_daa")):
        page.keyboard.press("Tab")
    page.keyboard.type("post@example.no")
    for _ in range(ENQUIRY_ORDER.index("q-consent") - ENQUIRY_ORDER.index("q-email")):
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.wait_for_selector("#enquiry-error")
    assert page.evaluate("document.activeElement.id") == "enquiry-error"  # read first
    assert "Minste areal (20 daa) er større enn største (10 daa)." in \
        page.inner_text("#enquiry-error")
    assert page.get_attribute("#q-min_daa", "aria-invalid") == "true"
    assert page.input_value("#q-company") == f"A11y test keyboard {size}"
    assert page.input_value("#q-profile") == profile and page.is_checked("#q-consent")
    page.focus("#q-max_daa")
    page.keyboard.press("Control+A")
    page.keyboard.type("40")
    page.keyboard.press("Enter")  # Enter in a text field sends the form
    page.wait_for_selector("h1:has-text('Takk for henvendelsen')")
