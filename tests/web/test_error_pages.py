"""Errors for people and for scripts: a browser that navigates to a failing address gets a
page in its language saying what went wrong and what to do; scripts, fetch and XHR keep the
JSON with the same status code. Messages come in the request's language, never naming a
command-line flag or a field name."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask import abort

from landreg import errors as e
from landreg.web import create_app
from tests.web.conftest import PASSWORD, csrf_token, login

#: What Chromium sends when a person follows a link or types an address.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                     "image/webp,*/*;q=0.8", "Sec-Fetch-Mode": "navigate"}
#: What fetch() sends by default, and what a script asking for JSON sends.
FETCH = {"Accept": "*/*", "Sec-Fetch-Mode": "cors"}
SCRIPT = {"Accept": "application/json"}


def _text(res) -> str:
    """The visible text of a page's <main>, whitespace collapsed."""
    main = res.get_data(as_text=True).split("<main", 1)[1].split(">", 1)[1]
    text = html.unescape(re.sub(r"<[^>]+>", " ", main.split("</main>")[0]))
    return re.sub(r"[ \t\r\n]+", " ", text).strip()  # no-break spaces stay


@pytest.mark.parametrize(("path", "status", "code", "nb", "en"), [
    ("/no/such/page", 404, "not_found", "Fant ikke siden", "Page not found"),
    ("/api/plots?min_daa=abc", 400, "invalid_input",
     "Minste areal (daa) må være et tall; fikk «abc»",
     "Smallest area (daa) must be a number; got 'abc'"),
    ("/api/plots/99999999", 404, "not_found", "Det finnes ingen tomt med nr. 99999999.",
     "There is no plot with id 99999999."),
    ("/api/plots?limit=0", 400, "invalid_input", "limit må være 1–1\u00a0000; fikk 0",
     "limit must be 1–1,000; got 0"),
    ("/ogc/collections/nope/items", 404, "not_found",
     "Det finnes ikke noe datasett «nope»", "There is no collection 'nope'"),
    ("/ogc/collections/municipalities/items/9999", 404, "not_found",
     "Det finnes ingen kommune «9999» i Glåmdalen.", "There is no kommune '9999'."),
    ("/api/isochrones/nowhere", 404, "not_found", "Ukjent reisemål «nowhere»",
     "No destination 'nowhere'"),
])
def test_a_browser_gets_a_page_in_its_language_and_a_script_the_json(client, path, status,
                                                                      code, nb, en):
    sep = "&" if "?" in path else "?"
    for lang, words in (("nb", nb), ("en", en)):
        url = path if lang == "nb" else f"{path}{sep}lang=en"
        page = client.get(url, headers=BROWSER)
        assert page.status_code == status and page.mimetype == "text/html", url
        assert f'<html lang="{lang}">' in page.get_data(as_text=True)
        text = _text(page)
        assert words in text
        assert ("Hva kan du gjøre?" if lang == "nb" else "What can you do?") in text
        assert "{" not in text and "min_daa" not in text
        assert page.headers["Content-Security-Policy"]  # the same headers as every page
        for headers in (FETCH, SCRIPT, {}):
            res = client.get(url, headers=headers)
            assert res.status_code == status and res.mimetype == "application/json", headers
            body = res.get_json()
            assert body["code"] == code
            if path != "/no/such/page":  # werkzeug's own 404: see the test below
                assert words in body["description"]


def test_xhr_and_explicit_json_keep_json(client):
    xhr = client.get("/api/plots?min_daa=abc", headers={**BROWSER,
                                                       "X-Requested-With": "XMLHttpRequest"})
    assert xhr.mimetype == "application/json" and xhr.get_json()["field"] == "min_daa"
    ogc = client.get("/ogc/collections/plots/items?limit=abc&f=json", headers=BROWSER)
    assert ogc.status_code == 400 and ogc.mimetype == "application/json"


def test_unauthenticated_write_page_offers_login(client):
    res = client.post("/api/plots", headers=BROWSER, data={})
    assert res.status_code == 401 and res.mimetype == "text/html"
    text = _text(res)
    assert "Du må logge inn" in text and "Logg inn (eller send en API-nøkkel" in text
    assert 'href="/login' in res.get_data(as_text=True)
    api = client.post("/api/plots", json={})
    assert api.status_code == 401 and api.get_json()["code"] == "authentication_failed"


