"""The planners' pages (issue 12): Mine tomter with unpublished, withdrawn and imported plots,
the full edit form, withdrawal with a reason and its undo, enquiry status, saved comparisons
and a history a person reads — on real PostGIS, through the app's own transactions."""

from __future__ import annotations

import io
import json
import re
import uuid
from html import unescape

import pytest
from shapely.geometry import mapping
from sqlalchemy import delete, select

from landreg.db import get_engine, session_scope
from landreg.models import Comparison, Enquiry, Plot
from landreg.registry.fields import EDITABLE_FIELDS
from landreg.registry.plots import create_plot, update_plot
from tests.helpers import INSIDE, plot_attrs, reproject, square_25833
from tests.web.conftest import csrf_token, login


def _text(res) -> str:
    """The page's visible text, roughly: tags out, entities decoded, spaces normalised."""
    html = res.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).replace("\u00a0", " ")


@pytest.fixture(scope="module")
def plots(database_url, accounts):
    """Four plots of Kongsvinger (published, unpublished, withdrawn, edited) and one of Grue."""
    tag = uuid.uuid4().hex[:6]
    x, y = INSIDE["3401"]
    gx, gy = INSIDE["3417"]
    made = {}
    with session_scope(get_engine(database_url)) as s:
        def add(key, k_xy, dx, **attrs):
            made[key] = create_plot(s, plot_attrs(name=f"Planner {key} {tag}", **attrs),
                                    square_25833(k_xy[0] - 4500 + dx, k_xy[1] - 2500, 60),
                                    25833, user=accounts["kv"]).plot["id"]
        add("pub", (x, y), 0)
        add("unpub", (x, y), 100, published=False)
        add("gone", (x, y), 200)
        add("grue", (gx, gy), 0)
        from landreg.registry.plots import withdraw_plot

        withdraw_plot(s, made["gone"], expected_version=1, user=accounts["kv"],
                      reason="Solgt til nabo")
        update_plot(s, made["pub"], {"price_nok_m2": 150, "published": True},
                    expected_version=1, user=accounts["kv"])
    made["tag"] = tag
    yield made
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.name.like(f"Planner % {tag}")))


def _planner(app, accounts, who="kv"):
    c = app.test_client()
    assert login(c, accounts[who]).status_code == 302
    return c, csrf_token(c)


# --- 1. Mine tomter ---------------------------------------------------------------------------


def test_mine_lists_own_plots_unpublished_and_withdrawn(app, accounts, plots):
    c, _ = _planner(app, accounts)
    res = c.get("/mine")
    assert res.status_code == 200
    text = _text(res)
    tag = plots["tag"]
    for key in ("pub", "unpub", "gone"):
        assert f"Planner {key} {tag}" in text
    assert f"Planner grue {tag}" not in text  # another kommune's plot is not "mine"
    assert "Trukket tilbake" in text and "Solgt til nabo" in text
    assert re.search(r"\d\d\.\d\d\.\d{4}", text)  # Norwegian date
    html = res.get_data(as_text=True)
    # links to the plot page, the full form, the history, import, enquiries and the export
    pid = plots["unpub"]
    for href in (f"/plots/{pid}", f"/plots/{pid}/edit", f"/plots/{pid}/history", "/import",
                 "/enquiries", "/api/export?kommune=3401&amp;format=gpkg",
                 "/api/export?kommune=3401&amp;format=csv"):
        assert f'href="{href}' in html, href
    # the withdrawn plot offers "Angre" (a POST form with CSRF), the others "Trekk tilbake"
    row = re.search(rf'<tr data-id="{plots["gone"]}".*?</tr>', html, re.S).group(0)
    assert "Angre" in row and 'name="csrf_token"' in row
    # newest change first by default
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]
    assert ids.index(plots["pub"]) < ids.index(plots["unpub"])  # pub was edited last


