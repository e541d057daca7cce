"""Finding 12, second half: the meeting HTML export carried internal fields.

A published plot with internal notes "INTERNAL-XYZZY" is compared and exported while an
admin is logged in: the file is meant to be handed out, so neither the notes nor the
published flag (nor any other internal field) may be in it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.fields import INTERNAL_FIELDS
from landreg.registry.plots import create_plot
from tests.helpers import INSIDE, plot_attrs, square_25833


@pytest.fixture(scope="module")
def noted_plots(database_url) -> Iterator[list[int]]:
    """Two published plots with internal notes."""
    ids = []
    with session_scope(get_engine(database_url)) as s:
        for n, kommune in enumerate(("3416", "3419")):
            x, y = INSIDE[kommune]
            ids.append(create_plot(s, plot_attrs(name=f"Møtetomt {n}",
                                                 internal_notes="INTERNAL-XYZZY"),
                                   square_25833(x + 900, y - 900, 90), 25833,
                                   user="export-test").plot["id"])
    yield ids
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.id.in_(ids)))


def _assert_public_only(html: str) -> None:
    assert "INTERNAL-XYZZY" not in html
    for field in INTERNAL_FIELDS:
        assert f'"{field}"' not in html, field


@pytest.mark.parametrize("who", ["admin", "kv"])
def test_meeting_export_holds_public_fields_only(accounts, logged_in, noted_plots, who):
    web = logged_in(accounts[who])
    ids = ",".join(map(str, noted_plots))
    res = web.get(f"/compare/export.html?profile=logistics&plots={ids}")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "Møtetomt 0" in html and "Møtetomt 1" in html
    _assert_public_only(html)


def test_ranking_export_holds_public_fields_only(accounts, logged_in, noted_plots):
    res = logged_in(accounts["admin"]).get("/rankings/logistics/export.html")
    assert res.status_code == 200
    _assert_public_only(res.get_data(as_text=True))