@pytest.fixture(scope="module")
def raising_app(settings):
    """The app plus /raise/<n>, which raises the domain error (or crash) of status n."""
    app = create_app({"TESTING": True}, settings=settings)
    raises = {401: e.AuthenticationFailed("no"), 403: e.PermissionDenied("no"),
              409: e.StaleVersion("no"), 413: e.TooLarge("no"),
              429: e.TooManyRequests("no", retry_after=300),
              503: e.DatabaseUnavailable("no", retry_after=5), 500: RuntimeError("boom")}

    def boom(status: int):
        raise raises[status]

    app.add_url_rule("/raise/<int:status>", "raise", boom)
    app.add_url_rule("/abort/<int:status>", "abort", lambda status: abort(status))
    return app


@pytest.mark.parametrize(("status", "nb", "en"), [
    (401, "Du må logge inn", "You need to log in"),
    (403, "Du har ikke tilgang", "You do not have access"),
    (409, "Noen andre har endret dette", "Someone else has changed this"),
    (413, "Filen er for stor", "The file is too large"),
    (429, "For mange forsøk", "Too many attempts"),
    (503, "Registeret er ikke tilgjengelig akkurat nå", "The register is unavailable right now"),
    (500, "Noe gikk galt hos oss", "Something went wrong on our side"),
])
def test_every_error_status_has_a_page_in_both_languages(raising_app, status, nb, en):
    web = raising_app.test_client()
    for lang, title in (("nb", nb), ("en", en)):
        res = web.get(f"/raise/{status}?lang={lang}", headers=BROWSER)
        assert res.status_code == status and res.mimetype == "text/html"
        html = res.get_data(as_text=True)
        assert f"<h1>{title}</h1>" in html and f'<html lang="{lang}">' in html
        if status == 429:
            assert res.headers["Retry-After"] == "300"
            assert ("Prøv igjen om 5 min." if lang == "nb" else "Try again in 5 min.") in html
        if status in (401, 403):
            assert 'href="/login?next=' in html  # back to this page after logging in
        api = web.get(f"/raise/{status}?lang={lang}")
        assert api.status_code == status and api.mimetype == "application/json"
        assert "boom" not in api.get_data(as_text=True) and "boom" not in html


def test_csrf_failure_on_a_form_is_a_page_and_the_json_keeps_its_shape(client):
    page = client.post("/enquiry?lang=en", headers=BROWSER, data={"company": "x"})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "reload the page" in _text(page)
    api = client.post("/enquiry", data={"company": "x"})
    assert api.status_code == 400 and api.get_json()["code"] == "csrf_failed"


def test_too_large_upload_page_and_json(settings, accounts):
    small = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 2048}, settings=settings)
    web = small.test_client()
    login(web, accounts["kv"])
    token = csrf_token(web, "/import")
    data = {"csrf_token": token, "file": (io.BytesIO(b"x" * 4096), "big.geojson")}
    page = web.post("/api/import", headers={**BROWSER, "X-CSRFToken": token}, data=data,
                    content_type="multipart/form-data")
    assert page.status_code == 413 and page.mimetype == "text/html", _text(page)
    assert "Filen er for stor" in _text(page) and "Filen er større enn grensen" in _text(page)
    res = web.post("/api/import?lang=en", headers={"X-CSRFToken": token},
                   data={"file": (io.BytesIO(b"x" * 4096), "big.geojson")},
                   content_type="multipart/form-data")
    assert res.status_code == 413 and res.get_json()["code"] == "too_large"
    assert "larger than the limit" in res.get_json()["description"]


def test_throttled_login_says_when_to_try_again_in_the_page_language(app, accounts):
    web = app.test_client()
    web.environ_base["REMOTE_ADDR"] = "10.77.1.7"  # its own address: no other test is slowed
    for _ in range(12):
        res = web.post("/login?lang=en", headers=BROWSER,
                       data={"username": accounts["grue"], "password": "wrong" + PASSWORD,
                             "csrf_token": csrf_token(web)})
        if res.status_code == 429:
            break
    assert res.status_code == 429 and res.headers["Retry-After"]
    text = _text(res)
    assert "Too many failed logins from your address: try again in" in text
    assert '<html lang="en">' in res.get_data(as_text=True)


