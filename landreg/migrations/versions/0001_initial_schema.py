"""initial schema: municipalities, arealformal, plots, history, reference

Revision ID: 0001
Revises: 
Create Date: 2026-11-27

The register's first schema. Spatial columns are EPSG:25833; their GiST indexes are declared
once (GeoAlchemy2's alembic_helpers). Two triggers keep the history honest whatever writes the
row: every update bumps ``version`` and ``updated_at``, and every insert or update stores the
new version, whole, in ``plot_version``.
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('arealformal',
    sa.Column('code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name_nb', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('system', sa.Text(), nullable=False),
    sa.Column('purpose_group', sa.Text(), nullable=False),
    sa.CheckConstraint("purpose_group IN ('industri', 'lager_logistikk', 'kontor', 'handel', 'naering', 'kombinert', 'annen')", name=op.f('ck_arealformal_purpose_group')),
    sa.CheckConstraint("system IN ('rp', 'kp', 'rp+kp', 'pbl1985')", name=op.f('ck_arealformal_system')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_arealformal'))
    )
    op.create_geospatial_table('municipality',
    sa.Column('kommunenummer', sa.String(length=4), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kommunenummer_pre2020', sa.String(length=4), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=25833, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kommunenummer ~ '^[0-9]{4}$'", name=op.f('ck_municipality_kommunenummer_4')),
    sa.PrimaryKeyConstraint('kommunenummer', name=op.f('pk_municipality'))
    )
    op.create_geospatial_index('idx_municipality_geom', 'municipality', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('reference_feature',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('layer', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('geom', Geometry(srid=25833, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_feature'))
    )
    op.create_geospatial_index('idx_reference_feature_geom', 'reference_feature', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_reference_feature_layer'), 'reference_feature', ['layer'], unique=False)
    op.create_geospatial_table('plot',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_ref', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kommunenummer', sa.String(length=4), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=25833, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('area_daa', sa.Float(), sa.Computed('ST_Area(geom) / 1000.0', persisted=True), nullable=False),
    sa.Column('arealformal', sa.Integer(), nullable=False),
    sa.Column('plan_status', sa.Text(), nullable=False),
    sa.Column('plan_id', sa.Text(), nullable=True),
    sa.Column('purpose_group', sa.Text(), nullable=False),
    sa.Column('availability', sa.Text(), server_default='ledig', nullable=False),
    sa.Column('road_access', sa.Boolean(), nullable=True),
    sa.Column('water_sewer', sa.Boolean(), nullable=True),
    sa.Column('power_capacity_mw', sa.Float(), nullable=True),
    sa.Column('ownership', sa.Text(), nullable=True),
    sa.Column('price_nok_m2', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('max_bya_pct', sa.Float(), nullable=True),
    sa.Column('max_height_m', sa.Float(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('internal_notes', sa.Text(), nullable=True),
    sa.Column('published', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("availability IN ('ledig', 'reservert', 'under_forhandling', 'solgt', 'utbygd', 'trukket')", name=op.f('ck_plot_availability')),
    sa.CheckConstraint("ownership IS NULL OR ownership IN ('kommunal', 'privat', 'statlig', 'annen')", name=op.f('ck_plot_ownership')),
    sa.CheckConstraint("plan_status IN ('nåværende', 'framtidig')", name=op.f('ck_plot_plan_status')),
    sa.CheckConstraint("purpose_group IN ('industri', 'lager_logistikk', 'kontor', 'handel', 'naering', 'kombinert', 'annen')", name=op.f('ck_plot_purpose_group')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_plot_geom_valid')),
    sa.CheckConstraint('max_bya_pct IS NULL OR (max_bya_pct >= 0 AND max_bya_pct <= 100)', name=op.f('ck_plot_bya_pct')),
    sa.CheckConstraint('max_height_m IS NULL OR max_height_m > 0', name=op.f('ck_plot_height_pos')),
    sa.CheckConstraint('power_capacity_mw IS NULL OR power_capacity_mw >= 0', name=op.f('ck_plot_power_nonneg')),
    sa.CheckConstraint('price_nok_m2 IS NULL OR price_nok_m2 >= 0', name=op.f('ck_plot_price_nonneg')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_plot_version_pos')),
    sa.ForeignKeyConstraint(['arealformal'], ['arealformal.code'], name=op.f('fk_plot_arealformal_arealformal')),
    sa.ForeignKeyConstraint(['kommunenummer'], ['municipality.kommunenummer'], name=op.f('fk_plot_kommunenummer_municipality')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plot'))
    )
    op.create_geospatial_index('idx_plot_geom', 'plot', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('plot_version',
    sa.Column('plot_id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('operation', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=25833, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['plot_id'], ['plot.id'], name=op.f('fk_plot_version_plot_id_plot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plot_id', 'version', name=op.f('pk_plot_version'))
    )

    op.create_index("ix_plot_kommunenummer", "plot", ["kommunenummer"])
    op.create_index("ix_plot_availability", "plot", ["availability"])
    op.create_index("ix_plot_purpose_group", "plot", ["purpose_group"])
    op.create_index("uq_plot_kommune_external_ref", "plot", ["kommunenummer", "external_ref"],
                    unique=True, postgresql_where=sa.text("external_ref IS NOT NULL"))
    op.execute(PLOT_TRIGGERS)


PLOT_TRIGGERS = """
CREATE FUNCTION plot_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := clock_timestamp();
    NEW.created_at := OLD.created_at;
    NEW.created_by := OLD.created_by;
    RETURN NEW;
END $$;

CREATE FUNCTION plot_record_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plot_version (plot_id, version, operation, changed_by, changed_at, attributes, geom)
    VALUES (NEW.id, NEW.version, lower(TG_OP), NEW.updated_by, NEW.updated_at,
            to_jsonb(NEW) - 'geom', NEW.geom);
    RETURN NULL;
END $$;

CREATE TRIGGER plot_bump_version BEFORE UPDATE ON plot
    FOR EACH ROW EXECUTE FUNCTION plot_bump_version();
CREATE TRIGGER plot_record_version AFTER INSERT OR UPDATE ON plot
    FOR EACH ROW EXECUTE FUNCTION plot_record_version();
"""


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS plot_record_version ON plot")
    op.execute("DROP TRIGGER IF EXISTS plot_bump_version ON plot")
    op.execute("DROP FUNCTION IF EXISTS plot_record_version()")
    op.execute("DROP FUNCTION IF EXISTS plot_bump_version()")
    op.drop_geospatial_table('plot_version')
    op.drop_geospatial_index('idx_plot_geom', table_name='plot', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('plot')
    op.drop_index(op.f('ix_reference_feature_layer'), table_name='reference_feature')
    op.drop_geospatial_index('idx_reference_feature_geom', table_name='reference_feature', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('reference_feature')
    op.drop_geospatial_index('idx_municipality_geom', table_name='municipality', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('municipality')
    op.drop_table('arealformal')
