"""Finding 10 (PDF markup injection): user text was read by ReportLab as markup.

A description with ``<img src="/path/on/the/server"/>`` embedded that server file in the
public factsheet; a ``<`` in a name made the factsheet, comparison and ranking PDFs answer
500. Plots with such names and descriptions are committed; every PDF must answer 200, show
the text literally (read back with pypdf) and hold no image but the map.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image as PILImage
from pypdf import PdfReader
from sqlalchemy import delete

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.plots import create_plot
from tests.helpers import INSIDE, plot_attrs, square_25833

#: A picture that exists on the server (any readable image file would do).
SERVER_FILE = (Path(__file__).resolve().parents[2] / "webmap" / "node_modules" / "leaflet" /
               "dist" / "images" / "layers-2x.png")
NAMES = (f'<img src="{SERVER_FILE}" width="40" height="40"/> Tomt A & co',
         'Tomt B < 5 daa & <font color="red" size="30">rød</font> ved E16 <b>')
DESCRIPTION = f'Beskrivelse <img src="{SERVER_FILE}"/> & mer <font name="x">< 3'


@pytest.fixture(scope="module")
def markup_plots(database_url) -> Iterator[list[int]]:
    assert SERVER_FILE.is_file()
    ids = []
    with session_scope(get_engine(database_url)) as s:
        for name, kommune in zip(NAMES, ("3414", "3418"), strict=True):
            x, y = INSIDE[kommune]
            ids.append(create_plot(s, plot_attrs(name=name, description=DESCRIPTION,
                                                 contact="<b>salg@example.no</b>"),
                                   square_25833(x + 300, y + 300, 120), 25833,
                                   user="pdf-test").plot["id"])
    yield ids
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.id.in_(ids)))


def _pdf(client, url: str) -> PdfReader:
    res = client.get(url)
    assert res.status_code == 200, (url, res.get_data(as_text=True)[:300])
    assert res.mimetype == "application/pdf"
    return PdfReader(io.BytesIO(res.data))


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _text(reader: PdfReader) -> str:
    return _squeezed("".join(p.extract_text() for p in reader.pages))


def _no_server_image(reader: PdfReader) -> None:
    size = PILImage.open(SERVER_FILE).size
    for page in reader.pages:
        for image in page.images:
            assert image.image.size != size, "the server's file was embedded"
        assert len(page.images) <= 1  # the map, nothing else


def test_factsheet_shows_the_markup_as_text(client, markup_plots):
    for pid, name in zip(markup_plots, NAMES, strict=True):
        reader = _pdf(client, f"/plots/{pid}/factsheet.pdf")
        text = _text(reader)
        assert _squeezed(name) in text
        assert _squeezed(DESCRIPTION) in text
        assert _squeezed("<b>salg@example.no</b>") in text
        _no_server_image(reader)


def test_comparison_and_ranking_pdfs_answer_and_show_the_text(client, markup_plots):
    ids = ",".join(map(str, markup_plots))
    reader = _pdf(client, f"/compare/report.pdf?profile=logistics&plots={ids}")
    text = _text(reader)
    for name in NAMES:
        assert _squeezed(name) in text
    _no_server_image(reader)
    reader = _pdf(client, "/rankings/logistics/report.pdf?top=200")
    text = _text(reader)
    for name in NAMES:
        assert _squeezed(name) in text
    _no_server_image(reader)
