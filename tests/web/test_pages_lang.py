"""Login, enquiry, thanks and not-found pages in both languages: every word from the
catalogue (no Norwegian left on an English page), the language kept through the form's POST
and by the language switch, and a form's values kept after a mistake."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete

from landreg.db import get_engine, session_scope
from landreg.i18n import CATALOGUE
from landreg.models import Enquiry

SECTIONS = ("pages", "errors")


def _visible(res) -> str:
    """The page's text and the attribute values a person reads (placeholder, value)."""
    page = res.get_data(as_text=True)
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    attrs = " ".join(re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attrs)


def _norwegian_only() -> list[str]:
    """The Norwegian texts of this area's catalogue sections that differ from the English."""
    raw = yaml.safe_load(Path(CATALOGUE).read_text(encoding="utf-8"))["text"]
    out = []
    for section in SECTIONS:
        for entry in (raw[section] or {}).values():
            if entry["nb"] != entry["en"] and len(entry["nb"]) > 4 and "{" not in entry["nb"]:
                out.append(entry["nb"])
    return out


@pytest.fixture
def forget_enquiries(database_url):
    yield
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Enquiry).where(Enquiry.company.like("Lang test%")))


def _form(client, path: str) -> dict[str, str]:
    page = client.get(path).get_data(as_text=True)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}


@pytest.mark.parametrize("path", ["/login", "/login?next=/import", "/enquiry", "/plots/99999999",
                                  "/no/such/page"])
def test_english_pages_have_no_norwegian_left(client, path):
    sep = "&" if "?" in path else "?"
    res = client.get(f"{path}{sep}lang=en", headers={"Accept": "text/html"})
    text = _visible(res)
    assert '<html lang="en">' in res.get_data(as_text=True)
    left = [nb for nb in _norwegian_only() if nb in text]
    assert not left, left
    for word in ("Logg inn", "Brukernavn", "Passord", "Bedrift", "Kontaktperson", "Melding",
                 "Tilbake til kartet", "Fant ikke"):
        assert word not in text, word


def test_the_language_switch_keeps_the_page_and_its_parameters(client):
    page = client.get("/login?next=/import").get_data(as_text=True)
    switch = html.unescape(re.search(r'id="lang-switch" href="([^"]+)"', page).group(1))
    assert switch.startswith("/login?") and "next=%2Fimport" in switch and "lang=en" in switch
    english = client.get(switch).get_data(as_text=True)
    assert 'name="next" value="/import"' in english and "Username" in english
    assert 'action="/login?lang=en"' in english  # the answer to the POST is English too


@pytest.mark.parametrize(("lang", "message"), [
    ("nb", "«ikke-en-adresse» er ikke en e-postadresse"),
    ("en", "'ikke-en-adresse' is not an e-mail address"),
])
def test_enquiry_mistake_keeps_values_and_language(client, lang, message):
    path = "/enquiry" + ("?lang=en" if lang == "en" else "")
    data = {**_form(client, path), "company": "Lang test AS", "email": "ikke-en-adresse",
            "min_daa": "12,5", "timing": "innen 2028", "message": "Trenger <b>plass</b>",
            "profile": "logistics", "rail_needed": "true", "consent": "true"}
    res = client.post(path, data=data)
    assert res.status_code == 400
    page = res.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert message in html.unescape(page)
    assert 'href="#q-email"' in page and re.search(r'id="q-email"[^>]*aria-invalid="true"', page)
    for value in ('value="Lang test AS"', 'value="12,5"', 'value="innen 2028"',
                  "Trenger &lt;b&gt;plass&lt;/b&gt;", 'value="logistics" selected'):
        assert value in page, value
    assert re.search(r'name="rail_needed"[^>]*checked', page)
    assert re.search(r'name="consent"[^>]*checked', page)
    assert f'action="/enquiry{"?lang=en" if lang == "en" else ""}"' in page


def test_enquiry_thanks_in_english(client, forget_enquiries):
    data = {**_form(client, "/enquiry?lang=en"), "company": "Lang test Ltd",
            "email": "post@example.no", "profile": "logistics", "min_daa": "5",
            "consent": "true"}
    res = client.post("/enquiry?lang=en", data=data)
    assert res.status_code == 201
    text = _visible(res)
    assert "Thank you for your enquiry" in text
    assert not [nb for nb in _norwegian_only() if nb in text]
    assert "egnethet" not in text and ("suitability" in text or "No available land" in text)
    assert re.search(r"\d daa", text) is None or re.search(r"\d+(\.\d)?\xa0daa", text)
