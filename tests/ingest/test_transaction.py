"""All or nothing, for real: imports committed on a scratch database, compared byte for byte.

The rolled-back ``session`` fixture cannot show that a failed import leaves nothing behind, so
these tests make their own database (migrated, kommuner loaded, no demo plots), commit through
``session_scope`` like the CLI does, and compare an md5 of every row of ``plot`` and
``plot_version`` before and after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Polygon
from sqlalchemy import text

from landreg.cli import main
from landreg.db import get_engine, migrate, session_scope
from landreg.demo.load import load_municipalities
from landreg.errors import StaleVersion
from landreg.ingest import writing
from landreg.ingest.importer import ImportRejected, apply_import, plan_import
from landreg.registry.plots import update_plot
from landreg.settings import Settings
from tests.conftest import create_database, drop_database
from tests.helpers import INSIDE, square_25833
from tests.ingest.files import plots_frame, write


@pytest.fixture(scope="module")
def scratch_url() -> Iterator[str]:
    url = create_database("landreg_import_tx")
    try:
        migrate(url)
        with session_scope(get_engine(url)) as s:
            load_municipalities(s, Settings().demo_gpkg)
        yield url
    finally:
        drop_database(url)


def dump(url: str) -> tuple:
    """Row counts and an md5 over every column of every row of plot and plot_version."""
    with get_engine(url).connect() as c:
        return (
            c.execute(text("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) "
                           "FROM plot t")).one(),
            c.execute(text("SELECT count(*), md5(string_agg(t::text, '|' "
                           "ORDER BY plot_id, version)) FROM plot_version t")).one(),
        )


@pytest.fixture(scope="module")
def seeded(scratch_url, tmp_path_factory) -> str:
    """Five committed plots S-1 … S-5 in 3401."""
    path = write(plots_frame(prefix="S", n=5), tmp_path_factory.mktemp("seed"), "gpkg")
    with session_scope(get_engine(scratch_url)) as s:
        apply_import(s, plan_import(s, path, kommune="3401", user="seed"), "seed")
    return scratch_url


def _changed_file(folder, *, bad: bool):
    """Renames S-1 … S-4, adds N-1 … N-3, and (if ``bad``) one self-intersecting plot."""
    frame = plots_frame(prefix="S", n=4)
    frame["navn"] = [f"Endret {r}" for r in frame["ref"]]
    new = plots_frame(prefix="N", n=3)
    new["geometry"] = new.geometry.translate(0, -300)
    frame = pd.concat([frame, new], ignore_index=True)
    if bad:
        x, y = INSIDE["3401"]
        bowtie = Polygon([(x, y - 1200), (x + 40, y - 1160), (x + 40, y - 1200), (x, y - 1160)])
        frame.loc[len(frame)] = ["B-1", "Sløyfe", 1340, bowtie]
    return write(frame, folder, "gpkg", 25832, name="endringer" + ("_feil" if bad else ""))


def test_one_bad_feature_leaves_the_register_byte_for_byte_unchanged(seeded, tmp_path):
    path = _changed_file(tmp_path, bad=True)
    before = dump(seeded)
    assert before[0][0] == 5
    with pytest.raises(ImportRejected), session_scope(get_engine(seeded)) as s:
        report = plan_import(s, path, kommune="3401", user="kari")
        assert report.counts == {"create": 3, "update": 4, "unchanged": 0,
                                 "skipped": 0, "rejected": 1}
        apply_import(s, report, "kari")
    assert dump(seeded) == before


def test_a_failure_while_writing_undoes_what_was_already_written(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(writing, "CHUNK", 2)  # creates go in two rounds before the updates
    path = _changed_file(tmp_path, bad=False)
    engine = get_engine(seeded)
    with session_scope(engine) as s:
        report = plan_import(s, path, kommune="3401", user="kari")
    s1 = next(f.plot_id for f in report.features if f.external_ref == "S-3")
    with session_scope(engine) as s:  # someone saves S-3 after the plan was made
        version = s.execute(text("SELECT version FROM plot WHERE id = :i"), {"i": s1}).scalar()
        update_plot(s, s1, {"description": "samtidig endring"}, expected_version=version,
                    user="ola")
    before = dump(seeded)
    with session_scope(engine) as s:
        with pytest.raises(StaleVersion):
            apply_import(s, report, "kari")
        # the savepoint is rolled back; the caller's transaction goes on and commits
        assert s.execute(text("SELECT count(*) FROM plot")).scalar_one() == before[0][0]
    assert dump(seeded) == before


def test_allow_partial_commits_exactly_the_good_features(scratch_url, tmp_path):
    frame = plots_frame(prefix="P", n=3)
    frame.loc[len(frame)] = ["P-X", "Utenfor", 1340, square_25833(100_000, 6_650_000, 40)]
    path = write(frame, tmp_path, "fgb", 4326)
    (plots, versions) = dump(scratch_url)
    with session_scope(get_engine(scratch_url)) as s:
        report = plan_import(s, path, kommune="3401", user="kari")
        apply_import(s, report, "kari", allow_partial=True)
    after = dump(scratch_url)
    assert (after[0][0], after[1][0]) == (plots[0] + 3, versions[0] + 3)
    with get_engine(scratch_url).connect() as c:
        refs = c.execute(text("SELECT external_ref FROM plot WHERE external_ref LIKE 'P-%' "
                              "ORDER BY 1")).scalars().all()
    assert refs == ["P-1", "P-2", "P-3"]


@pytest.fixture
def run(scratch_url, monkeypatch):
    monkeypatch.setenv("LANDREG_DATABASE_URL", scratch_url)

    def _run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return _run


def test_cli_dry_run_refusal_and_partial_import(run, scratch_url, tmp_path):
    frame = plots_frame(prefix="C", n=2)
    frame = frame.rename(columns={"navn": "TOMTENAVN", "formal": "FORMAL"})
    frame.loc[len(frame)] = ["C-9", "Sør-Odal", 1340, square_25833(*INSIDE["3415"], 40)]
    path = write(frame, tmp_path, "csv", 25832)
    args = ("import", str(path), "--kommune", "3401", "--crs", "EPSG:25832",
            "--map", "name=TOMTENAVN", "--map", "arealformal=FORMAL", "--user", "kari")
    before = dump(scratch_url)

    res = run(*args, "--dry-run")
    assert res.exit_code == 0, res.output
    assert "name ← TOMTENAVN" in res.output and "arealformal ← FORMAL" in res.output
    assert "create" in res.output and "Dry run: nothing was written." in res.output
    assert "#3 C-9 [geometry] The plot lies in 3415 Sør-Odal" in res.stderr
    assert dump(scratch_url) == before

    res = run(*args)
    assert res.exit_code == 2
    assert "Error: 1 of 3 features were rejected, so nothing was written" in res.stderr
    assert "Traceback" not in res.output
    assert dump(scratch_url) == before

    report = tmp_path / "rapport.json"
    res = run(*args, "--allow-partial", "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "Written: 2 created, 0 updated, 0 unchanged, 1 rejected features skipped." in res.output
    assert '"action": "rejected"' in report.read_text(encoding="utf-8")
    assert dump(scratch_url)[0][0] == before[0][0] + 2


@pytest.mark.parametrize("args, message", [
    (("--map", "name"), "write FIELD=COLUMN"),
    (("--kommune", "9999"), "not one of the seven Glåmdalen kommuner"),
    (("--map", "farge=navn"), "Unknown field 'farge'"),
    (("--layer", "finnesikke"), "has no layer 'finnesikke'"),
])
def test_cli_bad_input_is_a_message_not_a_traceback(run, tmp_path, args, message):
    path = write(plots_frame(prefix="E"), tmp_path, "gpkg")
    res = run("import", str(path), "--user", "kari", *args)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_cli_missing_crs_and_corrupt_file(run, tmp_path):
    csv = write(plots_frame(prefix="E"), tmp_path, "csv", 25833)
    res = run("import", str(csv), "--user", "kari")
    assert res.exit_code == 2 and "a CSV file carries no coordinate reference system" in res.output
    bad = tmp_path / "skadet.gpkg"
    bad.write_bytes(b"nope" * 100)
    res = run("import", str(bad), "--user", "kari")
    assert res.exit_code == 2 and "skadet.gpkg could not be read" in res.output


def test_cli_imports_a_sosi_plan_and_counts_the_skipped_areas(run, scratch_url, tmp_path):
    from tests.ingest.plans import Area, mixed_plan, sosi_plan

    path = sosi_plan(tmp_path, mixed_plan("CLI"), koordsys=22, epsg=25832)
    report = tmp_path / "plan.json"
    res = run("import", str(path), "--kommune", "3401", "--user", "kari",
              "--report", str(report))
    assert res.exit_code == 0, res.output
    assert "1 × 2011 Kjøreveg: ikke næringsareal" in res.output
    assert "Written: 2 created, 0 updated, 0 unchanged, 3 areas that are not business " \
           "land left out." in res.output
    created = [f for f in json.loads(report.read_text(encoding="utf-8"))["features"]
               if f["action"] == "create"]
    assert len(created) == 2 and all(f["plot_id"] for f in created)  # written after the import

    bad = sosi_plan(tmp_path, [Area(9999, "X", 0, lokalid="CLI-bad")], name="bad.sos")
    res = run("import", str(bad), "--kommune", "3401", "--user", "kari", "--allow-partial")
    assert res.exit_code == 2  # nothing good to write is a failure, --allow-partial or not
