"""road network (pgRouting) and per-plot drive times

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

Issue 13: drive times on the real road network.
- ``pgrouting``: Debian's postgresql-15-pgrouting, installed by scripts/pg.sh with PostGIS.
- ``road_vertex`` / ``road_edge``: the routable graph `landreg db prepare` loads from
  layers/road_network.yaml (link ends snapped into vertices; ``through`` false for private
  roads, which are kept for display but never routed along); ``main`` marks the vertices of
  the largest connected component, the only ones a plot may access the network at.
- ``route_target``: the points each drive-time target consists of (Gardermoen, stations,
  E16/Rv2 junctions …), each with its vertex and the seconds of its access leg.
- ``road_network_meta``: the version (content hash of YAML + source) of the loaded network.
- ``plot_reach``: minutes from each plot to each target, with the plot geometry's hash and the
  network version they were computed from, so stale rows are found in one query.
- ``enquiry.within_min`` / ``within_to``: an enquiry may ask for plots within N minutes' drive.
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    op.create_table(
        'road_network_meta',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.Text(), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint('id = 1', name='road_network_meta_single_row'),
    )
    op.create_table(
        'road_vertex',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('main', sa.Boolean(), nullable=False),
        sa.Column('geom', Geometry('POINT', srid=25833, spatial_index=False), nullable=False),
    )
    op.execute("CREATE INDEX ix_road_vertex_main_geom ON road_vertex USING gist (geom) "
               "WHERE main")
    op.create_table(
        'road_edge',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('source', sa.BigInteger(), nullable=False),
        sa.Column('target', sa.BigInteger(), nullable=False),
        sa.Column('cost', sa.Float(), nullable=False),
        sa.Column('length_m', sa.Float(), nullable=False),
        sa.Column('through', sa.Boolean(), nullable=False),
        sa.Column('category', sa.Text(), nullable=False),
        sa.Column('number', sa.Text(), nullable=False),
        sa.Column('road_type', sa.Text(), nullable=False),
        sa.Column('motorway', sa.Text(), nullable=False),
        sa.Column('geom', Geometry('LINESTRING', srid=25833, spatial_index=False),
                  nullable=False),
    )
    op.create_table(
        'route_target',
        sa.Column('target', sa.Text(), nullable=False),
        sa.Column('key', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('vertex_id', sa.BigInteger(), nullable=False),
        sa.Column('access_s', sa.Float(), nullable=False),
        sa.Column('geom', Geometry('POINT', srid=25833, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint('target', 'n'),
    )
    op.create_table(
        'plot_reach',
        sa.Column('plot_id', sa.BigInteger(), sa.ForeignKey('plot.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('target', sa.Text(), nullable=False),
        sa.Column('minutes', sa.Float(), nullable=True),
        sa.Column('geom_hash', sa.Text(), nullable=False),
        sa.Column('network_version', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('plot_id', 'target'),
    )
    op.create_index('ix_plot_reach_target_minutes', 'plot_reach', ['target', 'minutes'])
    op.add_column('enquiry', sa.Column('within_min', sa.Float(), nullable=True))
    op.add_column('enquiry', sa.Column('within_to', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('enquiry', 'within_to')
    op.drop_column('enquiry', 'within_min')
    op.drop_table('plot_reach')
    op.drop_table('route_target')
    op.drop_table('road_edge')
    op.drop_table('road_vertex')
    op.drop_table('road_network_meta')
    op.execute("DROP EXTENSION IF EXISTS pgrouting")