def test_mine_filters_sorts_and_refuses_bad_values(app, accounts, plots):
    c, _ = _planner(app, accounts)
    tag = plots["tag"]
    unpub = _text(c.get(f"/mine?published=no&q={tag}"))
    assert f"Planner unpub {tag}" in unpub and f"Planner pub {tag}" not in unpub
    gone = _text(c.get(f"/mine?status=trukket&q={tag}"))
    assert f"Planner gone {tag}" in gone and f"Planner unpub {tag}" not in gone
    html = c.get(f"/mine?q={tag}&sort=name").get_data(as_text=True)
    names = re.findall(rf"Planner (\w+) {tag}", html)
    assert names == sorted(names)
    assert 'aria-sort="ascending"' in html
    assert c.get("/mine?status=nonsense").status_code == 400
    assert c.get("/mine?sort=drop_table").status_code == 400
    # the admin sees every kommune's plots
    admin, _ = _planner(app, accounts, "admin")
    assert f"Planner grue {tag}" in _text(admin.get(f"/mine?q={tag}"))
    # the anonymous are sent to the login page
    res = app.test_client().get("/mine")
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_recently_imported_shows_what_an_import_brought_in(app, accounts, plots, database_url):
    c, token = _planner(app, accounts)
    x, y = INSIDE["3401"]
    tag = uuid.uuid4().hex[:6]
    poly = reproject(square_25833(x - 4500, y - 1500, 60), 25833, 4326)
    blob = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": mapping(poly),
        "properties": {"name": f"Importert {tag}", "arealformal": 1340,
                       "external_ref": f"IMP-{tag}"}}]}).encode()
    res = c.post("/api/import", headers={"X-CSRFToken": token}, data={
        "file": (io.BytesIO(blob), "plan.geojson"), "kommune": "3401", "dry_run": "false"})
    assert res.status_code == 201, res.get_data(as_text=True)
    try:
        text = _text(c.get("/mine?imported=1"))
        assert f"Importert {tag}" in text  # imported plots are unpublished by default
        assert f"Planner unpub {plots['tag']}" not in text  # made by hand, not imported
        assert accounts["kv"] in text
        # the history names the import
        with session_scope(get_engine(database_url)) as s:
            pid = s.execute(select(Plot.id).where(Plot.external_ref == f"IMP-{tag}")
                            ).scalar_one()
            assert s.execute(select(Plot.published).where(Plot.id == pid)).scalar_one() is False
        assert "(import)" in _text(c.get(f"/plots/{pid}/history"))
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Plot).where(Plot.external_ref == f"IMP-{tag}"))


# --- 2. the full edit form ----------------------------------------------------------------------


def test_edit_form_has_every_field_with_its_label(app, accounts, plots):
    from landreg.i18n import field_label

    c, _ = _planner(app, accounts)
    res = c.get(f"/plots/{plots['unpub']}/edit")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    for field in set(EDITABLE_FIELDS) - {"kommunenummer"}:
        assert f'name="{field}"' in html, field
        assert f'<label for="f-{field}">{field_label(field)}</label>' in html, field
    assert 'name="version" value="1"' in html and 'name="csrf_token"' in html
    english = c.get(f"/plots/{plots['unpub']}/edit?lang=en").get_data(as_text=True)
    assert f'<label for="f-road_access">{field_label("road_access", "en")}</label>' in english


