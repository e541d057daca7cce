"""Migrations up and down on a fresh database, and what the schema guarantees."""

from __future__ import annotations

from sqlalchemy import inspect, text

from landreg.db import current_revision, downgrade, get_engine, head_revision, migrate
from tests.conftest import create_database, drop_database

TABLES = {"municipality", "arealformal", "plot", "plot_version", "reference_feature"}


def test_migrations_up_down_up():
    url = create_database("landreg_migr")
    try:
        assert current_revision(url) is None
        migrate(url)
        assert current_revision(url) == head_revision(url)
        engine = get_engine(url)
        names = set(inspect(engine).get_table_names())
        assert TABLES <= names
        indexes = {i["name"] for i in inspect(engine).get_indexes("plot")}
        assert "idx_plot_geom" in indexes
        with engine.connect() as conn:
            n_codes = conn.execute(text("SELECT count(*) FROM arealformal")).scalar_one()
            groups = dict(conn.execute(text("SELECT code, purpose_group FROM arealformal")).all())
        assert n_codes >= 25
        assert groups[1340] == "industri" and groups[1350] == "lager_logistikk"
        assert groups[133] == "industri" and groups[1826] == "industri"
        downgrade(url)
        assert current_revision(url) is None
        assert not TABLES & set(inspect(get_engine(url)).get_table_names())
        migrate(url)
        assert current_revision(url) == head_revision(url)
    finally:
        drop_database(url)


def test_demo_region_loaded(session):
    rows = session.execute(text(
        "SELECT kommunenummer, name, round((ST_Area(geom) / 1e6)::numeric, 0) FROM municipality "
        "ORDER BY 1")).all()
    assert [r[0] for r in rows] == ["3401", "3414", "3415", "3416", "3417", "3418", "3419"]
    official_km2 = {"3401": 1037.0, "3414": 508.0, "3415": 517.1, "3416": 640.2, "3417": 836.9,
                    "3418": 1040.9, "3419": 705.3}
    for k, _name, km2 in rows:
        assert abs(float(km2) - official_km2[k]) / official_km2[k] < 0.005
    counts = dict(session.execute(text(
        "SELECT layer, count(*) FROM reference_feature GROUP BY layer")).all())
    assert counts["roads"] == 632 and counts["stations"] == 5 and counts["rail"] == 6
    per_kommune = dict(session.execute(text(
        "SELECT kommunenummer, count(*) FROM plot GROUP BY 1")).all())
    assert sum(per_kommune.values()) >= 80
    assert len(per_kommune) == 7 and min(per_kommune.values()) >= 6
    # every demo plot is fictitious, inside its kommune, and clear of lakes and rivers
    bad = session.execute(text(
        "SELECT count(*) FROM plot p JOIN municipality m USING (kommunenummer) "
        "WHERE NOT ST_Within(p.geom, m.geom) OR p.name NOT ILIKE '%fiktiv%' OR EXISTS ("
        " SELECT 1 FROM reference_feature r WHERE r.layer IN ('lakes', 'rivers')"
        " AND ST_Intersects(r.geom, p.geom))")).scalar_one()
    assert bad == 0


def test_area_is_generated_and_history_kept_by_the_database(session):
    # Even a raw SQL update (not through the registry) bumps the version and is recorded.
    pid, v = session.execute(text("SELECT id, version FROM plot ORDER BY id LIMIT 1")).one()
    session.execute(text("UPDATE plot SET availability = 'reservert', updated_by = 'sql' "
                         "WHERE id = :id"), {"id": pid})
    v2, area, st_area = session.execute(text(
        "SELECT version, area_daa, ST_Area(geom) / 1000 FROM plot WHERE id = :id"),
        {"id": pid}).one()
    assert v2 == v + 1
    assert area == st_area
    n = session.execute(text("SELECT count(*) FROM plot_version WHERE plot_id = :id"),
                        {"id": pid}).scalar_one()
    assert n == v2


def test_models_match_the_migrations(database_url):
    """Autogenerate finds nothing to do: the models and the migrations describe one schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from geoalchemy2 import alembic_helpers

    from landreg.models import Base

    with get_engine(database_url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_object": lambda o, n, t, r, c: n != "spatial_ref_sys"
            and alembic_helpers.include_object(o, n, t, r, c)})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_the_change_counter_migration_goes_down_and_up():
    """Down past the migration that lets the database move the change counter: its table,
    triggers and functions are gone and plots can still be written; up again, writes move it."""
    from alembic.script import ScriptDirectory

    from landreg.db import alembic_config

    url = create_database("landreg_migr_counter")
    try:
        migrate(url)
        script = ScriptDirectory.from_config(alembic_config(url))
        rev = next(s for s in script.walk_revisions() if "register_change" in s.path)
        downgrade(url, rev.down_revision)
        engine = get_engine(url)
        with engine.begin() as conn:
            assert "register_change" not in inspect(conn).get_table_names()
            assert not conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE '%register_change%' "
                "UNION SELECT proname FROM pg_proc WHERE proname LIKE 'register_change%'")).all()
            conn.execute(text("UPDATE plot SET name = name"))  # no trigger left half-way
        migrate(url)
        with engine.begin() as conn:
            before = conn.execute(text("SELECT version FROM register_change")).scalar_one()
            conn.execute(text("DELETE FROM reference_feature WHERE false"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM register_change")).scalar_one() \
                == before + 1
    finally:
        drop_database(url)
