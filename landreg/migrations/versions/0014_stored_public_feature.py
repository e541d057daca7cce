"""plot.feature_parts and plot.feature_geojson: the public feature, written when the plot is

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

Issue 14 (speed): the OGC API and /api/plots build each feature in SQL, and at 1,000
features PostgreSQL spent 20 of its 27 ms per page formatting the same 26 values into JSON
again on every request. Two STORED generated columns keep that text with the row, so every
write path (registry, import's INSERT … SELECT, withdrawal, raw SQL) rewrites it with the
values, by construction:

- ``feature_parts``: the public properties as three pieces of JSON members, written exactly as
  Python's json writes them (registry/search.py reads them): (id … kommunenummer),
  (area_daa, arealformal), (plan_status … description). Left out, and read live: the
  kommune's and the arealformål's names (other tables), ``updated_at`` (written in the
  reading session's time zone) and ``version``.
- ``feature_geojson``: the outline in CRS84 as the API writes it (7 decimals).

A generated column may not read another one, so ``area_daa`` is recomputed from ``geom``
(the same expression as its own column). The function's body is SQL-standard (BEGIN
ATOMIC): parsed once, with its PostGIS functions bound then, so a restore (which runs with
an empty search_path) computes the column too. The history trigger leaves both out of
``plot_version.attributes``: they are derived, like nothing a person changed.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PARTS_FUNCTION = """
CREATE FUNCTION plot_feature_parts(
    id bigint, external_ref text, name text, kommunenummer text, geom geometry,
    arealformal integer, plan_status text, plan_id text, plan_name text,
    plan_legal_status text, purpose_group text, availability text, road_access boolean,
    water_sewer boolean, power_capacity_mw float8, ownership text, price_nok_m2 numeric,
    max_bya_pct float8, max_height_m float8, contact text, description text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
SELECT ARRAY[
    '"id":' || coalesce(to_json(id)::text, 'null')
        || ',"external_ref":' || coalesce(to_json(external_ref)::text, 'null')
        || ',"name":' || coalesce(to_json(name)::text, 'null')
        || ',"kommunenummer":' || coalesce(to_json(kommunenummer)::text, 'null'),
    ',"area_daa":' || coalesce(CASE WHEN d = trunc(d) AND abs(d) < 1e15
                               THEN trunc(d)::bigint || '.0' ELSE d::text END, 'null')
        || ',"arealformal":' || coalesce(to_json(arealformal)::text, 'null'),
    ',"plan_status":' || coalesce(to_json(plan_status)::text, 'null')
        || ',"plan_id":' || coalesce(to_json(plan_id)::text, 'null')
        || ',"plan_name":' || coalesce(to_json(plan_name)::text, 'null')
        || ',"plan_legal_status":' || coalesce(to_json(plan_legal_status)::text, 'null')
        || ',"purpose_group":' || coalesce(to_json(purpose_group)::text, 'null')
        || ',"availability":' || coalesce(to_json(availability)::text, 'null')
        || ',"road_access":' || coalesce(to_json(road_access)::text, 'null')
        || ',"water_sewer":' || coalesce(to_json(water_sewer)::text, 'null')
        || ',"power_capacity_mw":' || coalesce(CASE WHEN power_capacity_mw = trunc(power_capacity_mw) AND abs(power_capacity_mw) < 1e15
                                   THEN trunc(power_capacity_mw)::bigint || '.0' ELSE power_capacity_mw::text END, 'null')
        || ',"byggeklar":' || coalesce(to_json(road_access AND water_sewer)::text, 'false')
        || ',"ownership":' || coalesce(to_json(ownership)::text, 'null')
        || ',"price_nok_m2":' || coalesce(CASE WHEN price_nok_m2::float8 = trunc(price_nok_m2::float8) AND abs(price_nok_m2::float8) < 1e15
                                   THEN trunc(price_nok_m2::float8)::bigint || '.0' ELSE price_nok_m2::float8::text END, 'null')
        || ',"max_bya_pct":' || coalesce(CASE WHEN max_bya_pct = trunc(max_bya_pct) AND abs(max_bya_pct) < 1e15
                                   THEN trunc(max_bya_pct)::bigint || '.0' ELSE max_bya_pct::text END, 'null')
        || ',"max_height_m":' || coalesce(CASE WHEN max_height_m = trunc(max_height_m) AND abs(max_height_m) < 1e15
                                   THEN trunc(max_height_m)::bigint || '.0' ELSE max_height_m::text END, 'null')
        || ',"contact":' || coalesce(to_json(contact)::text, 'null')
        || ',"description":' || coalesce(to_json(description)::text, 'null')]
FROM (SELECT round((ST_Area(geom) / 1000.0)::text::numeric, 3)::float8 AS d) AS area;
END;
"""
PARTS_ARGS = ("id, external_ref, name, kommunenummer, geom, arealformal, plan_status, plan_id, "
              "plan_name, plan_legal_status, purpose_group, availability, road_access, "
              "water_sewer, power_capacity_mw, ownership, price_nok_m2, max_bya_pct, "
              "max_height_m, contact, description")


def _record_version(left_out: str) -> str:
    """The history trigger's function (of 0012), leaving ``left_out`` out of attributes."""
    return (
        "CREATE OR REPLACE FUNCTION plot_record_version() "  # noqa: S608 - constant SQL
        "RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    INSERT INTO plot_version (plot_id, version, operation, changed_by, changed_at, "
        "attributes, geom, source)\n"
        "    VALUES (NEW.id, NEW.version, lower(TG_OP), NEW.updated_by, NEW.updated_at, "
        f"to_jsonb(NEW) - 'geom'{left_out}, NEW.geom, "
        "NULLIF(current_setting('landreg.change_source', true), ''));\n"
        "    RETURN NULL;\n"
        "END $$;")


def upgrade():
    op.execute(PARTS_FUNCTION)
    op.execute(_record_version(" - 'feature_parts' - 'feature_geojson'"))
    op.add_column('plot', sa.Column(
        'feature_parts', postgresql.ARRAY(sa.Text()),
        sa.Computed(f"plot_feature_parts({PARTS_ARGS})", persisted=True), nullable=True))
    op.add_column('plot', sa.Column(
        'feature_geojson', sa.Text(),
        sa.Computed("ST_AsGeoJSON(ST_Transform(geom, 4326), 7, 0)", persisted=True),
        nullable=True))


def downgrade():
    op.drop_column('plot', 'feature_geojson')
    op.drop_column('plot', 'feature_parts')
    op.execute(_record_version(""))
    op.execute("DROP FUNCTION plot_feature_parts")
