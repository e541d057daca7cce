"""ONE ranking (issue 12): rank within the filtered selection and rank in the region, the
same label on every screen and export, and exports that carry exactly the filters on screen.
Checked against the demo region in PostGIS, with the populations counted by SQL here."""

from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from landreg.i18n import t

PROFILE = "logistics"
ON_MARKET = ("ledig", "reservert", "under_forhandling")


@pytest.fixture
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


@pytest.fixture
def sold(database_url) -> dict:
    """A published sold plot of the demo and its kommune (the filter that keeps it in)."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT id, name, kommunenummer FROM plot WHERE published AND availability = "
            "'solgt' ORDER BY id LIMIT 1")).one()
    engine.dispose()
    return {"id": row[0], "name": row[1], "kommune": row[2]}


def _sql(database_url: str, query: str, **params) -> list:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(query), params).all()
    engine.dispose()
    return rows


def _pdf_text(res) -> str:
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(res.data)).pages)


def test_rank_and_region_rank_of_a_filtered_selection_with_a_sold_plot(client, sold,
                                                                       database_url):
    body = client.get(f"/api/rankings/{PROFILE}?kommune={sold['kommune']}").get_json()
    selection = {r[0]: r[1] for r in _sql(
        database_url, "SELECT id, availability FROM plot WHERE published AND "
        "availability <> 'trukket' AND kommunenummer = :k", k=sold["kommune"])}
    region = {r[0] for r in _sql(
        database_url, "SELECT id FROM plot WHERE published AND availability = ANY(:s)",
        s=list(ON_MARKET))}
    items = body["items"]
    # rank: 1..count over exactly the filtered selection, best first, excluded last
    assert body["count"] == len(selection) == len(items)
    assert {i["plot_id"] for i in items} == set(selection)
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    keys = [(i["excluded"], -i["score"]) for i in items]
    assert keys == sorted(keys)
    # region_rank: among all published plots on the market, same order as the full ranking
    assert body["region_count"] == len(region)
    whole = client.get(f"/api/rankings/{PROFILE}").get_json()["items"]
    in_region = [i["plot_id"] for i in whole if i["plot_id"] in region]
    expected = {pid: n for n, pid in enumerate(in_region, start=1)}
    by_id = {i["plot_id"]: i for i in items}
    assert by_id[sold["id"]]["region_rank"] is None  # a sold plot has no place in the region
    for pid, item in by_id.items():
        if selection[pid] in ON_MARKET:
            assert item["region_rank"] == expected[pid]
        else:
            assert item["region_rank"] is None
    # the selection's order agrees with the region's order where both rank a plot
    ranked = [i["region_rank"] for i in items if i["region_rank"] is not None]
    assert ranked == sorted(ranked)
    # top shortens the list but not the count
    top = client.get(f"/api/rankings/{PROFILE}?kommune={sold['kommune']}&top=2").get_json()
    assert len(top["items"]) == 2 and top["count"] == len(selection)


def test_the_same_rank_label_on_the_page_the_pdfs_and_the_csv(client, sold):
    query = f"kommune={sold['kommune']}"
    body = client.get(f"/api/rankings/{PROFILE}?{query}").get_json()
    a, b = [i for i in body["items"] if i["region_rank"] is not None][:2]
    label = t("rank_label", "nb", rank=a["rank"], count=body["count"],
              region_rank=a["region_rank"])
    plots = f"{a['plot_id']},{b['plot_id']}"
    page = client.get(f"/compare?profile={PROFILE}&plots={plots}&{query}")
    assert page.status_code == 200
    assert label in page.get_data(as_text=True)
    assert label in _pdf_text(client.get(f"/compare/report.pdf?profile={PROFILE}&plots={plots}"
                                         f"&{query}")).replace("\n", " ")
    assert label in _pdf_text(client.get(f"/rankings/{PROFILE}/report.pdf?{query}")
                              ).replace("\n", " ")
    html = client.get(f"/rankings/{PROFILE}/export.html?{query}").get_data(as_text=True)
    assert label in html
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/api/rankings/{PROFILE}?{query}&f=csv").get_data(as_text=True))))
    assert rows[a["rank"] - 1]["rank_label"] == label
    # no other population's number anywhere: "nr. N" only as part of the label
    assert not re.search(r"\(nr\. \d+\)", page.get_data(as_text=True))
    sold_label = t("rank_label_selection", "nb",
                   rank=next(i["rank"] for i in body["items"] if i["plot_id"] == sold["id"]),
                   count=body["count"])
    assert rows[[int(r["plot_id"]) for r in rows].index(sold["id"])]["rank_label"] == sold_label


def test_status_ledig_keeps_sold_plots_out_of_every_export(client, sold):
    query = f"availability=ledig&kommune={sold['kommune']}"
    body = client.get(f"/api/rankings/{PROFILE}?{query}").get_json()
    assert body["items"] and all(i["availability"] == "ledig" for i in body["items"])
    name = sold["name"]
    summary = "Status: Ledig · Kommune: "
    pdf = _pdf_text(client.get(f"/rankings/{PROFILE}/report.pdf?{query}&top=200"))
    assert name not in pdf and summary in pdf.replace("\n", " ")
    assert "Profil: Logistikk og lager" in pdf.replace("\n", " ")
    html = client.get(f"/rankings/{PROFILE}/export.html?{query}").get_data(as_text=True)
    assert name not in html and summary in html
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/api/rankings/{PROFILE}?{query}&f=csv").get_data(as_text=True))))
    assert rows and sold["id"] not in {int(r["plot_id"]) for r in rows}
    assert all(r["selection"].startswith(summary) for r in rows)
    # the comparison's exports rank within the same selection and say so
    plots = ",".join(str(i["plot_id"]) for i in body["items"][:2])
    cmp_pdf = _pdf_text(client.get(f"/compare/report.pdf?profile={PROFILE}&plots={plots}"
                                   f"&{query}")).replace("\n", " ")
    assert summary in cmp_pdf and f"av {body['count']} i utvalget" in cmp_pdf
    cmp_html = client.get(f"/compare/export.html?profile={PROFILE}&plots={plots}&{query}"
                          ).get_data(as_text=True)
    assert summary in cmp_html and name not in cmp_html
    # an unknown filter is a 400 that names it, not silently ignored
    res = client.get(f"/rankings/{PROFILE}/report.pdf?status=ledig")
    assert res.status_code == 400
