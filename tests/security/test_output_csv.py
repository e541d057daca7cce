"""Finding 11 (CSV formula injection): cells starting with = + - @ tab or CR went out live.

Plots with formula names are committed; the register export (``/api/export?format=csv``,
public and as a planner) and the ranking CSV (``/api/rankings/<p>?f=csv``) are read back:
every such text cell starts with ``'``, numbers (negative ones too) stay numbers, and the
export still imports back to the same names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from landreg.csvcells import safe_cell, unsafe_cell
from landreg.db import get_engine, session_scope
from landreg.models import Plot
from landreg.registry.plots import create_plot
from tests.helpers import INSIDE, plot_attrs, square_25833

FORMULAS = ('=HYPERLINK("http://evil","x")', "@SUM(1)", "+1", "-1+1", "\t=1", "\r=1",
            "'=1")
START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def formula_plots(database_url) -> Iterator[dict[int, str]]:
    ids = {}
    with session_scope(get_engine(database_url)) as s:
        for n, name in enumerate(FORMULAS):
            x, y = INSIDE["3415"]
            pid = create_plot(s, plot_attrs(name=f"{name} {n}" if name[0] in "\t\r" else name,
                                            description="=1+1", contact="@evil"),
                              square_25833(x - 2000 + 150 * n, y - 2000, 100), 25833,
                              user="csv-test").plot
            ids[pid["id"]] = pid["properties"]["name"]
    yield ids
    with session_scope(get_engine(database_url)) as s:
        s.execute(delete(Plot).where(Plot.id.in_(list(ids))))


def _rows(res) -> list[dict[str, str]]:
    assert res.status_code == 200
    return list(csv.DictReader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff"))))


def _assert_quoted(rows: list[dict[str, str]], text_columns: tuple[str, ...]) -> None:
    for row in rows:
        for value in row.values():
            if value and value.startswith(START):
                # a cell beginning with a formula character must be a number
                float(value)
        for column in text_columns:
            if row[column].lstrip("'").startswith(START):
                assert row[column].startswith("'"), (column, row[column])


def test_register_export_quotes_formulas(client, formula_plots, accounts, logged_in):
    for web in (client, logged_in(accounts["admin"])):
        rows = _rows(web.get("/api/export?format=csv&crs=4326&limit=1000"))
        ours = [r for r in rows if int(r["landreg_id"]) in formula_plots]
        assert len(ours) == len(formula_plots)
        _assert_quoted(rows, ("name", "description", "contact"))
        for r in ours:
            assert unsafe_cell(r["name"]) == formula_plots[int(r["landreg_id"])]
            assert r["description"] == "'=1+1" and r["contact"] == "'@evil"
        # numbers stay numbers: a negative coordinate or price is written as a number
        assert any(float(r["centroid_x"]) for r in ours)


def test_exported_csv_imports_back_to_the_same_names(client, formula_plots, tmp_path):
    from landreg.ingest.readers import read_source

    path = tmp_path / "register.csv"
    path.write_bytes(client.get("/api/export?format=csv&crs=4326&limit=1000").data)
    frame = read_source(path, crs="EPSG:4326").frame
    names = dict(zip(frame["landreg_id"].astype(int), frame["name"], strict=True))
    for pid, name in formula_plots.items():
        assert names[pid] == name


def test_ranking_csv_quotes_formulas(client, formula_plots):
    rows = _rows(client.get("/api/rankings/logistics?f=csv"))
    ours = {int(r["plot_id"]): r for r in rows if int(r["plot_id"]) in formula_plots}
    assert len(ours) == len(formula_plots)
    _assert_quoted(rows, ("name", "reasons", "kommunenavn"))
    for pid, name in formula_plots.items():
        assert ours[pid]["name"] == safe_cell(name) and ours[pid]["name"].startswith("'")
        float(ours[pid]["score"])  # numbers are not quoted


def test_safe_cell_keeps_numbers_and_round_trips_text():
    assert safe_cell(-1.5) == -1.5 and safe_cell(-3) == -3 and safe_cell(None) is None
    for text in (*FORMULAS, "'", "''", "'s-Gravenhage", "Tomt -1", "", "=", "'+'"):
        assert unsafe_cell(safe_cell(text)) == text
        assert not safe_cell(text).lstrip("'").startswith(START) or \
            safe_cell(text).startswith("'")