def test_wrong_password_in_both_languages(app, accounts):
    web = app.test_client()
    for lang, words in (("nb", "Feil brukernavn eller passord."),
                        ("en", "Wrong username or password.")):
        res = web.post(f"/login?lang={lang}", data={
            "username": accounts["kv"], "password": "nope", "csrf_token": csrf_token(web)})
        assert res.status_code == 401 and words in _text(res)
        # the typed username is not echoed: an unknown and a known user get the same bytes
        assert accounts["kv"] not in res.get_data(as_text=True)


def test_keyed_errors_keep_the_english_message_for_the_cli():
    exc = e.InvalidInput(key="err_param_number",
                         params={"name": e.Label("price_nok_m2"), "value": "mye"},
                         field="price_nok_m2", value="mye")
    assert exc.message == str(exc) == "price_nok_m2 must be a number; got 'mye'"
    assert exc.text("nb") == "Pris (kr/m²) må være et tall; fikk «mye»" or \
        exc.text("nb").endswith("må være et tall; fikk «mye»")
    assert "price_nok_m2" not in exc.text("nb") and "price_nok_m2" not in exc.text("en")
    assert exc.to_dict("en")["description"] == exc.text("en")
    assert exc.to_dict()["description"] == exc.message


def test_the_database_away_is_a_page_that_does_not_ask_the_database(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import landreg.web.pages as pages

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(pages, "kommuner_collection", down)
    web = app.test_client()
    res = web.get("/map?lang=en", headers=BROWSER)
    assert res.status_code == 503 and res.mimetype == "text/html"
    assert res.headers["Retry-After"] and "Try again in a few seconds" in _text(res)
    api = web.get("/map", headers=SCRIPT)
    assert api.status_code == 503 and api.get_json()["code"] == "database_unavailable"


#: werkzeug's own answers: (how to provoke it, status, code, Bokmål, English)
WERKZEUG = [
    (("get", "/no/such/page"), 404, "not_found",
     "Det finnes ingen side eller ressurs på denne adressen.",
     "There is no page or resource at this address."),
    (("delete", "/map"), 405, "method_not_allowed",
     "Adressen tar ikke imot denne typen forespørsel; den tar imot GET.",
     "The address does not accept this kind of request; it accepts GET."),
    (("put", "/enquiry"), 405, "method_not_allowed",
     "Adressen tar ikke imot denne typen forespørsel; den tar imot GET, POST.",
     "The address does not accept this kind of request; it accepts GET, POST."),
    (("get", "/abort/400"), 400, "bad_request",
     "Forespørselen kunne ikke leses: den er ufullstendig eller har feil form.",
     "The request could not be read: it is incomplete or malformed."),
    (("get", "/abort/413"), 413, "too_large", "Filen er større enn grensen på",
     "The upload is larger than the limit of"),
    (("get", "/abort/429"), 429, "too_many_requests",
     "For mange forespørsler på kort tid; vent litt og prøv igjen.",
     "Too many requests in a short time; wait a little and try again."),
    (("get", "/abort/418"), 418, "http_error", "Forespørselen kunne ikke besvares (HTTP 418).",
     "The request could not be answered (HTTP 418)."),
]


@pytest.mark.parametrize(("how", "status", "code", "nb", "en"), WERKZEUG,
                         ids=[f"{w[0][0]}-{w[1]}" for w in WERKZEUG])
def test_werkzeugs_own_errors_speak_the_pages_language(raising_app, how, status, code, nb, en):
    """An unknown address, a wrong method, an unreadable or too large request, too many
    requests: werkzeug answers these before our code runs, in English only. Now the JSON's
    description and the page's text come from the catalogue, Bokmål unless ?lang=en, and a
    405 still names the allowed methods in its Allow header."""
    web = raising_app.test_client()
    method, path = how
    for lang, words in (("nb", nb), ("en", en)):
        url = f"{path}?lang=en" if lang == "en" else path
        for headers in (FETCH, SCRIPT, {}):
            res = getattr(web, method)(url, headers=headers)
            assert res.status_code == status and res.mimetype == "application/json", headers
            body = res.get_json()
            assert body["code"] == code and words in body["description"], body
            assert "The requested URL" not in body["description"]
            if status == 405:
                assert "GET" in res.headers["Allow"].split(", ")
        page = getattr(web, method)(url, headers=BROWSER)
        assert page.status_code == status and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html and words in _text(page), _text(page)
        assert ("Hva kan du gjøre?" if lang == "nb" else "What can you do?") in _text(page)
        for english in ("The requested URL", "The method is not allowed", "browser (or proxy)",
                        "too many requests", "I'm a teapot"):
            assert english not in html
