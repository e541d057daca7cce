"""The landreg command line against the test database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from landreg.cli import main


@pytest.fixture
def run(database_url, monkeypatch):
    monkeypatch.setenv("LANDREG_DATABASE_URL", database_url)

    def _run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return _run


def test_db_status(run):
    res = run("db", "status")
    assert res.exit_code == 0, res.output
    assert "postgis" in res.output and "plots" in res.output


def test_plots_list_table_and_filters(run):
    res = run("plots", "list", "-k", "3401", "-a", "ledig", "--limit", "5")
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("id")
    rows = lines[1:-1]
    assert 1 <= len(rows) <= 5
    assert all(" 3401 " in f" {r} " for r in rows)
    assert "of" in lines[-1] and "plots" in lines[-1]


def test_plots_list_geojson(run):
    res = run("plots", "list", "--purpose", "industri", "--min-daa", "10", "--format", "geojson",
              "--crs", "25833", "--limit", "1000")
    assert res.exit_code == 0, res.output
    fc = json.loads(res.output)
    assert fc["type"] == "FeatureCollection" and fc["features"]
    for f in fc["features"]:
        assert f["properties"]["purpose_group"] == "industri"
        assert f["properties"]["area_daa"] >= 10
        x, y = f["geometry"]["coordinates"][0][0][0]
        assert 250_000 < x < 400_000 and 6_600_000 < y < 6_800_000


def test_plots_show_public_hides_internal_notes(run):
    fc = json.loads(run("plots", "list", "--public", "--format", "geojson", "--limit", "1").output)
    pid = str(fc["features"][0]["id"])
    internal = run("plots", "show", pid)
    assert "internal_notes" in internal.output
    public = run("plots", "show", pid, "--public")
    assert public.exit_code == 0 and "internal_notes" not in public.output


@pytest.mark.parametrize("args, message", [
    (("plots", "list", "-k", "0301"), "not one of the seven"),
    (("plots", "list", "--bbox", "1,2,3"), "four numbers"),
    (("plots", "list", "--min-daa", "abc"), "not a valid float"),
    (("plots", "show", "99999999"), "no plot with id"),
    (("plots", "list", "--sort", "colour"), "Unknown sort key"),
])
def test_bad_input_is_a_message_not_a_traceback(run, args, message):
    res = run(*args)
    assert res.exit_code != 0
    assert message in res.output
    assert "Traceback" not in res.output


def test_db_prepare_is_idempotent(run, monkeypatch, tmp_path):
    monkeypatch.setenv("LANDREG_SCORING_RES", "250")
    monkeypatch.setenv("LANDREG_CACHE_DIR", str(tmp_path))
    first = run("db", "prepare")
    assert first.exit_code == 0, first.output
    versions = Path(__file__).resolve().parents[2] / "landreg" / "migrations" / "versions"
    head = max(p.name[:4] for p in versions.glob("0*.py"))
    assert f"revision {head}" in first.output
    second = run("db", "prepare")
    assert second.exit_code == 0 and "scores up to date" in second.output
    assert "loaded the demo region" not in second.output


def test_layers_and_score_commands(run, monkeypatch, tmp_path):
    monkeypatch.setenv("LANDREG_CACHE_DIR", str(tmp_path))
    assert "5 profiles — OK" in run("layers", "check").output
    built = run("-q", "layers", "build", "--res", "400")
    assert built.exit_code == 0
    res = run("score", "-p", "industry", "--res", "400", "--top", "3")
    assert res.exit_code == 0 and res.output.count("\n") >= 4
    bad = run("score", "-p", "industry", "--res", "400", "--weights", "slope:10")
    assert bad.exit_code == 2 and "sum to 10" in bad.output
    cands = run("candidates", "-p", "logistics", "--res", "400", "--threshold", "85")
    assert cands.exit_code == 0 and "candidate areas" in cands.output