def _form(c, pid) -> dict[str, str]:
    """The edit form's fields as the browser would send them back unchanged."""
    html = c.get(f"/plots/{pid}/edit").get_data(as_text=True)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    for name, value in re.findall(r'<input id="f-\w+" name="(\w+)"[^>]*value="([^"]*)"', html):
        form[name] = unescape(value)
    for name, body in re.findall(r'<select id="f-\w+" name="(\w+)"[^>]*>(.*?)</select>', html,
                                 re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        form[name] = chosen.group(1) if chosen else re.search(
            r'<option value="([^"]*)"', body).group(1)
    for name, value in re.findall(r'<textarea id="f-\w+" name="(\w+)"[^>]*>(.*?)</textarea>',
                                  html, re.S):
        form[name] = unescape(value)
    if re.search(r'name="published" value="true" checked', html):
        form["published"] = "true"
    return form


def test_edit_form_saves_every_field_and_shows_errors_by_the_field(app, accounts, plots,
                                                                   database_url):
    c, _ = _planner(app, accounts)
    pid = plots["unpub"]
    form = _form(c, pid)
    form.update(road_access="true", water_sewer="false", power_capacity_mw="2,5",
                plan_id="3401_2020-07", plan_legal_status="vedtatt", max_bya_pct="60",
                max_height_m="15", ownership="kommunal", price_nok_m2="1 250",
                contact="post@kongsvinger.kommune.no", description="Flat tomt ved E16",
                internal_notes="Ring grunneier")
    res = c.post(f"/plots/{pid}/edit", data=form)
    assert res.status_code == 302, _text(res)[:500]
    assert "done=saved" in res.headers["Location"]
    with session_scope(get_engine(database_url)) as s:
        p = s.get(Plot, pid)
        assert (p.road_access, p.water_sewer, p.power_capacity_mw, p.plan_legal_status,
                p.max_bya_pct, p.max_height_m, p.ownership, float(p.price_nok_m2),
                p.description, p.internal_notes, p.published) == (
            True, False, 2.5, "vedtatt", 60, 15, "kommunal", 1250.0, "Flat tomt ved E16",
            "Ring grunneier", False)
        version = p.version
    assert f"v={version}" in res.headers["Location"]
    assert f"Lagret (versjon {version})." in _text(c.get(res.headers["Location"]))

    # mistakes: each is shown by its field, in Norwegian, and nothing is saved
    form = _form(c, pid)
    form.update(max_bya_pct="150", max_height_m="høy", name="")
    res = c.post(f"/plots/{pid}/edit", data=form)
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert re.search(r'id="e-max_bya_pct" class="field-error">Må være mellom 0 og 100\.', html)
    assert re.search(r'id="e-max_height_m" class="field-error">Skriv et tall', html)
    assert re.search(r'id="e-name" class="field-error">Må fylles ut\.', html)
    assert 'value="høy"' in html  # what the planner typed is kept
    assert "must be" not in html  # no English server message on a Norwegian page
    english = c.post(f"/plots/{pid}/edit?lang=en", data=form).get_data(as_text=True)
    assert "Must be between 0 and 100." in english
    with session_scope(get_engine(database_url)) as s:
        assert s.get(Plot, pid).version == version


def test_edit_form_conflict_is_shown_and_nothing_overwritten(app, accounts, plots,
                                                             database_url):
    c, _ = _planner(app, accounts)
    pid = plots["unpub"]
    form = _form(c, pid)  # opened at the current version
    with session_scope(get_engine(database_url)) as s:  # a colleague saves in between
        v = s.get(Plot, pid).version
        update_plot(s, pid, {"price_nok_m2": 777}, expected_version=v, user="kollega")
    form["price_nok_m2"] = "500"
    res = c.post(f"/plots/{pid}/edit", data=form)
    assert res.status_code == 409
    text = _text(res)
    assert "kollega lagret tomten" in text and "500" in text and "777" in text
    with session_scope(get_engine(database_url)) as s:
        assert float(s.get(Plot, pid).price_nok_m2) == 777  # nothing overwritten
    # the form now carries the stored version: saving again is a deliberate choice
    assert f'name="version" value="{v + 1}"' in res.get_data(as_text=True)


def test_edit_form_rights(app, accounts, plots, database_url):
    grue, token = _planner(app, accounts, "grue")
    pid = plots["unpub"]
    res = grue.get(f"/plots/{pid}/edit")  # a colleague of the region reads it
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert '<fieldset class="all" disabled>' in html and 'id="save"' not in html
    form = _form(grue, pid)
    form["csrf_token"] = token
    form["name"] = "Kapret"
    assert grue.post(f"/plots/{pid}/edit", data=form).status_code == 403
    anon = app.test_client()
    res = anon.get(f"/plots/{pid}/edit")
    assert res.status_code == 302 and "/login" in res.headers["Location"]
    with session_scope(get_engine(database_url)) as s:
        assert s.get(Plot, pid).name != "Kapret"


# --- 3. withdrawal with confirmation, reason and undo ----------------------------------------


def test_withdraw_asks_for_a_reason_stores_it_and_can_be_undone(app, accounts, plots,
                                                                database_url):
    c, token = _planner(app, accounts)
    pid = plots["pub"]
    page = c.get(f"/plots/{pid}/withdraw")
    assert page.status_code == 200 and "Ja, trekk tilbake" in _text(page)
    version = int(re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True))
                  .group(1))
    # no reason: refused, nothing changed
    res = c.post(f"/plots/{pid}/withdraw", data={"csrf_token": token, "version": version,
                                                 "reason": "  "})
    assert res.status_code == 400 and "Skriv hvorfor" in _text(res)
    res = c.post(f"/plots/{pid}/withdraw", data={"csrf_token": token, "version": version,
                                                 "reason": "Kommunen bruker den selv",
                                                 "next": "/mine?status=trukket"})
    assert res.status_code == 302
    assert res.headers["Location"].startswith("/mine?status=trukket&done=withdrawn")
    with session_scope(get_engine(database_url)) as s:
        p = s.get(Plot, pid)
        assert (p.availability, p.published, p.withdrawn_reason) == (
            "trukket", False, "Kommunen bruker den selv")
    after = c.get(res.headers["Location"])
    assert "er trukket tilbake" in _text(after) and "Angre" in _text(after)
    history = _text(c.get(f"/plots/{pid}/history"))
    assert "Grunn til tilbaketrekking: – → Kommunen bruker den selv" in history
    # undo: status and published flag from before come back, the reason is cleared
    res = c.post(f"/plots/{pid}/restore", data={"csrf_token": token})
    assert res.status_code == 302 and "done=restored" in res.headers["Location"]
    with session_scope(get_engine(database_url)) as s:
        p = s.get(Plot, pid)
        assert (p.availability, p.published, p.withdrawn_reason) == ("ledig", True, None)
    assert "er angret" in _text(c.get(res.headers["Location"]))
    # another kommune's planner may not withdraw it
    grue, gtoken = _planner(app, accounts, "grue")
    assert grue.get(f"/plots/{pid}/withdraw").status_code == 403
    assert grue.post(f"/plots/{pid}/withdraw", data={"csrf_token": gtoken, "version": 1,
                                                     "reason": "x"}).status_code == 403


