"""``landreg db backup`` and ``landreg db restore``: backup → drop → restore gives back every
plot, version, user, enquiry and comparison, and an export of the register byte for byte."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from landreg.auth.users import add_user, create_token
from landreg.cli import main
from landreg.db import get_engine, migrate, session_scope
from landreg.demo.load import load_demo
from landreg.models import Comparison, Enquiry
from landreg.settings import Settings
from tests.conftest import _server_url, create_database, drop_database

TABLES = ("plot", "plot_version", "app_user", "api_token", "enquiry", "comparison",
          "municipality", "arealformal", "reference_feature", "alembic_version")


@pytest.fixture(scope="module")
def register() -> Iterator[str]:
    """A database with the demo region, a user, a token, an enquiry and a comparison."""
    url = create_database("landreg_backup")
    try:
        migrate(url)
        with session_scope(get_engine(url)) as s:
            load_demo(s, Settings().demo_gpkg)
            add_user(s, "kari", role="planner", kommuner=["3401"], password="k" * 16)
            create_token(s, "kari", "qgis")
            s.add(Enquiry(company="Sagbruk AS", email="post@sagbruk.no", profile="industry",
                          min_daa=20, consent=True, matches=[{"plot_id": 1}]))
            ids = s.execute(text("SELECT id FROM plot ORDER BY id LIMIT 3")).scalars().all()
            s.add(Comparison(name="Møte 12. mai", profile="logistics", plot_ids=list(ids),
                             created_by="kari", weights={"slope": 50, "dist_rail": 50}))
        yield url
    finally:
        drop_database(url)


def fingerprint(url: str) -> dict[str, tuple]:
    """Row count and an md5 over every row, per table."""
    with get_engine(url).connect() as c:
        return {t: tuple(c.execute(text(
            f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {t} t"
        )).one()) for t in TABLES}


def cli(url: str, *args: str, **env: str):
    return CliRunner().invoke(main, list(args), env={"LANDREG_DATABASE_URL": url, **env},
                              catch_exceptions=False)


def exports(url: str, folder: Path) -> dict[str, bytes]:
    out = {}
    folder.mkdir()
    for name in ("register.geojson", "register.csv"):
        res = cli(url, "export", str(folder / name), "--overwrite")
        assert res.exit_code == 0, res.output
        out[name] = (folder / name).read_bytes()
    return out


def recreate_empty(url: str) -> None:
    """Drop the database and create it again, empty (as `createdb` would)."""
    get_engine.cache_clear()
    name = make_url(url).database
    admin = create_engine(make_url(_server_url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def test_backup_drop_restore_gives_everything_back(register, tmp_path):
    before = fingerprint(register)
    assert all(before[t][0] > 0 for t in TABLES), before
    exported = exports(register, tmp_path / "before")

    res = cli(register, "db", "backup", LANDREG_BACKUP_DIR=str(tmp_path / "bk"))
    assert res.exit_code == 0, res.output
    [dump] = list((tmp_path / "bk").iterdir())
    assert dump.name.startswith("landreg-") and dump.suffix == ".dump"
    assert stat.S_IMODE(os.stat(dump).st_mode) == 0o600  # it holds password hashes

    recreate_empty(register)
    res = cli(register, "db", "restore", str(dump))
    assert res.exit_code == 0, res.output
    assert fingerprint(register) == before
    assert exports(register, tmp_path / "after") == exported


def test_restore_refuses_a_database_that_holds_data_unless_clean(register, tmp_path):
    dump = tmp_path / "r.dump"
    assert cli(register, "db", "backup", str(dump)).exit_code == 0
    before = fingerprint(register)
    with session_scope(get_engine(register)) as s:
        s.execute(text("UPDATE plot SET name = name || ' (endret)' WHERE id IN "
                       "(SELECT id FROM plot ORDER BY id LIMIT 5)"))
        s.execute(text("CREATE TABLE from_a_newer_migration (id int)"))
    changed = fingerprint(register)
    assert changed != before

    res = cli(register, "db", "restore", str(dump))
    assert res.exit_code != 0 and "not empty" in res.output and "--clean" in res.output
    assert fingerprint(register) == changed  # refused: nothing touched

    res = cli(register, "db", "restore", str(dump), "--clean")
    assert res.exit_code == 0, res.output
    assert fingerprint(register) == before
    with get_engine(register).connect() as c:
        assert c.execute(text("SELECT to_regclass('from_a_newer_migration')")).scalar() is None


def test_a_failed_restore_changes_nothing(register, tmp_path):
    bad = tmp_path / "broken.dump"
    good = tmp_path / "good.dump"
    assert cli(register, "db", "backup", str(good)).exit_code == 0
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])  # cut off half-way
    before = fingerprint(register)
    res = cli(register, "db", "restore", str(bad), "--clean")
    assert res.exit_code != 0
    assert fingerprint(register) == before
    res = cli(register, "db", "restore", str(tmp_path / "nothing.txt"))
    assert res.exit_code == 2  # click: no such file


def test_the_databases_owner_restores_without_being_superuser(register, tmp_path):
    """Production: the app's role owns the database, PostGIS was created by postgres."""
    dump = tmp_path / "owner.dump"
    assert cli(register, "db", "backup", str(dump)).exit_code == 0
    before = fingerprint(register)
    role, name = "landreg_owner_test", make_url(register).database + "_owned"
    admin = create_engine(make_url(_server_url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER"))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {role}'))
    owned = make_url(register).set(database=name)
    with create_engine(owned).begin() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
    owned = owned.set(username=role).render_as_string(hide_password=False)
    try:
        for args in (("db", "restore", str(dump)), ("db", "restore", str(dump), "--clean")):
            res = cli(owned, *args)
            assert res.exit_code == 0, res.output
            assert fingerprint(owned) == before
    finally:
        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
