"""Printable reports: produced, with the expected pages and text (read back with pypdf)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader


@pytest.fixture
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


def _pdf(client, url) -> PdfReader:
    res = client.get(url)
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    return PdfReader(io.BytesIO(res.data))


def _text(reader: PdfReader) -> str:
    return "\n".join(p.extract_text() for p in reader.pages)


def test_ranking_report(client):
    ranking = client.get("/api/rankings/industry").get_json()["items"]
    reader = _pdf(client, "/rankings/industry/report.pdf?top=10")
    text = _text(reader)
    assert len(reader.pages) == 2  # the table, then the map
    assert "Rangering: Industri og tungindustri" in text
    assert date.today().strftime("%d.%m.%Y") in text
    assert "dist_main_road 20 %" in text  # the weights
    assert ranking[0]["name"].split(" (")[0] in text.replace("\n", " ")
    assert "© Kartverket" in text
    assert len(reader.pages[1].images) == 1  # the static map


def test_comparison_report_and_factsheet(client):
    ids = [i["plot_id"] for i in client.get("/api/rankings/logistics?top=3").get_json()["items"]]
    reader = _pdf(client, f"/compare/report.pdf?profile=logistics&plots={','.join(map(str, ids))}")
    text = _text(reader)
    assert len(reader.pages) == 2 and "Sammenligning: Logistikk og lager" in text
    assert "Avstand til E16/Rv2" in text and "© Kartverket" in text
    one = _pdf(client, f"/plots/{ids[0]}/factsheet.pdf")
    assert len(one.pages) == 1  # one page for investors
    ftext = _text(one)
    assert "Faktaark" in ftext and "daa" in ftext and "Egnethet" in ftext
    assert "Intern merknad" not in ftext  # internal notes never in a public report
    assert len(one.pages[0].images) == 1
    assert client.get("/plots/99999999/factsheet.pdf").status_code == 404
    assert client.get("/compare/report.pdf?plots=1").status_code == 400