# --- 4. enquiry status and saved comparisons --------------------------------------------------


def test_enquiry_status_is_set_from_the_page(app, accounts, database_url):
    tag = uuid.uuid4().hex[:6]
    with session_scope(get_engine(database_url)) as s:
        e = Enquiry(company=f"Planner AS {tag}", email=f"p{tag}@example.org",
                    profile="logistics", consent=True, matches=[])
        s.add(e)
        s.flush()
        eid = e.id
    try:
        c, token = _planner(app, accounts, "grue")  # enquiries belong to the whole region
        page = _text(c.get("/enquiries"))
        assert "Ny" in page and "Sett status" in page and "Logistikk" in page
        res = c.post(f"/enquiries/{eid}/status", data={"csrf_token": token,
                                                       "status": "besvart"})
        assert res.status_code == 302
        assert f"Henvendelse {eid}: status «Besvart»." in _text(c.get(res.headers["Location"]))
        with session_scope(get_engine(database_url)) as s:
            e = s.get(Enquiry, eid)
            assert (e.status, e.handled_by) == ("besvart", accounts["grue"])
        assert c.post(f"/enquiries/{eid}/status", data={"csrf_token": token,
                                                        "status": "slettet"}).status_code == 400
        assert c.post(f"/enquiries/{eid}/status", data={"status": "ny"}).status_code == 400
        anon = app.test_client()
        t = csrf_token(anon)
        res = anon.post(f"/enquiries/{eid}/status", data={"csrf_token": t, "status": "ny"})
        assert res.status_code == 302 and "/login" in res.headers["Location"]
        with session_scope(get_engine(database_url)) as s:
            assert s.get(Enquiry, eid).status == "besvart"
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Enquiry).where(Enquiry.id == eid))


def test_saved_comparisons_page(app, accounts, plots, database_url):
    tag = uuid.uuid4().hex[:6]
    with session_scope(get_engine(database_url)) as s:
        s.add(Comparison(name=f"Møte {tag}", profile="logistics",
                         plot_ids=[plots["pub"], plots["unpub"]], created_by=accounts["kv"]))
    try:
        c, _ = _planner(app, accounts, "grue")
        res = c.get("/comparisons")
        assert res.status_code == 200
        text = _text(res)
        assert f"Møte {tag}" in text and "Logistikk" in text and accounts["kv"] in text
        assert f"Planner unpub {plots['tag']}" in text
        assert re.search(r"\d\d\.\d\d\.\d{4}", text)
        assert "/compare/saved/" in res.get_data(as_text=True)
        res = app.test_client().get("/comparisons")
        assert res.status_code == 302 and "/login" in res.headers["Location"]
    finally:
        with session_scope(get_engine(database_url)) as s:
            s.execute(delete(Comparison).where(Comparison.name == f"Møte {tag}"))


# --- 5. history as a person reads it ------------------------------------------------------------


def test_history_shows_labels_and_formatted_values(app, accounts, plots, database_url):
    x, y = INSIDE["3401"]
    with session_scope(get_engine(database_url)) as s:
        pid = create_plot(s, plot_attrs(name=f"Planner hist {plots['tag']}", price_nok_m2=1200),
                          square_25833(x - 4500, y - 3500, 60), 25833,
                          user=accounts["kv"]).plot["id"]
        update_plot(s, pid, {"published": False, "price_nok_m2": 1500.5,
                             "availability": "under_forhandling", "arealformal": 1300},
                    expected_version=1, user=accounts["kv"])
        update_plot(s, pid, {}, expected_version=2, user=accounts["kv"],
                    geometry=square_25833(x - 4500, y - 3500, 80), crs=25833)
    c, _ = _planner(app, accounts)
    text = _text(c.get(f"/plots/{pid}/history"))
    assert "Publisert: Ja → Nei" in text
    assert "Status: Ledig → Under forhandling" in text
    assert "Pris (kr/m²): 1 200 → 1 500" in text  # no-break space thousands, no decimals
    assert re.search(r"Areal: 3,6 daa → 6,4 daa", text)
    assert "Omriss: endret" in text
    assert re.search(r"Arealformål \(kode\): 1340 \S+.* → 1300 ", text)
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", text)
    for raw in ("True", "False", "area_daa", "under_forhandling", "published:"):
        assert raw not in text, raw
    english = _text(c.get(f"/plots/{pid}/history?lang=en"))
    assert "Published: Yes → No" in english and "Status: Available → In negotiation" in english
